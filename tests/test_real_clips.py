"""The shipped default model on real people: the 4 shared CMU-MOSI clips with Whisper's transcripts.

The minimum the product promises (issue: models that hold on real people): polarity-3 right on at
least 3 of the 4 clips, as the app scores them (the out-of-distribution guard on, its default), and a
voice that does not read every speaker the same way (the model's own voice-only scores, guard off,
are not all of one sign, and their mean is within ±0.3). The clips are MOSI training items, so the text is in-sample;
`python -m training.real_clips` prints the full table, degraded audio included.
"""

import numpy as np
import pytest

from conftest import ROOT, needs_face_model
from msa_demo.corpora.labels import polarity3


@pytest.fixture(scope="module")
def results(pipeline, mosi_clips):
    """[(label, analysis as the app gives it, analysis without the guard)] for the 4 clips."""
    from msa_demo.analysis import analyze_features
    from msa_demo.features.spec import FEATURE_SPEC_ID
    from msa_demo.models.ood import OODGuard, guard_path
    from msa_demo.session import extract_input
    from msa_demo.zoo import ModelZoo
    from training.real_clips import labelled_clips

    zoo = ModelZoo(ROOT / "checkpoints")
    name = zoo.default_name()
    assert zoo.trained(name) and zoo.notice(name) is None, "the shipped default checkpoint must load"
    guard = OODGuard.load(guard_path(ROOT / "checkpoints", FEATURE_SPEC_ID), spec_id=FEATURE_SPEC_ID)
    out = []
    for path, label in labelled_clips():
        extracted = extract_input(pipeline, str(path))
        assert all(f.present for f in extracted.features.values()), path.name
        out.append((label, analyze_features(extracted.features, zoo.get(name), guard=guard),
                    analyze_features(extracted.features, zoo.get(name), guard=None)))
    return out


@needs_face_model
def test_default_model_gets_the_polarity_of_most_real_clips(results):
    right = [polarity3(app["score"]) == polarity3(label) for label, app, _ in results]
    assert sum(right) >= 3, [(label, round(app["score"], 2)) for label, app, _ in results]


@needs_face_model
def test_the_voice_does_not_read_every_speaker_the_same(results):
    """The model's own voice (guard off): not one sign for everyone, and no bias: the mean of the 4
    voice-only scores within ±0.3 (a voice that cannot tell should say about nothing)."""
    voice = np.array([own["subsets"]["audio"] for _, _, own in results])
    assert (voice > 0).any() and (voice < 0).any(), voice.round(2)
    assert abs(voice.mean()) <= 0.3, voice.round(2)
