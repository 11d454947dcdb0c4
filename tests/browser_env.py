"""What both browser tests need before they can run: Debian's chromium + chromedriver and selenium.

`require_browser()` at a test module's top skips the module with the reason when one is absent, and
fails it under CI=true (as `.ci/run` sets it): CI must not pass by leaving the page untested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing() -> str | None:
    if not CHROMIUM.is_file() or not CHROMEDRIVER.is_file():
        return "needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install -y chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs the selenium package (pip install selenium)"
    return None


def require_browser() -> None:
    reason = missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and the browser test cannot run: {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
