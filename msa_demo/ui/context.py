"""What every tab shares: one feature pipeline, one model zoo, the cache root, and what is off.

Created once per process (app.py), so models and extractors load once and serve every visitor.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..pipeline import FeaturePipeline
from ..zoo import ModelZoo

log = logging.getLogger(__name__)

# How many requests may read media at once (the Analyse / Re-analyse buttons, `/analyze`,
# `/features`: one shared concurrency group). Chosen with `python -m bench.load`: see build_demo's
# docstring (msa_demo/ui/__init__.py) and reports/latency.md.
EXTRACT_CONCURRENCY = int(os.environ.get("MSA_EXTRACT_CONCURRENCY", 2))
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AppContext:
    pipeline: FeaturePipeline
    zoo: ModelZoo
    cache_root: Path = ROOT / "cache"
    status: dict | None = None  # what warm_up found: {"text"|"visual"|"asr": reason or None}
    _warming: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def create(cls, pipeline: FeaturePipeline | None = None, zoo: ModelZoo | None = None,
               cache_root: str | Path | None = None) -> "AppContext":
        """`cache_root`: the error-analysis tab's feature caches; else MSA_FEATURE_CACHE, else ./cache."""
        cache_root = cache_root or os.environ.get("MSA_FEATURE_CACHE") or ROOT / "cache"
        return cls(pipeline or FeaturePipeline(), zoo or ModelZoo(ROOT / "checkpoints"), Path(cache_root))

    def warm_up(self, asr: bool = True) -> None:
        """Load extractors and models now (in the background at start), and record what is off."""
        try:
            status = self.pipeline.warm_up(asr=asr)
        except Exception:  # never fatal: the first request will report the problem
            log.exception("warm-up failed")
            status = {}
        for name in self.zoo.names():
            self.zoo.get(name)
        self.status = status

    def warm_up_in_background(self, asr: bool = True) -> threading.Thread:
        self._warming = threading.Thread(target=self.warm_up, kwargs={"asr": asr}, daemon=True,
                                         name="warm-up")
        self._warming.start()
        return self._warming
