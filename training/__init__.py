"""Offline work on corpora: feature extraction into caches (extract.py), training and evaluation.

Importing this package sets SIGPROF to "ignore" in Python's own view (when it is still the default).
libmediapipe.so (mediapipe 1.2.2) runs a sampling profiler: it ignores SIGPROF behind Python's back
and arms 10 ms SIGPROF CPU timers. Lightning saves the signal handlers Python believes in (default:
terminate) and restores them when `fit` ends, so a process that ran the face model and then trains
(the test session) was killed by the next tick ("Profiling timer expired", exit 155). Said before
`fit`, "ignore" is what gets restored.
"""

import signal as _signal
import threading as _threading


def _ignore_stray_sigprof() -> None:
    if (hasattr(_signal, "SIGPROF") and _threading.current_thread() is _threading.main_thread()
            and _signal.getsignal(_signal.SIGPROF) == _signal.SIG_DFL):
        _signal.signal(_signal.SIGPROF, _signal.SIG_IGN)


_ignore_stray_sigprof()
