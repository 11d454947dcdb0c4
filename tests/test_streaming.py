"""The streaming engine without Gradio or models: LocalAgreement, the rolling window's bounds, the
final analysis, and that two visitors' streams never mix (tests/streaming_fakes.py scripts them)."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from msa_demo.asr import Word
from msa_demo.errors import MediaError
from msa_demo.streaming import LocalAgreement, StreamConfig, StreamEngine, StreamState
from msa_demo.streaming.buffers import AudioBuffer, FrameBuffer, Resampler, to_mono_float
from streaming_fakes import RATE, FakePipeline, frame, script_words, speech

pytestmark = pytest.mark.usefixtures("one_thread")
CHUNK = 0.5


def words(*spec) -> list[Word]:
    """words("i", 0, .4, "mean", .4, .8, …)"""
    return [Word(spec[i], spec[i + 1], spec[i + 2]) for i in range(0, len(spec), 3)]


def texts(ws) -> list[str]:
    return [w.text for w in ws]


# --- LocalAgreement ----------------------------------------------------------------------------------
def test_a_word_is_committed_only_once_two_hypotheses_agree_on_it():
    agreement = LocalAgreement()
    assert agreement.insert(words("I", 0, .3, "mean", .3, .6, "th-", .6, .8)) == []
    assert texts(agreement.tentative) == ["I", "mean", "th-"]
    committed = agreement.insert(words("i", 0, .3, "mean,", .3, .6, "that", .6, .9, "was", .9, 1.2))
    assert texts(committed) == ["i", "mean,"]  # case and punctuation do not count; the newer spelling is kept
    assert texts(agreement.tentative) == ["that", "was"]  # "th-" never agreed with "that"
    agreement.insert(words("that", .6, .9, "was", .9, 1.2, "impressive", 1.2, 1.8))
    assert texts(agreement.committed) == ["i", "mean,", "that", "was"]
    assert texts(agreement.flush()) == ["impressive"]
    assert texts(agreement.words()) == ["i", "mean,", "that", "was", "impressive"]
    assert agreement.tentative == []


def test_committed_words_are_never_rewritten():
    """A later hypothesis that hears the committed span differently changes nothing before the
    committed end; random hypotheses only ever extend the committed list."""
    agreement = LocalAgreement()
    for _ in range(2):
        agreement.insert(words("the", 0, .3, "movie", .3, .7, "was", .7, 1.0))
    assert texts(agreement.committed) == ["the", "movie", "was"]
    agreement.insert(words("a", 0, .3, "film", .3, .7, "is", .7, 1.0, "great", 1.05, 1.5))
    agreement.insert(words("a", 0, .3, "film", .3, .7, "is", .7, 1.0, "great", 1.05, 1.5))
    assert texts(agreement.committed) == ["the", "movie", "was", "great"]

    rng = random.Random(7)
    script = ["so", "the", "film", "was", "very", "good", "and", "bad"] * 30
    agreement = LocalAgreement()
    before: list[Word] = []
    for step in range(200):  # hypotheses from a random point up to now, a third of their words misheard
        first = rng.randint(max(0, step - 12), step)
        hypothesis = [Word(script[i] if rng.random() > 0.3 else rng.choice(script[:8]), i * .3, i * .3 + .25)
                      for i in range(first, step + 1)]
        agreement.insert(hypothesis)
        assert agreement.committed[:len(before)] == before, step
        assert all(a.end <= b.start + 1e-9 for a, b in zip(agreement.committed, agreement.committed[1:]))
        before = list(agreement.committed)
    assert len(before) > 10  # the property was tested on something


def test_the_words_where_a_trimmed_buffer_meets_the_committed_ones_are_not_said_twice():
    agreement = LocalAgreement()
    for _ in range(2):
        agreement.insert(words("that", 0, .4, "was", .4, .8))
    # the buffer now starts at the committed end: Whisper hears the end of "was" again
    agreement.insert(words("was", .82, 1.0, "impressive", 1.0, 1.6))
    assert texts(agreement.tentative) == ["impressive"]
    agreement.insert(words("was", .85, 1.0, "impressive", 1.0, 1.6))
    assert texts(agreement.committed) == ["that", "was", "impressive"]
    # said again a while later, it is a new word
    agreement.insert(words("was", 3.0, 3.3))
    assert texts(agreement.tentative) == ["was"]


# --- buffers -----------------------------------------------------------------------------------------
def test_audio_buffer_keeps_the_recent_past_and_the_recording_up_to_its_limit():
    audio = AudioBuffer(keep=3.0, max_seconds=5.0)
    for k in range(16):  # 8 s in 0.5 s chunks
        audio.add(speech(k * CHUNK, CHUNK))
    assert audio.end == pytest.approx(8.0)
    start, recent = audio.since(0.0)  # asked for all of it: only the last 3 s are kept
    assert start == pytest.approx(5.0) and len(recent) == 3 * RATE
    assert abs(recent[0]) * 100 == pytest.approx(5.0, abs=1e-3)
    start, recent = audio.since(7.25)
    assert start == pytest.approx(7.25) and len(recent) == int(0.75 * RATE)
    assert len(audio.recording()) == 5 * RATE and audio.truncated
    assert abs(audio.recording()[-1]) * 100 == pytest.approx(5.0, abs=1e-3)


def test_frame_buffer_keeps_a_few_frames_a_second_at_one_size():
    frames = FrameBuffer(fps=2.0, keep=3.0, max_seconds=2.0, side=32)
    kept = [frames.add(frame(size=(48, 64) if t < 1 else (96, 128)), t) for t in np.arange(0, 6, 0.1)]
    assert sum(kept) == 12  # 2 a second over 6 s
    picked, times = frames.between(4.0, 6.0)
    assert len(picked) == 4 and times.min() >= 4.0 and times.max() < 6.0
    assert picked.shape[1:] == (24, 32, 3)  # scaled to 32 px, and later frames to the first one's size
    early, _ = frames.between(0.0, 2.0)
    assert len(early) == 4  # the recording's first 2 s stay for the final analysis
    assert len(frames.between(2.0, 2.45)[0]) == 0  # older than `keep` (3 s) and after the recording: dropped
    assert len(frames.between(2.45, 2.9)[0]) == 1


def test_a_stream_knows_when_it_lost_audio():
    import time

    state = StreamState()
    state.start()
    time.sleep(0.3)
    state.add_audio(RATE, speech(0, 0.1))  # 0.1 s received in 0.3 s: chunks were lost on the way
    assert state.heard_share() < 0.5
    state.add_audio(RATE, speech(0.1, 0.4))
    assert state.heard_share() > 1.0 - 0.35


def test_kept_frames_are_small_and_faithful():
    y, x = np.mgrid[0:360, 0:480]
    picture = np.stack([x * 255 // 480, y * 255 // 360, (x + y) * 255 // 840], -1).astype(np.uint8)
    frames = FrameBuffer(fps=2.0, keep=10.0, max_seconds=60.0, side=480)
    frames.add(picture, 0.0)
    back = frames.between(0.0, 1.0)[0][0]
    assert back.shape == picture.shape and np.abs(back.astype(int) - picture).mean() < 2.0
    assert len(frames._frames[0][1]) < picture.nbytes / 10


def test_browser_chunks_become_16_khz_mono_without_losing_samples():
    stereo = (np.stack([np.full(4800, 16384), np.full(4800, -16384)], 1)).astype(np.int16)
    assert np.allclose(to_mono_float(stereo), 0.0)
    assert to_mono_float(np.full(10, 16384, np.int16)).max() == pytest.approx(0.5)
    resample = Resampler()
    total = sum(len(resample(48_000, np.sin(np.arange(k * 4800, (k + 1) * 4800) / 20).astype(np.float32)))
                for k in range(40))  # 4 s at 48 kHz in 0.1 s chunks
    assert 0 <= 4 * RATE - total < 480  # soxr holds back its filter delay (24 ms), no more


# --- the engine --------------------------------------------------------------------------------------
def stream(engine, state, seconds, speaker=1, model="late_fusion", start=0.0):
    """Play `seconds` of the scripted speaker (and a frame every 0.1 s); update whenever one is due."""
    updates = []
    for k in range(int(round(seconds / CHUNK))):
        t = start + k * CHUNK
        for dt in np.arange(0, CHUNK, 0.1):
            state.add_frame(frame(speaker), t + dt)
        state.add_audio(RATE, speech(t, CHUNK, speaker))
        if state.due():
            updates.append(engine.update(state, model))
    return updates


@pytest.fixture
def fake():
    return FakePipeline()


def test_rolling_updates_score_the_last_window_only(fake, zoo):
    config = StreamConfig(window=3.0, background_media=False, trim_after=4.0, asr_max=6.0)
    engine, state = StreamEngine(fake, zoo), StreamState(config)
    state.start()
    updates = stream(engine, state, 10.0)
    assert len(updates) == 20 and [u.index for u in updates] == list(range(1, 21))
    for update in updates:
        assert all(w.end > update.end - 3.0 for w in update.scored)
        assert update.result["baseline"] + sum(update.result["contributions"].values()) == \
            pytest.approx(update.result["score"])
    late = updates[-1]
    assert late.result["available"] == {"text": True, "audio": True, "visual": True}
    assert "i" not in texts(late.scored)  # said at the start, long out of the window
    # the voice and the face were read on the last 3 s only, the frames at 2 a second
    for clip in fake.clips[4:]:
        assert clip.duration <= 3.0 + 1e-6 and len(clip.frames) <= 6
        assert clip.frame_times.min() >= 0 and clip.frame_times.max() < 3.0
    # Whisper's buffer was cut back to the committed words and never grew past asr_max
    assert max(end - start for start, end in fake.asr.spans) <= 6.0 + CHUNK + 1e-6
    assert fake.asr.spans[-1][0] > 3.0
    # the transcript: the script, in order, nothing repeated or lost
    said = [w.text for w in script_words(1) if w.end <= 10.0 - 2 * CHUNK]
    assert texts(late.committed)[:len(said)] == said
    assert len(state.rows) == 20 and state.rows[-1]["end"] == pytest.approx(10.0)


def test_tentative_words_are_scored_before_they_are_committed(fake, zoo):
    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    updates = stream(engine, state, 4.0)
    assert updates[0].tentative == [] and not updates[0].result["available"]["text"]  # "i" not yet said
    second = updates[1]
    assert second.committed == [] and texts(second.tentative) == ["i", "me-"]  # "mean" still being said
    assert second.result["available"]["text"]  # tentative words are in the score already
    assert "i" in second.result["transcript"].split()
    # nothing is committed before Whisper's language is settled, on 3 s of speech
    assert all(u.committed == [] for u in updates if u.end < 3.0)
    settled = next(u for u in updates if u.end >= 3.0)
    assert texts(settled.committed)[:3] == ["i", "mean", "that"]
    assert not any(w.text.endswith("-") for u in updates for w in u.committed)


def test_the_language_is_read_on_seconds_of_speech_not_the_first_word(fake, zoo):
    """Whisper on the first second often names the wrong language; the stream keeps the one it hears
    on 3 s, and gives it to every later transcription."""
    fake.asr.short = "pt"
    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    updates = stream(engine, state, 5.0)
    assert state.language == "en"
    assert fake.asr.languages[:5] == [None] * 5 and set(fake.asr.languages[6:]) == {"en"}
    assert not any("'pt'" in n for n in updates[-1].result["notices"])


def test_background_media_reads_do_not_hold_up_the_words(fake, zoo):
    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(media_every=1.0))
    state.start()
    updates = stream(engine, state, 4.0)
    assert all(u is not None for u in updates) and len(updates) == 8
    assert len(fake.clips) <= 8  # read again at most once a second of audio, never twice at once
    assert updates[0].result["available"]["audio"]  # the first update waited for its window's voice


def test_poll_returns_at_once_and_hands_out_each_update_once(fake, zoo):
    """The page's microphone event must not wait for an update (Gradio keeps only the newest chunk
    that arrives meanwhile): poll starts it in the background and hands it out on a later chunk."""
    import threading
    import time

    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    gate = threading.Event()
    slow = fake.asr.transcribe
    fake.asr.transcribe = lambda *a, **k: (gate.wait(5), slow(*a, **k))[1]
    handed = []
    for k in range(4):
        state.add_audio(RATE, speech(k * CHUNK, CHUNK))
        began = time.perf_counter()
        handed.append(engine.poll(state, "late_fusion"))
        assert time.perf_counter() - began < 0.5
    assert handed == [None] * 4 and state.job is not None  # one update running, no second one
    gate.set()
    state.job.result(timeout=10)
    first = engine.poll(state, "late_fusion")
    assert first is not None and first.index == 1 and first.end >= CHUNK
    handed = [first.index]
    while state.job is not None or state.due():  # the rest of the audio, if the first did not read it all
        if state.job is not None:
            state.job.result(timeout=10)
        later = engine.poll(state, "late_fusion")
        handed += [later.index] if later is not None else []
    assert engine.poll(state, "late_fusion") is None and state.job is None  # nothing new, none due
    assert handed == list(range(1, len(handed) + 1)) and handed[-1] == state.updates  # each once, in order
    assert state.latest.end == pytest.approx(4 * CHUNK)
    state.add_audio(RATE, speech(4 * CHUNK, CHUNK))
    fake.asr.transcribe = lambda *a, **k: 1 / 0
    assert engine.poll(state, "late_fusion") is None  # starts the update that fails
    state.job.exception(timeout=10)
    with pytest.raises(ZeroDivisionError):
        engine.poll(state, "late_fusion")
    assert engine.poll(state, "late_fusion") is None  # raised once


def test_an_update_of_an_older_recording_is_dropped(fake, zoo):
    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    state.add_audio(RATE, speech(0, 2.0))
    slow = fake.asr.transcribe

    def restart_meanwhile(*args, **kwargs):
        state.start()  # the visitor pressed record again while Whisper was busy
        return slow(*args, **kwargs)

    fake.asr.transcribe = restart_meanwhile
    assert engine.update(state, "late_fusion") is None
    assert state.latest is None and state.agreement.words() == [] and state.rows == []


def test_a_damaged_window_says_so_and_the_words_still_score(fake, zoo):
    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    fake.fail_media = True
    update = stream(engine, state, 1.0)[-1]
    assert any("could not be read" in n for n in update.result["notices"])
    assert update.result["available"] == {"text": True, "audio": False, "visual": False}


def test_the_final_analysis_reads_the_whole_recording(fake, zoo):
    config = StreamConfig(background_media=False, max_seconds=5.0)
    engine, state = StreamEngine(fake, zoo), StreamState(config)
    state.start()
    stream(engine, state, 6.0)
    assert state.stop() and not state.stop()
    extracted, result = engine.finish(state, "late_fusion")
    clip = fake.clips[-1]
    assert clip.duration == pytest.approx(5.0) and len(clip.frames) == 10  # the first 5 s, 2 frames a second
    assert extracted.words and result["over_time"]
    assert len(result["word_attributions"]) == len(extracted.words)
    assert any("ran past 5 s" in n for n in result["notices"])
    assert state.agreement.tentative == []  # flushed: the transcript is all committed now
    assert state.audio.end == 0 and len(state.frames) == 0  # the recording is let go once read
    with pytest.raises(MediaError):
        empty = StreamState()
        empty.start()
        engine.finish(empty, "late_fusion")


def test_stop_drops_the_update_in_flight_and_the_final_does_not_wait_for_it(fake, zoo):
    import threading

    engine, state = StreamEngine(fake, zoo), StreamState(StreamConfig(background_media=False))
    state.start()
    stream(engine, state, 2.0)
    rows = list(state.rows)
    gate, inside, slow = threading.Event(), threading.Event(), fake.asr.transcribe
    fake.asr.transcribe = lambda *a, **k: (inside.set(), gate.wait(10), slow(*a, **k))[2]
    state.add_audio(RATE, speech(2.0, CHUNK))
    engine.poll(state, "late_fusion")  # an update starts, and hangs in Whisper
    assert inside.wait(10) and state.stop()
    fake.asr.transcribe = slow  # the final analysis's own Whisper pass
    extracted, _ = engine.finish(state, "late_fusion")  # while the update still hangs
    assert not state.job.done() and extracted.duration == pytest.approx(2.5)
    gate.set()
    assert state.job.result(timeout=10) is None and state.rows == rows  # it wrote nothing


def test_two_visitors_streams_never_mix(fake, zoo):
    engine = StreamEngine(fake, zoo)
    config = StreamConfig(background_media=False)
    a, b = StreamState(config), StreamState(config)
    a.start()
    b.start()
    for k in range(8):  # interleaved, as two visitors' events are
        stream(engine, a, CHUNK, speaker=1, start=k * CHUNK)
        stream(engine, b, CHUNK, speaker=-1, start=k * CHUNK)
    said_a, said_b = set(texts(script_words(1))), set(texts(script_words(-1)))
    heard_a, heard_b = set(texts(a.agreement.committed)), set(texts(b.agreement.committed))
    assert heard_a and heard_b and heard_a <= said_a and heard_b <= said_b
    assert heard_a - said_b and heard_b - said_a
    seen_a, seen_b = a.frames.between(0, 9)[0], b.frames.between(0, 9)[0]
    assert abs(seen_a.astype(int) - 150).max() <= 2 and abs(seen_b.astype(int) - 50).max() <= 2  # (JPEG)
    assert a.rows is not b.rows and a.updates == b.updates == 8
    b.start()  # a new recording for b leaves a alone
    assert b.audio.end == 0 and a.audio.end == pytest.approx(4.0) and a.agreement.committed


def test_each_session_gets_its_own_state():
    """gr.State(StreamState) makes one per session; the deep copy Gradio takes of it is that one."""
    import gradio as gr
    from gradio.state_holder import SessionState

    with gr.Blocks() as demo:
        state = gr.State(StreamState)
    first, second = SessionState(demo), SessionState(demo)
    one, other = first[state._id], second[state._id]
    assert isinstance(one, StreamState) and one is not other
    assert first[state._id] is one  # the same object on every event of a session
    assert copy.deepcopy(one) is one
