"""The perturbation catalogue: each kind's modality, severity unit, default severities, valid range
and which way is worse. Severities are in each kind's own unit (dB, seconds, Hz, pixels, shares), so
the panel's axis reads as what was done; `worse` says whether a larger number is a worse input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import PerturbationError
from . import audio, text, video


@dataclass(frozen=True)
class Kind:
    name: str
    modality: str  # "audio", "visual" or "text": what is degraded and re-extracted
    label: str
    unit: str
    defaults: tuple[float, ...]
    low: float
    high: float
    worse: str  # "higher" or "lower": which severities are the worse input
    apply: Callable  # audio: (samples, s, seed); visual: (frames, s, seed, boxes); text: (str, s, seed)


def _noise(colour):
    return lambda y, s, seed: audio.noise(y, colour, s, seed)


def _occlusion(part):
    return lambda frames, s, seed, boxes: video.occlude(frames, boxes, part, s)


KINDS: dict[str, Kind] = {k.name: k for k in [
    *[Kind(f"noise_{c}", "audio", f"{c} noise", "SNR (dB)", (30, 20, 10, 5, 0), -20, 60, "lower", _noise(c))
      for c in ("white", "pink", "brown")],
    Kind("reverb", "audio", "reverb", "RT60 (s)", (0.2, 0.5, 1.0, 2.0), 0.01, 5, "higher",
         lambda y, s, seed: audio.reverb(y, s, seed)),
    Kind("band_limit", "audio", "band-limiting (low-pass)", "cut-off (Hz)", (8000, 4000, 2000, 1000, 500),
         100, 8000, "lower", lambda y, s, seed: audio.band_limit(y, s)),
    Kind("clipping", "audio", "clipping", "clip level (share of the peak)", (1.0, 0.5, 0.2, 0.1, 0.05),
         0.01, 1, "lower", lambda y, s, seed: audio.clipping(y, s)),
    Kind("blur", "visual", "face blur", "Gaussian sigma (px)", (0, 2, 4, 8, 16), 0, 50, "higher",
         lambda f, s, seed, boxes: video.blur(f, s)),
    Kind("occlude_upper", "visual", "upper face occluded", "share of the face box covered from the top",
         (0, 0.25, 0.5, 0.75), 0, 1, "higher", _occlusion("upper")),
    Kind("occlude_lower", "visual", "lower face occluded", "share of the face box covered from the bottom",
         (0, 0.25, 0.5, 0.75), 0, 1, "higher", _occlusion("lower")),
    Kind("low_light", "visual", "low light", "light level (share of the original)",
         (1.0, 0.5, 0.25, 0.1, 0.05), 0.01, 1, "lower",
         lambda f, s, seed, boxes: video.low_light(f, s, seed)),
    Kind("drop_frames", "visual", "dropped frames", "share of frames dropped", (0, 0.25, 0.5, 0.75, 0.9),
         0, 0.99, "higher", None),  # not a pixel change: sweep.py removes the frames
    Kind("asr_errors", "text", "ASR-like word errors", "word error rate", (0, 0.1, 0.2, 0.4, 0.6),
         0, 1, "higher", lambda t, s, seed: text.word_errors(t, s, seed)),
]}
MAX_SEVERITIES = 12


def get_kind(name: str) -> Kind:
    kind = KINDS.get((name or "").strip())
    if kind is None:
        raise PerturbationError(f"unknown perturbation '{name}'; choose one of {', '.join(KINDS)}")
    return kind


def parse_severities(kind: Kind, severities: str | Sequence[float] | None) -> list[float]:
    """"30, 10, 0" or [30, 10, 0] (empty: the kind's defaults) -> checked floats, in the given order."""
    if severities is None or (isinstance(severities, str) and not severities.strip()):
        return [float(s) for s in kind.defaults]
    items = severities.replace(";", ",").split(",") if isinstance(severities, str) else list(severities)
    try:
        values = [float(s) for s in items if str(s).strip()]
    except ValueError:
        raise PerturbationError(f"severities must be numbers separated by commas, got '{severities}'") \
            from None
    if not values:
        return [float(s) for s in kind.defaults]
    if len(values) > MAX_SEVERITIES:
        raise PerturbationError(f"at most {MAX_SEVERITIES} severities at a time (got {len(values)})")
    bad = [v for v in values if not kind.low <= v <= kind.high]
    if bad:
        raise PerturbationError(f"{kind.label}: {kind.unit} must lie in {kind.low:g} … {kind.high:g} "
                                f"(got {', '.join(f'{v:g}' for v in bad)})")
    return values


__all__ = ["KINDS", "Kind", "get_kind", "parse_severities"]
