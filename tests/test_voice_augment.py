"""Training's waveform variants (training/voice_augment.py) and which items get them."""

import numpy as np

from media_factory import tone
from msa_demo.corpora import CorpusItem
from training.extract import with_voice_variants
from training.voice_augment import add_noise, augment, speed


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
             CorpusItem("c", "test", 1.0, media="c.flac"), CorpusItem("d", "train", 1.0, text="words")]
    out = with_voice_variants(items, 2)
    assert [i.id for i in out] == ["a", "b", "c", "d", "a~aug1", "a~aug2"]
    assert [i.augment for i in out[-2:]] == [1, 2] and all(i.split == "train" for i in out[-2:])
    assert with_voice_variants(items, 0) == items
