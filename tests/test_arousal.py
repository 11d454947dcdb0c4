"""How strongly: the arousal readers beside the valence, and the Live tab's session voice baseline."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED, needs_shared
from msa_demo.arousal import ArousalReader, clip_statistics, default_reader
from msa_demo.corpora.labels import emotion_arousal
from msa_demo.features.spec import AUDIO_DIM, VISUAL_DIM
from msa_demo.features.types import ModalityFeatures

RAVDESS = SHARED / "data" / "ravdess"
needs_ravdess = pytest.mark.skipif(not RAVDESS.is_dir(), reason=f"{RAVDESS} is absent")


def _features(n, dim, seed=0):
    rng = np.random.default_rng(seed)
    return ModalityFeatures(rng.standard_normal((n, dim)), np.ones(n, bool), np.zeros((n, 2)))


def test_the_mapping_follows_the_circumplex_in_every_spelling():
    assert [emotion_arousal(e) for e in ("calm", "neutral", "sad", "sadness")] == [0, 0, 0, 0]
    assert [emotion_arousal(e) for e in ("angry", "anger", "fear", "happy", "joy", "surprise", "disgust")] == [1] * 7
    with pytest.raises(KeyError):
        emotion_arousal("bored")


def test_clip_statistics_need_enough_speech():
    assert clip_statistics(_features(3, AUDIO_DIM), "audio") is None  # under half a second
    assert clip_statistics(ModalityFeatures.absent(AUDIO_DIM), "audio") is None
    stats = clip_statistics(_features(40, AUDIO_DIM), "audio")
    assert stats.shape == (4 * AUDIO_DIM,) and np.isfinite(stats).all()
    assert clip_statistics(_features(1, VISUAL_DIM), "visual").shape == (VISUAL_DIM,)


def test_the_shipped_reader_is_for_this_spec_and_says_what_it_read():
    reader = default_reader()
    assert reader is not None, "checkpoints/arousal.safetensors for the running feature spec"
    out = reader.read({"audio": _features(40, AUDIO_DIM), "visual": ModalityFeatures.absent(VISUAL_DIM)})
    assert out["face"] is None and 0.0 <= out["voice"]["high"] <= 1.0
    assert out["voice"]["label"] == ("high" if out["voice"]["high"] >= 0.5 else "low")
    assert out["voice"]["steps"] == 40 and out["voice"]["trained_on"] == "ravdess"


@needs_ravdess
def test_an_angry_voice_reads_more_aroused_than_a_calm_one(pipeline):
    """Test actors 19 and 20, both sentences: strong anger above calm, every time (the reader never
    saw these actors; each voice measured against itself, as one upload is)."""
    reader = ArousalReader.load()
    pairs = []
    for actor in (19, 20):
        for statement in ("01", "02"):
            angry = RAVDESS / f"Actor_{actor}" / f"03-01-05-02-{statement}-01-{actor}.flac"
            calm = RAVDESS / f"Actor_{actor}" / f"03-01-02-01-{statement}-01-{actor}.flac"
            p = [reader.read({"audio": pipeline.extract(str(f), transcript="x").audio})["voice"]["high"]
                 for f in (angry, calm)]
            pairs.append(p)
    assert all(a > c for a, c in pairs), pairs


@needs_shared
def test_the_analysis_json_carries_arousal_and_the_session_baseline_moves_only_the_voice(pipeline, mosi_clips):
    from msa_demo.session import explain, extract_input, with_session_baseline
    from msa_demo.zoo import ModelZoo
    from conftest import ROOT

    zoo = ModelZoo(ROOT / "checkpoints")
    first = extract_input(pipeline, str(mosi_clips[1]), transcript="one")
    second = extract_input(pipeline, str(mosi_clips[3]), transcript="two")
    result = explain(second, zoo, zoo.default_name())
    assert result["arousal"]["voice"] is not None and result["voice_baseline"] == "own"
    text_only = explain(extract_input(pipeline, None, transcript="fine"), zoo, zoo.default_name())
    assert text_only["arousal"]["voice"] is None and text_only["arousal"]["face"] is None

    alone, session, n = with_session_baseline(first, None, 0)
    assert alone is first and n == 1  # the first recording: against itself
    again, session2, n2 = with_session_baseline(second, session, n)
    assert n2 == 2 and again.voice_baseline == "session:2" and any("2 recordings" in x for x in again.notices)
    assert again.features["text"] is second.features["text"] and again.features["visual"] is second.features["visual"]
    moved = np.abs(again.features["audio"].values - second.features["audio"].values).max()
    assert moved > 0.01  # another speaker's median: the levels move
    np.testing.assert_array_equal(again.features["audio"].mask, second.features["audio"].mask)
