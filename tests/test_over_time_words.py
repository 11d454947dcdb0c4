"""Sentiment over time (msa_demo/over_time.py) and word attribution (msa_demo/word_attribution.py):
the windows cover the input, each window is a checked analysis of exactly its steps, a window holding
the whole input scores as the whole input; one attribution per word, equal to the drop in the text's
Shapley contribution when the word is left out. No model score is asserted."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import needs_face_model
from msa_demo.analysis import analyze_features
from msa_demo.features.spec import FEATURE_DIMS
from msa_demo.features.types import ModalityFeatures
from msa_demo.over_time import duration_of, over_time, window_features, windows
from msa_demo.word_attribution import transcript_words, word_attributions

pytestmark = pytest.mark.usefixtures("one_thread")


def _steps(m: str, n: int, rate: float = 10.0, face_until: float | None = None) -> ModalityFeatures:
    rng = np.random.default_rng(len(m) + n)
    start = np.arange(n) / rate
    mask = np.ones(n, bool) if face_until is None else start < face_until
    times = np.stack([start, start + 1 / rate], 1)
    return ModalityFeatures(rng.standard_normal((n, FEATURE_DIMS[m])), mask, times)


def _text(n_words: int, timed: bool) -> ModalityFeatures:
    """[CLS] w1 … wn [SEP]; word k said at k … k+0.5 s (or no times: typed)."""
    n = n_words + 2
    times = np.full((n, 2), np.nan)
    if timed:
        times[1:-1] = np.stack([np.arange(n_words), np.arange(n_words) + 0.5], 1)
    values = np.random.default_rng(n).standard_normal((n, FEATURE_DIMS["text"]))
    return ModalityFeatures(values, np.ones(n, bool), times)


def test_windows_cover_the_input():
    assert windows(0.0) == [] and windows(1.4) == [(0.0, 1.4)] and windows(3.0) == [(0.0, 3.0)]
    w = windows(12.3)
    assert w[0] == (0.0, 3.0) and w[-1][1] == pytest.approx(12.3) and len(w) == 11
    assert all(b - a <= 3.0 + 1e-9 for a, b in w)
    assert all(w[i + 1][0] - w[i][0] == 1.0 for i in range(len(w) - 1))


def test_a_window_holds_its_steps_and_the_words_said_in_it():
    features = {"audio": _steps("audio", 60), "visual": _steps("visual", 60), "text": _text(6, timed=True)}
    part = window_features(features, 2.0, 5.0)
    assert len(part["audio"].values) == 30 and part["audio"].times[:, 0].min() >= 2.0 - 1e-6
    words = part["text"].times
    timed = np.isfinite(words).all(1)
    assert sorted(words[timed, 0].tolist()) == [2.0, 3.0, 4.0] and (~timed).sum() == 2  # + [CLS], [SEP]
    assert "text" not in window_features(features, 6.5, 9.0)  # no words said then
    typed = window_features({"text": _text(3, timed=False)}, 6.5, 9.0)
    assert len(typed["text"].values) == 5  # no times: the whole text everywhere
    assert duration_of(features) == pytest.approx(6.0)


def test_each_window_is_a_checked_analysis(zoo):
    features = {"audio": _steps("audio", 80), "visual": _steps("visual", 80, face_until=4.0),
                "text": _text(8, timed=True)}
    rows = over_time(features, zoo.get("midg"), 8.0)
    assert len(rows) == 6
    for r in rows:
        assert r["baseline"] + sum(r["contributions"].values()) == pytest.approx(r["score"], abs=1e-9)
        if r["start"] >= 4.0:  # no face after 4 s: its contribution there is exactly 0
            assert r["contributions"]["visual"] == 0.0
    assert len({round(r["score"], 9) for r in rows}) > 1


@pytest.mark.parametrize("name", ["late_fusion", "midg", "derl", "misr", "mmmie"])
def test_one_batched_pass_explains_each_input_as_its_own_analysis_does(zoo, name):
    from msa_demo.analysis import explained_scores
    from msa_demo.over_time import window_features

    features = {"audio": _steps("audio", 80), "visual": _steps("visual", 80, face_until=4.0),
                "text": _text(8, timed=True)}
    inputs = [window_features(features, start, start + 3.0) for start in range(6)]
    batched = explained_scores(inputs, zoo.get(name))
    for one, alone in zip(batched, (analyze_features(f, zoo.get(name)) for f in inputs)):
        assert one["score"] == pytest.approx(alone["score"], abs=1e-5)
        assert one["baseline"] == pytest.approx(alone["baseline"], abs=1e-5)
        for m, value in alone["contributions"].items():
            assert one["contributions"][m] == pytest.approx(value, abs=1e-5)


@pytest.mark.parametrize("name", ["late_fusion", "derl"])
def test_a_short_input_is_one_window_that_scores_as_the_whole(zoo, name):
    features = {"audio": _steps("audio", 28), "visual": _steps("visual", 28), "text": _text(3, timed=True)}
    (row,) = over_time(features, zoo.get(name), 2.8)
    assert (row["start"], row["end"]) == (0.0, 2.8)
    assert row["score"] == pytest.approx(analyze_features(features, zoo.get(name))["score"], abs=1e-9)


def test_typed_text_alone_has_no_time():
    assert over_time({"text": _text(3, timed=False)}, None, 0.0) == []


def test_each_word_is_the_drop_in_the_texts_part_without_it(pipeline, zoo):
    encode = pipeline.text_featurizer().encode_batch
    model = zoo.get("mmmie")
    text = "what a wonderful film"
    features = {"text": encode([text])[0], "audio": _steps("audio", 20)}
    entries = word_attributions(features, model, text, encode)
    assert [e["word"] for e in entries] == text.split()
    assert all(e["start"] is None and e["end"] is None for e in entries)  # typed: no times

    def text_part(t):
        feats = {**features, "text": encode([t])[0]} if t else {"audio": features["audio"]}
        return analyze_features(feats, model)["contributions"]["text"]
    full = text_part(text)
    for i, e in enumerate(entries):
        without = " ".join(text.split()[:i] + text.split()[i + 1:])
        assert e["value"] == pytest.approx(full - text_part(without), abs=1e-6)
    assert any(abs(e["value"]) > 0 for e in entries)


def test_a_text_encoder_that_ignores_words_gives_every_word_zero(pipeline, zoo):
    same = pipeline.text_featurizer().encode_batch(["a fixed sentence"])[0]
    model = zoo.get("midg")
    entries = word_attributions({"text": same}, model, "i loved it", lambda texts: [same] * len(texts))
    assert [e["value"] for e in entries] == [0.0, 0.0, 0.0]
    assert [e["value"] for e in word_attributions({"text": same}, model, "i loved it", None)] == [None] * 3


def test_whisper_words_keep_their_times():
    from msa_demo.asr import Word

    words = [Word(" I", 0.0, 0.2), Word(" loved", 0.2, 0.6), Word(" it.", 0.6, 0.9)]
    assert transcript_words("I loved it.", words) == [("I", 0.0, 0.2), ("loved", 0.2, 0.6), ("it.", 0.6, 0.9)]
    assert transcript_words("I liked it.", words)[1] == ("liked", None, None)  # edited: no times


@needs_face_model
def test_the_analysis_json_has_both(pipeline, zoo, mosi_clips):
    from msa_demo.session import analyze_input

    clip = next(p for p in mosi_clips if p.name == "0h-zjBukYpk_24.mp4")
    result = analyze_input(pipeline, zoo, str(clip), None, "late_fusion")
    assert len(result["over_time"]) >= 1 and result["over_time"][-1]["end"] == pytest.approx(1.4, abs=0.15)
    words = result["word_attributions"]
    assert [w["word"] for w in words] == result["transcript"].split()
    assert all(0.0 <= w["start"] <= w["end"] <= 1.6 and w["value"] is not None for w in words)
