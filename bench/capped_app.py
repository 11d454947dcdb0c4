"""`python -m bench.capped_app`: app.py, with the random base-sized Whisper decoding like a real one.

For load runs on clips without the real Whisper weights: every transcription is capped and closed
as `bench.whisper_base.cap_decoding` describes (3.5 tokens per second of audio, one 30 s window),
so a request costs what it would with `base`. Everything else is app.py unchanged.
"""

from __future__ import annotations

import signal
import threading

from msa_demo.features.spec import SAMPLE_RATE

from .whisper_base import build_random_base, cap_decoding


def capped(asr) -> None:
    transcribe = asr.transcribe
    lock = threading.Lock()  # Whisper runs one call at a time anyway (its own lock)

    def capped_transcribe(audio, language=None):
        with lock:
            cap_decoding(asr, len(audio) / SAMPLE_RATE)
            return transcribe(audio, language)

    asr.transcribe = capped_transcribe


if __name__ == "__main__":
    import app  # builds the context and the page (not launched: app's __main__ block does not run)
    from msa_demo.asr import WhisperASR

    pipeline = app.context.pipeline
    pipeline.asr = WhisperASR(str(build_random_base()), device=pipeline.device)
    capped(pipeline.asr)
    app.context.warm_up_in_background()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a clean stop, as app.py's
    app.serve(app.demo)
