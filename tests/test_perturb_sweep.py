"""Perturbation sweeps on a real clip (msa_demo/perturb/sweep.py): the degraded modality is read
again from degraded media, the others keep their clean features, every point is a checked analysis
(baseline + contributions = score), and the kinds that cannot apply say why. No model score is
asserted: the shipped checkpoints change; the untrained zoo keeps these tests fast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import needs_face_model
from msa_demo.errors import PerturbationError
from msa_demo.perturb.sweep import perturb_input, perturbed_inputs, sweep_result
from msa_demo.session import extract_input

pytestmark = needs_face_model
CLIP = "0h-zjBukYpk_24.mp4"  # 1.4 s, "I mean that was impressive."


@pytest.fixture(scope="module")
def heard(pipeline, mosi_clips):
    """The clip with Whisper's transcript (so a noisy voice is transcribed again)."""
    return extract_input(pipeline, str(next(p for p in mosi_clips if p.name == CLIP)), None)


def _additive(result: dict) -> None:
    for p in result["points"] + [result["clean"]]:
        assert p["baseline"] + sum(p["contributions"].values()) == pytest.approx(p["score"], abs=1e-9)
    json.dumps(result)


def test_noise_re_reads_the_voice_and_the_words_and_keeps_the_face(pipeline, zoo, heard):
    kind, values, inputs = perturbed_inputs(pipeline, heard, "noise_pink", "20, -10")
    assert values == [20.0, -10.0] and len(inputs) == 2
    for x in inputs:
        assert x.features["visual"] is heard.features["visual"]
        assert x.features["audio"].values.shape[1] == heard.features["audio"].values.shape[1]
        assert not np.allclose(x.features["audio"].values, heard.features["audio"].values)
    assert not inputs[0].typed  # Whisper heard the noisy voice again
    result = sweep_result(kind, values, inputs, zoo, "late_fusion", heard)
    assert result["kind"] == "noise_pink" and [p["severity"] for p in result["points"]] == values
    _additive(result)


@pytest.mark.parametrize("name, severities", [("occlude_lower", "0.5"), ("drop_frames", "0.6")])
def test_face_perturbations_re_read_the_face_only(pipeline, zoo, heard, name, severities):
    kind, values, (variant,) = perturbed_inputs(pipeline, heard, name, severities)
    assert variant.features["audio"] is heard.features["audio"]
    assert variant.features["text"] is heard.features["text"] and variant.transcript == heard.transcript
    clean_visual, visual = heard.features["visual"], variant.features["visual"]
    if name == "drop_frames":
        assert len(visual.values) < len(clean_visual.values)
    else:
        assert visual.values.shape == clean_visual.values.shape
        assert not np.allclose(visual.values, clean_visual.values)
    _additive(sweep_result(kind, values, [variant], zoo, "midg", heard))


def test_word_errors_re_embed_the_words_only(pipeline, zoo, heard):
    kind, values, inputs = perturbed_inputs(pipeline, heard, "asr_errors", "0, 1")
    assert inputs[0].transcript == heard.transcript
    assert set(inputs[1].transcript.lower().split()).isdisjoint({"mean", "impressive."})
    assert inputs[1].features["audio"] is heard.features["audio"]
    _additive(sweep_result(kind, values, inputs, zoo, "derl", heard))


def test_what_cannot_apply_says_why(pipeline, zoo, generated):
    with pytest.raises(PerturbationError, match="no picture"):
        perturb_input(pipeline, zoo, str(generated["tone"]), "hello there", "midg", "blur", "2")
    with pytest.raises(PerturbationError, match="video or audio file"):
        perturb_input(pipeline, zoo, None, "hello there", "midg", "noise_white", "")
    with pytest.raises(PerturbationError, match="unknown perturbation"):
        perturb_input(pipeline, zoo, None, "hello there", "midg", "hail", "")


def test_typed_text_sweep_is_the_endpoints_json(pipeline, zoo):
    result = perturb_input(pipeline, zoo, None, "what a wonderful film, i loved every minute", "mmmie",
                           "asr_errors", "")
    assert {"kind", "points", "clean", "unit", "worse", "model"} <= set(result)
    assert len(result["points"]) == 5 and result["points"][0]["transcript"] == result["clean"]["transcript"]
    for p in result["points"]:
        assert p["contributions"]["audio"] == 0.0 and p["contributions"]["visual"] == 0.0
    _additive(result)
