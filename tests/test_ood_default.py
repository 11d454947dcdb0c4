"""The app's out-of-distribution guard is on by default: the calibration for the running feature
spec ships in checkpoints/ and is found without configuration (the other tests turn it off)."""

from msa_demo import analysis
from msa_demo.features.spec import FEATURE_SPEC_ID


def test_the_shipped_calibration_is_the_default_guard(monkeypatch):
    monkeypatch.delenv("MSA_OOD_GUARD", raising=False)
    analysis.default_guard.cache_clear()
    try:
        guard = analysis.default_guard()
        assert guard is not None, f"no checkpoints/ood-{FEATURE_SPEC_ID}.safetensors for the running spec"
        monkeypatch.setenv("MSA_OOD_GUARD", "off")
        analysis.default_guard.cache_clear()
        assert analysis.default_guard() is None
    finally:
        analysis.default_guard.cache_clear()
