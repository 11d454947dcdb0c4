"""A clip played into the streaming engine as a microphone and a webcam would: in real time, in
chunks, each followed by the poll the page's microphone event makes (the rolling updates run in the
background as they fall due); then the word-spoken -> score-containing-it latency of each word."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from msa_demo.asr import Word
from msa_demo.media import MediaClip
from msa_demo.streaming import RollingUpdate, StreamEngine, StreamState
from msa_demo.streaming.agreement import key

BROWSER_RATE = 48_000  # what Chromium's microphone delivers; the engine resamples it
MATCH_SECONDS = 0.75  # a scored word is a reference word when their middles are this close


@dataclass
class Played:
    t0: float  # time.monotonic() at stream time 0
    updates: list[RollingUpdate]
    shown: list[float]  # time.monotonic() when each update was handed to the page
    final_seconds: float
    final: dict


def play(engine: StreamEngine, state: StreamState, clip: MediaClip, model: str, chunk: float = 0.1,
         tail: float = 15.0) -> Played:
    """Feed `clip` in `chunk`-second pieces at the pace it was recorded, each followed by
    `engine.poll`, as the page's microphone events do (chunk k arrives when its last sample has been
    spoken); then silence, as a speaker pausing, until an update that began after the clip's end has
    been handed out (at most `tail` s). Then stop: the final analysis."""
    import soxr

    audio = np.concatenate([clip.audio, np.zeros(int(tail * 16_000), np.float32)])
    loud = soxr.resample(audio, 16_000, BROWSER_RATE).astype(np.float32)
    step = int(round(chunk * BROWSER_RATE))
    pieces = [loud[i:i + step] for i in range(0, len(loud), step)]
    state.start()
    updates, shown, seen = [], [], 0
    t0 = time.monotonic()
    for k, piece in enumerate(pieces):
        if updates and updates[-1].end >= clip.duration:
            break  # every word of the clip has been in an update
        time.sleep(max(0.0, t0 + (k + 1) * chunk - time.monotonic()))
        heard = (k + 1) * chunk
        while seen < len(clip.frames) and clip.frame_times[seen] < heard:
            state.add_frame(clip.frames[seen], float(clip.frame_times[seen]))
            seen += 1
        state.add_audio(BROWSER_RATE, piece)
        update = engine.poll(state, model)
        if update is not None:
            updates.append(update)
            shown.append(time.monotonic())
    state.stop()
    started = time.perf_counter()
    _, final = engine.finish(state, model)
    return Played(t0, updates, shown, time.perf_counter() - started, final)


def latencies(reference: list[Word], played: Played) -> dict:
    """Per reference word (Whisper on the whole clip): seconds from its end being spoken to the first
    rolling update whose score read it, and to the first that had committed it."""
    scored, committed, missed = [], [], []
    for word in reference:
        spoken = played.t0 + word.end
        first = _first(word, played.updates, lambda u: u.scored)
        settled = _first(word, played.updates, lambda u: u.committed)
        if first is None:
            missed.append(word.text)
            continue
        scored.append(played.shown[first] - spoken)
        if settled is not None:
            committed.append(played.shown[settled] - spoken)
    return {"scored": scored, "committed": committed, "missed": missed}


def _first(word: Word, updates: list[RollingUpdate], words_of) -> int | None:
    """The index of the first update whose words (`words_of`) hold `word`."""
    middle, name = (word.start + word.end) / 2, key(word.text)
    for i, update in enumerate(updates):
        if any(key(w.text) == name and abs((w.start + w.end) / 2 - middle) < MATCH_SECONDS
               for w in words_of(update)):
            return i
    return None
