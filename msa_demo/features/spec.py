"""The one feature spec: what every cache and checkpoint was made with, and its id.

A model trained on features of one spec is useless on features of another, so the spec is stored
in every cache and checkpoint and compared on load. Change anything here and the id changes.
"""

from __future__ import annotations

import hashlib
import json

from ..assets import FACE_CNN_SHA256, FACE_MODEL_SHA256, TEXT_ADAPTER_SHA256, TEXT_MODEL_SHA256

MODALITIES = ("text", "audio", "visual")

SAMPLE_RATE = 16_000

TEXT_DIM = 384
TEXT_MAX_TOKENS = 64

AUDIO_HOP = 320  # 20 ms: pyin's hop
AUDIO_FFT = 512
PITCH_FRAME = 1024  # pyin needs two periods of the lowest F0
PITCH_FMIN, PITCH_FMAX = 60.0, 500.0
AUDIO_POOL = 5  # 20 ms steps averaged into one voice step
AUDIO_FPS = SAMPLE_RATE / (AUDIO_HOP * AUDIO_POOL)  # 10 voice steps a second
# openSMILE eGeMAPS v02 low-level descriptors, in openSMILE's order (features/egemaps.py)
EGEMAPS_NAMES = (
    "Loudness_sma3 alphaRatio_sma3 hammarbergIndex_sma3 slope0-500_sma3 slope500-1500_sma3 spectralFlux_sma3 "
    "mfcc1_sma3 mfcc2_sma3 mfcc3_sma3 mfcc4_sma3 F0semitoneFrom27.5Hz_sma3nz jitterLocal_sma3nz "
    "shimmerLocaldB_sma3nz HNRdBACF_sma3nz logRelF0-H1-H2_sma3nz logRelF0-H1-A3_sma3nz F1frequency_sma3nz "
    "F1bandwidth_sma3nz F1amplitudeLogRelF0_sma3nz F2frequency_sma3nz F2bandwidth_sma3nz "
    "F2amplitudeLogRelF0_sma3nz F3frequency_sma3nz F3bandwidth_sma3nz F3amplitudeLogRelF0_sma3nz"
).split()
EGEMAPS_VOICED_FROM = EGEMAPS_NAMES.index("F0semitoneFrom27.5Hz_sma3nz")  # the rest: voiced frames only
EGEMAPS_LOG = ("Loudness_sma3", "spectralFlux_sma3")  # log(x + LOG_FLOOR): gain becomes an offset
LOG_FLOOR = 1e-4
PROSODY_NAMES = ["log_f0", "voiced_prob", "voiced", "energy_db"]
AUDIO_FEATURE_NAMES = EGEMAPS_NAMES + ["voiced_share"] + PROSODY_NAMES
# measured against the speaker's own median (features/voice_reference.py): levels that say who is
# speaking, into which microphone, rather than how
RELATIVE_NAMES = EGEMAPS_NAMES + ["log_f0", "energy_db"]
AUDIO_DIM = len(AUDIO_FEATURE_NAMES)

VISUAL_FPS = 10.0
BLENDSHAPE_NAMES = (
    "_neutral browDownLeft browDownRight browInnerUp browOuterUpLeft browOuterUpRight cheekPuff "
    "cheekSquintLeft cheekSquintRight eyeBlinkLeft eyeBlinkRight eyeLookDownLeft eyeLookDownRight "
    "eyeLookInLeft eyeLookInRight eyeLookOutLeft eyeLookOutRight eyeLookUpLeft eyeLookUpRight "
    "eyeSquintLeft eyeSquintRight eyeWideLeft eyeWideRight jawForward jawLeft jawOpen jawRight "
    "mouthClose mouthDimpleLeft mouthDimpleRight mouthFrownLeft mouthFrownRight mouthFunnel "
    "mouthLeft mouthLowerDownLeft mouthLowerDownRight mouthPressLeft mouthPressRight mouthPucker "
    "mouthRight mouthRollLower mouthRollUpper mouthShrugLower mouthShrugUpper mouthSmileLeft "
    "mouthSmileRight mouthStretchLeft mouthStretchRight mouthUpperUpLeft mouthUpperUpRight "
    "noseSneerLeft noseSneerRight"
).split()
FACE_CNN_DIM = 64  # the face CNN's expression embedding (features/face_cnn.py)
VISUAL_FEATURE_NAMES = (BLENDSHAPE_NAMES + ["head_yaw", "head_pitch", "head_roll", "face_present"]
                        + [f"face_cnn_{i}" for i in range(FACE_CNN_DIM)])
VISUAL_DIM = len(VISUAL_FEATURE_NAMES)

FEATURE_DIMS = {"text": TEXT_DIM, "audio": AUDIO_DIM, "visual": VISUAL_DIM}

FEATURE_SPEC = {
    "version": 3,
    "text": {
        "encoder": "sentence-transformers/all-MiniLM-L6-v2",
        "weights_sha256": TEXT_MODEL_SHA256,
        "adapter": {"method": "LoRA rank 8, alpha 16, on every linear layer of the 6 blocks, merged into the "
                              "weights (msa_demo/features/text_adapter.py)",
                    "sha256": TEXT_ADAPTER_SHA256},
        "states": "last hidden layer, per token incl. [CLS]/[SEP]",
        "lowercase": True,
        "max_tokens": TEXT_MAX_TOKENS,
        "dim": TEXT_DIM,
    },
    "audio": {
        "sample_rate": SAMPLE_RATE,
        "egemaps": {"toolkit": "openSMILE via the opensmile wheel", "feature_set": "eGeMAPSv02",
                    "level": "low-level descriptors, 10 ms",
                    "pooling": "mean over the 10 frames of each 100 ms step; the *_sma3nz descriptors over its "
                               "voiced frames only (F0 > 0); voiced_share = the share of voiced frames",
                    "log": {"names": list(EGEMAPS_LOG), "floor": LOG_FLOOR}},
        "prosody": {"method": "pyin + RMS energy", "hop": AUDIO_HOP, "n_fft": AUDIO_FFT, "frame": PITCH_FRAME,
                    "fmin": PITCH_FMIN, "fmax": PITCH_FMAX,
                    "log_f0": "interpolated through unvoiced frames"},
        "pooling": f"mean of {AUDIO_POOL} consecutive 20 ms steps ({AUDIO_FPS:g} per second)",
        "span": "the speech span: Silero VAD (faster-whisper's, speech_pad_ms 0, min_silence_duration_ms 100) "
                "first start to last end, 0.1 s either side; the frames within 35 dB of the loudest when it "
                "hears none; at least 0.2 s",
        "mask": "steps not at least half inside the speech span are masked",
        "features": AUDIO_FEATURE_NAMES,
        "speaker_relative": {
            "names": RELATIVE_NAMES,
            "reference": "each value minus the speaker's median: over the span's steps, the voiced-only "
                         "descriptors over steps with voiced frames, log_f0 over pyin-voiced steps; a step "
                         "without voiced frames holds 0 (the median) in the voiced-only descriptors",
            "whose": "the recording itself unless a reference is given (features/voice_reference.py)",
        },
        "lexical": "none: no speech-recognition states (Whisper's encoder is not read)",
        "normalisation": "speaker-relative as above; models standardise with statistics stored in the checkpoint",
    },
    "visual": {
        "extractor": "mediapipe FaceLandmarker (VIDEO mode for clips, IMAGE mode for stills)",
        "model_sha256": FACE_MODEL_SHA256,
        "fps": VISUAL_FPS,
        "features": VISUAL_FEATURE_NAMES,
        "head_pose": "radians, from the facial transformation matrix (R = Rz·Ry·Rx)",
        "expression": {
            "model": "checkpoints/face_cnn.safetensors (288k-parameter CNN trained on the FER2013 training "
                     "split through the same crop path: training/train_face_cnn.py)",
            "sha256": FACE_CNN_SHA256,
            "crop": "features/face_crop.py crop_face: 48x48 grey, eyes levelled, FER2013 framing, from the "
                    "landmarks of the face the blendshapes come from (stills: as MediaPipe saw them, bordered "
                    "and upscaled)",
            "output": "the 64-d embedding before its heads, per frame with a face",
        },
        "no_face": "frame masked, values zero",
    },
}


def spec_without(modality: str, key: str, spec: dict = FEATURE_SPEC) -> dict:
    """The spec without one entry of a modality's section: what a cache made before that entry was
    added holds (`training.reembed_text` brings such caches up to date)."""
    return {**spec, modality: {k: v for k, v in spec[modality].items() if k != key}}


def without_text_adapter(spec: dict = FEATURE_SPEC) -> dict:
    """The spec with the plain (not fine-tuned) text encoder."""
    return spec_without("text", "adapter", spec)


def spec_id(spec: dict = FEATURE_SPEC) -> str:
    """Short, stable id: version plus a hash of the whole spec."""
    blob = json.dumps(spec, sort_keys=True).encode()
    return f"msa-v{spec['version']}-{hashlib.sha256(blob).hexdigest()[:8]}"


FEATURE_SPEC_ID = spec_id()
