"""Features: the real clips, the spec's shapes, determinism, and every degraded input."""

import numpy as np
import pytest

from conftest import needs_face_model
from msa_demo.features import FEATURE_DIMS, FEATURE_SPEC_ID
from msa_demo.features.spec import AUDIO_HOP, SAMPLE_RATE


@needs_face_model
def test_real_clips_all_three_modalities(pipeline, mosi_clips):
    for path in mosi_clips:
        bundle = pipeline.extract(str(path))
        assert bundle.spec_id == FEATURE_SPEC_ID
        for m, dim in FEATURE_DIMS.items():
            feats = bundle.modality(m)
            assert feats.present and feats.values.shape[1] == dim, m
            assert np.isfinite(feats.values).all(), m
        # a face in >= 90% of the sampled frames
        assert bundle.face_fraction >= 0.9
        assert bundle.visual.mask.mean() == bundle.face_fraction
        assert bundle.keyframe is not None and bundle.keyframe_landmarks.shape == (478, 3)
        # audio frames span the clip
        span = bundle.audio.times[-1, 1] - bundle.audio.times[0, 0]
        assert abs(span - bundle.duration) <= 2 * AUDIO_HOP / SAMPLE_RATE + 0.1
        assert bundle.voiced_fraction > 0.2  # people are talking
        # Whisper's words reach the text tokens as times
        assert bundle.transcript.source == "whisper"
        assert np.isfinite(bundle.text.times[1:-1]).any()


@needs_face_model
def test_head_pose_is_plausible_for_a_frontal_speaker(pipeline, mosi_clips):
    bundle = pipeline.extract(str(mosi_clips[0]), transcript="x")
    yaw_pitch_roll = bundle.visual.values[bundle.visual.mask, 52:55]
    assert np.all(np.abs(yaw_pitch_roll) < np.pi / 2)


def test_same_sentence_identical_text_features_across_loads():
    from msa_demo.features.text import TextFeaturizer

    sentence = "I REALLY liked this movie, honestly."
    first = TextFeaturizer(device="cpu").encode(sentence)
    second = TextFeaturizer(device="cpu").encode(sentence)
    assert first.values.shape == (10, 384)  # [CLS] i really liked this movie , honestly . [SEP]
    assert np.array_equal(first.values, second.values)
    assert np.isnan(first.times).all()  # typed text has no times


def test_text_is_lower_cased_and_capped_at_64_tokens():
    from msa_demo.features.text import TextFeaturizer

    featurizer = TextFeaturizer(device="cpu")
    assert np.array_equal(featurizer.encode("GOOD FILM").values, featurizer.encode("good film").values)
    assert featurizer.encode("word " * 200).values.shape == (64, 384)
    assert not featurizer.encode("   ").present


def test_silence_turns_audio_and_text_off(pipeline, generated):
    bundle = pipeline.extract(str(generated["silence"]))
    assert not bundle.audio.present and not bundle.text.present
    assert any("silent" in n for n in bundle.notices)
    assert any("no speech" in n for n in bundle.notices)


@needs_face_model
def test_video_without_audio_keeps_visual(pipeline, generated):
    bundle = pipeline.extract(str(generated["no_audio"]))
    assert not bundle.audio.present and not bundle.text.present
    assert len(bundle.visual.values) == 20  # 2 s at 10 fps, each frame checked for a face
    assert any("no audio track" in n for n in bundle.notices)


@needs_face_model
def test_noise_video_has_no_face(pipeline, generated):
    bundle = pipeline.extract(str(generated["noise_with_tone"]), transcript="fine")
    assert bundle.face_fraction == 0.0 and not bundle.visual.present
    assert not bundle.visual.mask.any()
    assert any("no face found" in n for n in bundle.notices)
    assert bundle.audio.present and bundle.voiced_fraction > 0.5  # the tone is pitched


def test_over_long_file_is_cut(pipeline, generated):
    bundle = pipeline.extract(str(generated["long"]), transcript="a long hum")
    assert bundle.duration == pytest.approx(60.0, abs=0.05)
    assert any("only the first 60 s" in n for n in bundle.notices)


@pytest.mark.parametrize("name", ["empty", "text_as_mp4", "unsupported"])
def test_unusable_input_raises_a_media_error(pipeline, generated, name):
    from msa_demo.errors import MediaError

    with pytest.raises(MediaError):
        pipeline.extract(str(generated[name]))


def test_text_only(pipeline):
    bundle = pipeline.extract(None, transcript="what a wonderful day")
    assert bundle.text.present and not bundle.audio.present and not bundle.visual.present
    assert bundle.face_fraction == 0.0


def test_wrong_face_model_turns_visual_off(monkeypatch, tmp_path, generated, whisper_base):
    from msa_demo.pipeline import FeaturePipeline

    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"definitely not the model")
    monkeypatch.setenv("MSA_FACE_MODEL", str(fake))
    bundle = FeaturePipeline(whisper_model=whisper_base).extract(
        str(generated["noise_with_tone"]), transcript="hello")
    assert not bundle.visual.present
    assert any("face model unavailable" in n and "sha256" in n for n in bundle.notices)
    assert bundle.audio.present and bundle.text.present


def test_face_model_absent_offline(monkeypatch):
    from msa_demo.assets import resolve_face_model
    from msa_demo.errors import AssetUnavailable

    monkeypatch.delenv("MSA_FACE_MODEL", raising=False)
    with pytest.raises(AssetUnavailable, match="downloads are off"):
        resolve_face_model()


def test_text_model_hash_is_checked(monkeypatch, tmp_path):
    from msa_demo.assets import resolve_text_model
    from msa_demo.errors import AssetUnavailable

    (tmp_path / "model.safetensors").write_bytes(b"tampered")
    monkeypatch.setenv("MSA_TEXT_MODEL", str(tmp_path))
    with pytest.raises(AssetUnavailable, match="sha256"):
        resolve_text_model()


@needs_face_model
def test_fer_like_still_small_crop(pipeline, mosi_clips):
    """A 48x48 grey face crop, like FER2013's, is found after padding and upscaling."""
    import cv2

    from msa_demo.media import load_media

    frame = load_media(mosi_clips[0]).frames[0]
    bundle_full = pipeline.extract(None, image_bytes=cv2.imencode(".png", frame[..., ::-1])[1].tobytes())
    landmarks = bundle_full.keyframe_landmarks
    h, w = frame.shape[:2]
    x0, y0 = (landmarks[:, :2].min(0) * [w, h]).astype(int)
    x1, y1 = (landmarks[:, :2].max(0) * [w, h]).astype(int)
    crop = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    crop = cv2.resize(crop, (48, 48))
    bundle = pipeline.extract(None, image_bytes=cv2.imencode(".jpg", crop)[1].tobytes())
    assert bundle.visual.present and bundle.face_fraction == 1.0
    assert bundle.visual.values.shape == (1, 120)  # 52 blendshapes, head pose, face flag, the CNN's 64
    assert np.abs(bundle.visual.values[0, 56:]).sum() > 0


@needs_face_model
def test_the_face_cnn_embedding_is_the_one_face_embed_gives(pipeline, mosi_clips):
    """One crop path: the pipeline's visual features carry, per frame with a face, the face CNN's
    embedding of the crop face_embed (the CNN's own data path) takes from the same frame."""
    from msa_demo.features.face_embed import embed_video
    from msa_demo.features.visual import EMBEDDING, shipped_expression_model

    visual = pipeline.extract(str(mosi_clips[0]), transcript="typed").visual
    clip = pipeline.decode(str(mosi_clips[0]))
    pixels = embed_video(pipeline.face_featurizer(), shipped_expression_model(), clip.frames,
                         clip.frame_times)
    assert visual.mask.sum() == pixels.found.sum() > 0
    np.testing.assert_allclose(visual.values[visual.mask, EMBEDDING],
                               pixels.expression.embedding[pixels.found], atol=1e-5)
    assert not visual.values[~visual.mask].any()  # frames without a face stay zero


@needs_face_model
def test_two_faces_reads_the_larger_and_says_so(pipeline, mosi_clips, tmp_path):
    """Two people in view: one face is read (the larger), and the notice says so."""
    import cv2

    from media_factory import write_video
    from msa_demo.media import load_media

    big = load_media(mosi_clips[0]).frames[:10]  # 360x480
    small = np.stack([cv2.resize(f, (360, 270)) for f in load_media(mosi_clips[3]).frames[:10]])
    canvas = np.zeros((10, 360, 840, 3), np.uint8)
    canvas[:, :, :480] = big
    canvas[:, 45:315, 480:] = small
    path = write_video(tmp_path / "two.mp4", canvas, fps=10)
    bundle = pipeline.extract(str(path), transcript="two people")
    assert bundle.face_fraction == 1.0
    assert any("more than one face" in n for n in bundle.notices)
    xs = bundle.keyframe_landmarks[:, 0]
    assert xs.mean() < 480 / 840  # the larger face, on the left


@needs_face_model
@pytest.mark.parametrize("name", ["mosi", "no_audio", "noise_with_tone", "webm", "silence", "tone"])
def test_alongside_equals_one_after_another(pipeline, mosi_clips, generated, name):
    """The parallel path (audio track first, Whisper alongside the frames' decoding, face and voice
    as jobs) gives what the one-step path gives: same features, transcript and notices."""
    from msa_demo.pipeline import FeaturePipeline

    path = str(mosi_clips[0]) if name == "mosi" else str(generated[name])
    serial = FeaturePipeline(whisper_model=pipeline.asr.model_name, parallel=False)
    serial.asr, serial._face, serial._text = pipeline.asr, pipeline.face_featurizer(), pipeline.text_featurizer()
    alongside, one_by_one = pipeline.extract(path), serial.extract(path)
    assert pipeline.parallel and not serial.parallel
    assert alongside.notices == one_by_one.notices
    assert alongside.transcript.text == one_by_one.transcript.text
    assert [w.start for w in alongside.transcript.words] == [w.start for w in one_by_one.transcript.words]
    for m in FEATURE_DIMS:
        a, b = alongside.modality(m), one_by_one.modality(m)
        assert a.present == b.present, m
        np.testing.assert_array_equal(a.values, b.values, err_msg=m)
        np.testing.assert_array_equal(a.mask, b.mask, err_msg=m)
    assert alongside.duration == one_by_one.duration and alongside.face_fraction == one_by_one.face_fraction


def test_audio_track_alone_is_the_clips_audio(generated, mosi_clips):
    """Decoded alone, a video's audio track is sample for sample what the full decode gives."""
    from msa_demo.media import load_audio_track, load_media

    for path in [mosi_clips[0], generated["noise_with_tone"], generated["webm"]]:
        np.testing.assert_array_equal(load_audio_track(path), load_media(path).audio)
    assert load_audio_track(generated["no_audio"]) is None


def test_fused_viterbi_gives_librosas_pitch_bit_for_bit(mosi_clips, generated):
    """pyin with msa_demo's Viterbi kernel equals pyin with librosa's own (features/viterbi.py)."""
    import librosa
    from librosa import sequence

    from msa_demo.features import viterbi
    from msa_demo.features.spec import AUDIO_HOP, PITCH_FMAX, PITCH_FMIN, PITCH_FRAME
    from msa_demo.media import load_media

    assert viterbi.install() and sequence._viterbi is viterbi.fused_viterbi
    own = viterbi.librosa_viterbi()
    assert own is not viterbi.fused_viterbi
    for path in [mosi_clips[0], generated["noise_with_tone"]]:
        y = load_media(path).audio

        def pyin():
            return librosa.pyin(y, fmin=PITCH_FMIN, fmax=PITCH_FMAX, sr=SAMPLE_RATE, frame_length=PITCH_FRAME,
                                hop_length=AUDIO_HOP)

        fused = pyin()
        sequence._viterbi = own
        try:
            reference = pyin()
        finally:
            sequence._viterbi = viterbi.fused_viterbi
        for a, b in zip(fused, reference):
            np.testing.assert_array_equal(a, b)


@needs_face_model
def test_the_voice_is_the_same_heard_or_typed(pipeline, mosi_clips):
    """The voice is read from the audio alone: transcribed or typed, the features are the same, or a
    model trained on corpus extraction (typed) would be scored on something else live."""
    heard = pipeline.extract(str(mosi_clips[3]))
    typed = pipeline.extract(str(mosi_clips[3]), transcript="and he is one of my favorite actors ever")
    assert heard.transcript.source == "whisper" and typed.transcript.source == "user"
    np.testing.assert_array_equal(heard.audio.values, typed.audio.values)
    # 10 steps a second over the whole audio; the speech steps observed
    assert heard.audio.values.shape == (int(np.ceil(heard.duration * 10 - 1e-6)), FEATURE_DIMS["audio"])
    assert heard.audio.mask.mean() > 0.5


def test_the_speech_span_is_found_in_silence_and_in_noise(mosi_clips):
    """Silero finds the words whether the clip starts with silence or with a room's noise; an
    energy threshold would keep the noisy silence (and read a clean and a noisy copy differently)."""
    from msa_demo.features.audio import SPEECH_PAD, speech_span
    from msa_demo.media import load_media

    speech = load_media(str(mosi_clips[3]), audio_only=True).audio
    sr, lead, tail = 16_000, 24_000, 16_000
    start0, end0 = speech_span(speech)
    noise = np.random.default_rng(0).standard_normal(lead + len(speech) + tail).astype(np.float32)
    for floor in (0.0, 0.003):  # silence, then noise about 20 dB under the speech
        padded = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
        padded = padded + floor * noise
        start, end = speech_span(padded)
        near = abs((start - lead) - start0) < 0.15 * sr and abs((end - lead) - end0) < 0.25 * sr
        assert near, (floor, start, end)
        assert start > lead - 2 * SPEECH_PAD * sr
    assert speech_span(np.zeros(800, np.float32)) == (0, 800)  # nothing heard, shorter than the minimum


@needs_face_model
def test_the_voice_does_not_depend_on_the_silence_before_it(pipeline, mosi_clips):
    """A webcam recording often starts before the speaker does. The voice encodes the speech span
    only, so the same speech with 1.5 s of silence before it reads the same (RAVDESS clips hold
    ~1 s of studio silence before the sentence; encoding it taught the old models 'speech after
    studio silence': reports/voice_diagnosis.md)."""
    from msa_demo.media import load_media

    from msa_demo.models.ood import pooled

    speech = load_media(str(mosi_clips[3]), audio_only=True).audio
    lead = np.zeros(24_000, np.float32)
    alone = pipeline.extract(None, transcript="typed", audio_samples=speech).audio
    after = pipeline.extract(None, transcript="typed", audio_samples=np.concatenate([lead, speech])).audio
    assert not after.mask[:12].any() and after.mask[15:].sum() >= alone.mask.sum() - 2  # 1.5 s = 15 steps
    whisper = slice(0, 512)
    a, b = pooled(alone)[whisper], pooled(after)[whisper]
    assert np.linalg.norm(a - b) < 0.15 * np.linalg.norm(a), np.linalg.norm(a - b) / np.linalg.norm(a)
