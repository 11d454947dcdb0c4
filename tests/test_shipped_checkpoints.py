"""The checkpoints in checkpoints/ are the trained models their cards describe, not a silent fallback
to random weights (which the zoo takes, with only a notice, when a file is missing or unusable).

Without ../shared: each one loads as trained, and tells plain praise from plain complaint (sentences
written here, so no corpus text is committed); random weights cannot (measured: their mean gap is
±0.04 and they put all 20 sentences on one side). With ../shared: each reproduces its card's MOSI
test metrics on the 686 test transcripts, to 1e-3.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import ROOT, SHARED
from msa_demo.error_analysis.evaluation import corpus_metrics, predict
from msa_demo.features.spec import FEATURE_SPEC_ID
from msa_demo.models import collate, list_models
from msa_demo.zoo import ModelZoo

pytestmark = pytest.mark.usefixtures("one_thread")

PRAISE = ["i loved it, it was wonderful", "what a great film, the acting was brilliant",
          "this is the best thing i have seen all year", "i really enjoyed it, beautiful and funny",
          "an amazing story, i would watch it again", "fantastic, i was so happy with it",
          "the music was lovely and the ending perfect", "i liked it a lot, it made me smile",
          "excellent work, really impressive", "a delightful movie, highly recommended"]
COMPLAINT = ["i hated it, it was awful", "what a terrible film, the acting was horrible",
             "this is the worst thing i have seen all year", "i really disliked it, boring and stupid",
             "a dreadful story, i would never watch it again", "disappointing, i was so angry with it",
             "the music was annoying and the ending a mess", "i did not like it at all, it made me sad",
             "poor work, really bad", "a painful movie, a complete waste of time"]
MOSI_LABELS = SHARED / "data" / "mosi" / "MOSI-label.csv"


@pytest.fixture(scope="module")
def shipped() -> ModelZoo:
    return ModelZoo(ROOT / "checkpoints")


@pytest.fixture(scope="module")
def text_encoder():
    from msa_demo.features.text import TextFeaturizer

    return TextFeaturizer()


def _scores(model, encoder, texts: list[str]) -> np.ndarray:
    features = encoder.encode_batch(texts)
    return predict(model, [collate([{"text": f} for f in features])])


@pytest.mark.parametrize("name", list_models())
def test_each_checkpoint_loads_as_a_trained_model(shipped, name):
    assert shipped.checkpoint_path(name) == ROOT / "checkpoints" / f"{name}.safetensors"
    assert shipped.trained(name) and shipped.notice(name) is None, shipped.notice(name)
    card = shipped.card(name)
    assert card["model"] == name and card["feature_spec_id"] == FEATURE_SPEC_ID
    assert {"mosi", "meld", "ravdess", "fer2013"} <= set(card["metrics"]["test"])


@pytest.mark.parametrize("name", list_models())
def test_each_checkpoint_tells_praise_from_complaint(shipped, text_encoder, name):
    praise = _scores(shipped.get(name), text_encoder, PRAISE)
    complaint = _scores(shipped.get(name), text_encoder, COMPLAINT)
    assert (praise > 0).sum() >= 9 and (complaint < 0).sum() >= 9, (praise.round(2), complaint.round(2))
    assert praise.mean() - complaint.mean() > 1.5


def test_random_weights_would_fail_the_check_above(zoo, text_encoder):
    """`zoo` is the untrained fallback: the check must be one it cannot pass."""
    for name in list_models():
        praise = _scores(zoo.get(name), text_encoder, PRAISE)
        complaint = _scores(zoo.get(name), text_encoder, COMPLAINT)
        passes = (praise > 0).sum() >= 9 and (complaint < 0).sum() >= 9 and praise.mean() - complaint.mean() > 1.5
        assert not passes, name


@pytest.mark.slow
@pytest.mark.skipif(not MOSI_LABELS.is_file(), reason=f"{MOSI_LABELS} is absent")
def test_each_checkpoint_reproduces_its_cards_mosi_test_metrics(shipped, text_encoder):
    with open(MOSI_LABELS, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["mode"] == "test"]
    assert len(rows) == 686
    features = text_encoder.encode_batch([r["text"] for r in rows])
    label = np.array([float(r["label"]) for r in rows])
    order = np.argsort([len(f.values) for f in features], kind="stable")  # little padding
    batches = [collate([{"text": features[i]} for i in order[k:k + 256]]) for k in range(0, len(order), 256)]
    for name in list_models():
        got = corpus_metrics("mosi", predict(shipped.get(name), batches), label[order])
        card = shipped.card(name)["metrics"]["test"]["mosi"]
        for metric in ("mae", "acc2_non0", "corr"):
            assert got[metric] == pytest.approx(card[metric], abs=1e-3), (name, metric)
