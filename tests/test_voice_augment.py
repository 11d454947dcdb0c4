"""Training's waveform variants (training/voice_augment.py) and which items get them."""

import numpy as np

from media_factory import tone
from msa_demo.corpora import CorpusItem
from training.extract import with_voice_variants
from training.voice_augment import CROSSFADE, add_noise, augment, scramble_content, speed


def _speechlike(seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(3)
    envelope = np.repeat(rng.uniform(0.1, 1.0, int(seconds * 8)), 2000)[: int(seconds * 16_000)]
    return (tone(seconds, amplitude=0.3) * envelope).astype(np.float32)


def test_a_seed_gives_one_variant_and_seeds_differ():
    audio = _speechlike()
    a, again, other = augment(audio, 7), augment(audio, 7), augment(audio, 8)
    np.testing.assert_array_equal(a, again)
    assert a.shape != other.shape or not np.allclose(a, other)
    for variant in (a, other):
        assert 0.9 * len(audio) <= len(variant) <= 1.12 * len(audio) and variant.dtype == np.float32
        assert np.isfinite(variant).all() and np.abs(variant).max() <= 1.0
        assert variant.shape != audio.shape or not np.allclose(variant, audio)


def test_speed_moves_pitch_and_length_together():
    sr, f0 = 16_000, 200.0
    audio = np.sin(2 * np.pi * f0 * np.arange(sr) / sr)
    rates = set()
    for seed in range(12):
        out = speed(audio, np.random.default_rng(seed))
        rate = len(audio) / len(out)
        spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
        heard = np.argmax(spectrum) * sr / len(out)
        assert 0.89 < rate < 1.12 and abs(heard - f0 * rate) < 2.0, (rate, heard)
        rates.add(round(rate, 3))
    assert len(rates) >= 3  # the rate is drawn, not fixed


def test_noise_is_added_at_the_asked_snr():
    audio = _speechlike().astype(np.float64)
    for snr in (5.0, 20.0):
        noisy = add_noise(audio, np.random.default_rng(0), snr)
        noise = noisy - audio
        measured = 10 * np.log10((audio**2).mean() / (noise**2).mean())
        assert abs(measured - snr) < 0.01


def test_only_training_items_with_media_get_variants():
    items = [CorpusItem("a", "train", 1.0, media="a.flac"), CorpusItem("b", "valid", 1.0, media="b.flac"),
             CorpusItem("c", "test", 1.0, media="c.flac"), CorpusItem("d", "train", 1.0, text="words"),
             CorpusItem("e", "train", -1.0, media="e.flac")]
    out = with_voice_variants(items, 2)
    assert [i.id for i in out] == ["a", "b", "c", "d", "e", "a~aug1", "a~aug2", "e~aug1", "e~aug2"]
    assert [i.augment for i in out[-4:]] == [1, 2, 1, 2] and all(i.split == "train" for i in out[-4:])
    assert not any(i.scramble for i in out)
    assert with_voice_variants(items, 0) == items


def test_scrambled_variants_come_after_the_others_so_a_cache_keeps_its_shards():
    items = [CorpusItem("a", "train", 1.0, media="a.flac"), CorpusItem("e", "train", -1.0, media="e.flac")]
    out = with_voice_variants(items, 2, scrambled=1)
    assert out[:6] == with_voice_variants(items, 2)
    assert [(i.id, i.augment, i.scramble) for i in out[6:]] == [("a~scr1", 3, True), ("e~scr1", 3, True)]


def _syllables(seconds: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """0.5 s of silence, then `seconds` of 'syllables' whose pitch rises step by step (so their
    order can be read back), then 0.5 s of silence; and the pitch of each 0.25 s syllable."""
    sr = 16_000
    pitches = 150.0 + 25.0 * np.arange(int(seconds * 4))
    t = np.arange(sr // 4) / sr
    window = np.hanning(len(t))
    speech = np.concatenate([0.5 * np.sin(2 * np.pi * f * t) * window for f in pitches])
    silence = np.zeros(sr // 2)
    return np.concatenate([silence, speech, silence]).astype(np.float32), pitches


def _pitch_track(y: np.ndarray, start: int, end: int, hop: int = 1600) -> list[float]:
    sr = 16_000
    track = []
    for a in range(start, end - hop, hop):
        frame = y[a:a + hop] * np.hanning(hop)
        if np.abs(frame).max() > 0.05:
            track.append(np.argmax(np.abs(np.fft.rfft(frame, 8 * hop))) * sr / (8 * hop))
    return track


def test_scrambling_reorders_the_speech_and_keeps_its_sound_and_the_silence():
    audio, _ = _syllables()
    out = scramble_content(audio, seed=5)
    np.testing.assert_array_equal(out, scramble_content(audio, seed=5))
    assert out.dtype == np.float32 and abs(len(out) - len(audio)) <= 20 * CROSSFADE
    assert np.abs(out[:6000]).max() < 1e-6 and np.abs(out[-4000:]).max() < 1e-6  # silence stays put
    before, after = _pitch_track(audio, 8000, len(audio) - 8000), _pitch_track(out, 8000, len(out) - 8000)
    assert np.all(np.diff(before) >= 0)  # the original rises step by step …
    assert np.sum(np.diff(after) < -10) >= 2  # … the scrambled one goes up and down
    assert abs(np.median(after) - np.median(before)) < 30 and min(after) > 140 and max(after) < 345
    rms = lambda y: np.sqrt((y.astype(np.float64) ** 2).mean())  # noqa: E731
    assert abs(rms(out) / rms(audio) - 1) < 0.1


def test_scrambling_a_sound_too_short_to_cut_returns_it_unchanged():
    audio = (0.3 * np.sin(2 * np.pi * 200 * np.arange(1600) / 16_000)).astype(np.float32)
    np.testing.assert_array_equal(scramble_content(audio, seed=1), audio)
