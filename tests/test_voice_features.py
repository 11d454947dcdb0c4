"""The voice of spec v3: eGeMAPS + prosody, measured against the speaker's own median — so the
microphone's gain and the speaker's pitch are not what it reads, and a session can re-base it."""

from __future__ import annotations

import numpy as np
import pytest

from msa_demo.features.audio import prosody, speech_span, voice_features
from msa_demo.features.egemaps import egemaps_lld
from msa_demo.features.spec import AUDIO_DIM, AUDIO_FEATURE_NAMES, EGEMAPS_NAMES
from msa_demo.features.voice_reference import RELATIVE, VoiceReference, combine, reference_of

from conftest import needs_shared


def _voice(y, reference=None):
    return voice_features(prosody(y), egemaps_lld(y), speech_span(y), len(y), reference)


@pytest.fixture(scope="module")
def speech(mosi_clips):
    from msa_demo.media import load_media

    return load_media(str(mosi_clips[3]), audio_only=True).audio


@needs_shared
def test_egemaps_frames_are_the_25_descriptors_every_10_ms(speech):
    lld = egemaps_lld(speech)
    assert lld.shape[1] == len(EGEMAPS_NAMES) == 25
    assert 0 <= len(speech) / 160 - len(lld) <= 7  # the last 60 ms F0 window ends with the audio
    f0 = lld[:, EGEMAPS_NAMES.index("F0semitoneFrom27.5Hz_sma3nz")]
    assert 0.2 < (f0 > 0).mean() < 0.95  # voiced and unvoiced frames both present in real speech
    assert egemaps_lld(np.zeros(100, np.float32)).shape == (0, 25)


@needs_shared
def test_the_voice_does_not_hear_the_microphone_gain(speech):
    """12 dB quieter: the raw loudness moves, the speaker-relative features hardly do."""
    loud, quiet = _voice(speech), _voice(speech * 0.25)
    j = AUDIO_FEATURE_NAMES.index("Loudness_sma3")
    observed = loud.features.mask & quiet.features.mask
    assert loud.raw[observed, j].mean() - quiet.raw[observed, j].mean() > 0.5  # log-loudness moved
    rel = np.abs(loud.features.values[observed][:, RELATIVE] - quiet.features.values[observed][:, RELATIVE])
    spread = loud.features.values[observed][:, RELATIVE].std(0) + 1e-6
    assert np.median(rel / spread) < 0.1


@needs_shared
def test_the_median_of_a_recording_against_itself_is_zero(speech):
    voice = _voice(speech)
    f = voice.features
    assert f.values.shape[1] == AUDIO_DIM and f.mask.any()
    for name in ("Loudness_sma3", "alphaRatio_sma3", "energy_db"):
        j = AUDIO_FEATURE_NAMES.index(name)
        assert abs(np.median(f.values[f.mask, j])) < 1e-5
    assert (f.values[~f.mask] == 0).all()


@needs_shared
def test_another_reference_shifts_the_levels_and_only_them(speech):
    voice = _voice(speech)
    shifted = VoiceReference(voice.reference.median + np.where(RELATIVE, 1.0, np.nan), voice.reference.steps)
    moved = voice.against(shifted)
    f = voice.features
    j = AUDIO_FEATURE_NAMES.index("Loudness_sma3")
    np.testing.assert_allclose(moved.values[f.mask, j], f.values[f.mask, j] - 1.0, atol=1e-5)
    share = AUDIO_FEATURE_NAMES.index("voiced_share")
    np.testing.assert_array_equal(moved.values[:, share], f.values[:, share])
    assert voice.against(None) is f
    # measured against its own reference, nothing moves
    np.testing.assert_allclose(voice.against(voice.reference).values, f.values, atol=1e-6)


def test_combine_weights_each_recording_by_its_steps():
    a = VoiceReference(np.array([1.0, np.nan]), np.array([10, 0]))
    b = VoiceReference(np.array([4.0, 2.0]), np.array([20, 5]))
    both = combine([a, None, b])
    assert both.median[0] == pytest.approx(3.0) and both.median[1] == pytest.approx(2.0)
    assert list(both.steps) == [30, 5]
    assert combine([]) is None
    again = VoiceReference.from_json(both.to_json())
    np.testing.assert_array_equal(again.steps, both.steps)


def test_a_reference_ignores_unvoiced_steps_for_pitch():
    values = np.zeros((6, AUDIO_DIM), np.float32)
    f0 = AUDIO_FEATURE_NAMES.index("log_f0")
    voiced = AUDIO_FEATURE_NAMES.index("voiced")
    values[:, f0] = [5.0, 5.0, 5.0, 1.0, 1.0, 1.0]
    values[:3, voiced] = 1.0  # the last three are unvoiced: their interpolated F0 is not pitch
    ref = reference_of(values, np.ones(6, bool))
    assert ref.median[f0] == pytest.approx(5.0) and ref.steps[f0] == 3
