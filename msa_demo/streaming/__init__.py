"""Streaming: the score, its contributions and the transcript move while the visitor speaks.

`StreamState` (one per visitor: buffers, words, rows), `StreamEngine` (shared: the rolling update and
the final analysis), `LocalAgreement` (which words are settled). The page is msa_demo/ui/stream.py;
`python -m bench.stream_latency` measures word-spoken-to-score latency.
"""

from .agreement import LocalAgreement
from .engine import StreamEngine
from .state import RollingUpdate, StreamConfig, StreamState

__all__ = ["LocalAgreement", "RollingUpdate", "StreamConfig", "StreamEngine", "StreamState"]
