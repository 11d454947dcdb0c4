"""The perturbations themselves (msa_demo/perturb/): each does to the media what its name says, at
the asked severity, the same way every time; the catalogue refuses what it cannot do; training's
voice augmentation still gives the waveforms its caches were made with."""

from __future__ import annotations

import numpy as np
import pytest

from msa_demo.errors import PerturbationError
from msa_demo.perturb import audio, text, video
from msa_demo.perturb.kinds import KINDS, get_kind, parse_severities

SR = 16_000


def _voice(seconds: float = 1.0, amplitude: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)
    tones = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 3300 * t)
    return (amplitude * envelope * tones).astype(np.float32)


def _power_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
def test_noise_is_added_at_the_asked_snr_and_seeded(colour):
    clean = _voice()
    for snr in (20.0, 5.0, 0.0):
        noisy = audio.noise(clean, colour, snr, seed=3)
        assert noisy.dtype == np.float32 and noisy.shape == clean.shape and np.abs(noisy).max() <= 1.0
        measured = _power_db(clean) - _power_db(noisy.astype(np.float64) - clean)
        assert measured == pytest.approx(snr, abs=0.05)
    np.testing.assert_array_equal(audio.noise(clean, colour, 10, 1), audio.noise(clean, colour, 10, 1))
    assert not np.array_equal(audio.noise(clean, colour, 10, 1), audio.noise(clean, colour, 10, 2))


def test_noise_colours_differ_in_where_their_power_lies():
    rng = np.random.default_rng(0)
    from msa_demo.perturb.dsp import coloured_noise

    def low_share(colour):
        spectrum = np.abs(np.fft.rfft(coloured_noise(SR, colour, rng))) ** 2
        return spectrum[:500].sum() / spectrum.sum()  # below 500 Hz
    assert low_share("white") < low_share("pink") < low_share("brown")


def test_band_limit_removes_what_lies_above_the_cut_off():
    clean = _voice()  # 220 Hz and 3.3 kHz
    cut = audio.band_limit(clean, 1000)
    spectrum = lambda y: np.abs(np.fft.rfft(y)) ** 2  # noqa: E731
    high = slice(3000, 3600)  # 1 Hz bins (1 s at 16 kHz)
    assert spectrum(cut)[high].sum() < 1e-4 * spectrum(clean)[high].sum()
    low = slice(200, 240)
    assert spectrum(cut)[low].sum() > 0.5 * spectrum(clean)[low].sum()
    np.testing.assert_allclose(audio.band_limit(clean, 8000), clean)


def test_clipping_flattens_more_of_the_wave_the_lower_the_level():
    clean = _voice()
    flat = []
    for level in (1.0, 0.5, 0.1):
        clipped = audio.clipping(clean, level)
        peak = np.abs(clipped).max()
        assert peak == pytest.approx(np.abs(clean).max(), rel=1e-5)  # brought back to the peak
        flat.append(np.mean(np.abs(clipped) >= 0.999 * peak))
    assert flat[0] < flat[1] < flat[2]


def test_reverb_rings_on_longer_as_rt60_grows():
    burst = np.zeros(SR, np.float32)
    burst[:1600] = np.random.default_rng(0).standard_normal(1600) * 0.1  # 0.1 s of sound, then quiet
    tails = []
    for rt60 in (0.1, 0.4, 0.8):
        out = audio.reverb(burst, rt60, seed=0).astype(np.float64)
        assert out.shape == burst.shape
        tails.append((out[4000:] ** 2).sum() / (out ** 2).sum())  # energy from 0.25 s on
    assert tails[0] < tails[1] < tails[2]


def _frames(n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 48, 64, 3), dtype=np.uint8)


def test_blur_removes_detail_more_as_sigma_grows():
    frames = _frames()
    detail = [np.abs(np.diff(video.blur(frames, s).astype(float), axis=2)).mean() for s in (0, 1, 4)]
    assert detail[0] > detail[1] > detail[2]
    np.testing.assert_array_equal(video.blur(frames, 0), frames)


@pytest.mark.parametrize("part", ["upper", "lower"])
def test_occlusion_covers_the_asked_share_of_the_face_box(part):
    frames = _frames(3)
    boxes = [(10, 8, 50, 40), None, (12, 10, 52, 42)]  # no face in frame 1: the nearest box is used
    covered = video.occlude(frames, boxes, part, 0.5)
    for i, (x0, y0, x1, y1) in enumerate([boxes[0], boxes[0], boxes[2]]):
        grey = np.all(covered[i] == 128, axis=2)
        rows = np.where(grey[:, x0:x1].all(axis=1))[0]
        assert len(rows) == round((y1 - y0) * 0.5)
        assert (rows.min() == y0) if part == "upper" else (rows.max() == y1 - 1)
        assert not grey[:, :x0].any() and not grey[:, x1:].any()  # nothing outside the face box


def test_low_light_darkens_in_proportion():
    frames = np.full((2, 20, 20, 3), 200, np.uint8)
    for level in (0.5, 0.1):
        assert video.low_light(frames, level).mean() == pytest.approx(200 * level, abs=1.0)


def test_dropped_frames_keep_about_the_asked_share_and_at_least_one():
    keep = video.dropped(2000, 0.25, seed=1)
    assert keep.mean() == pytest.approx(0.75, abs=0.03)
    assert video.dropped(5, 0.99, seed=0).sum() >= 1
    np.testing.assert_array_equal(video.dropped(50, 0.5, 4), video.dropped(50, 0.5, 4))


def test_word_errors_at_a_rate():
    words = " ".join(f"w{i}" for i in range(4000))
    assert text.word_errors(words, 0.0) == words
    changed = text.word_errors(words, 0.3, seed=2).split()
    survivors = set(changed) & set(words.split())
    error_rate = 1 - len(survivors) / 4000
    assert error_rate == pytest.approx(0.3, abs=0.03)
    assert len(changed) == pytest.approx(4000 * 0.85, rel=0.05)  # half the errors are deletions
    assert text.word_errors(words, 0.3, seed=2) == text.word_errors(words, 0.3, seed=2)
    assert all(w not in words.split() for w in text.word_errors(words, 1.0).split())


def test_the_catalogue_refuses_what_it_cannot_do():
    assert {k.modality for k in KINDS.values()} == {"audio", "visual", "text"}
    for kind in KINDS.values():
        assert parse_severities(kind, "") == list(kind.defaults)
        assert all(kind.low <= s <= kind.high for s in kind.defaults)
    assert parse_severities(get_kind("noise_pink"), "30, 10;0") == [30.0, 10.0, 0.0]
    with pytest.raises(PerturbationError, match="unknown perturbation"):
        get_kind("earthquake")
    with pytest.raises(PerturbationError, match="must lie in"):
        parse_severities(get_kind("blur"), "2, 500")
    with pytest.raises(PerturbationError, match="numbers"):
        parse_severities(get_kind("blur"), "two")
    with pytest.raises(PerturbationError, match="at most"):
        parse_severities(get_kind("blur"), ",".join(["1"] * 40))


def test_training_voice_augmentation_is_unchanged_by_the_shared_dsp():
    """training/voice_augment.py calls perturb/dsp.py; its variants must be the ones its caches
    were made with (numbers taken when the caches of spec msa-v2-8a786388 were extracted)."""
    from training.voice_augment import augment

    rng = np.random.default_rng(3)
    audio_in = (rng.standard_normal(SR * 2) * 0.1).astype(np.float32)
    expected = {0: (364.4680028791367, 198.88076158402652), 1: (-4.28830225139717, 253.53780289498314),
                5: (7.34644094171631, 177.4859406287763)}
    for seed, (total, energy) in expected.items():
        out = augment(audio_in, seed).astype(np.float64)
        assert (out.sum(), (out ** 2).sum()) == pytest.approx((total, energy), rel=1e-6, abs=1e-6)
