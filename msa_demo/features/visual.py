"""Facial features with MediaPipe Tasks FaceLandmarker: 52 blendshapes, head pose, a face flag, and
the face CNN's 64-d expression embedding of the face's aligned 48x48 crop (features/face_crop.py,
features/face_cnn.py): the blendshapes describe the mesh, the CNN reads the pixels.

VIDEO mode (with tracking) for clips, IMAGE mode for stills. A VIDEO-mode landmarker keeps
tracking state between calls, so each clip gets a fresh one: otherwise a clip's features would
depend on the clip analysed before it. The model bytes are read and hash-checked once; IMAGE-mode
landmarkers are kept one per thread (they are not thread-safe).
"""

from __future__ import annotations

import atexit
import math
import threading
import weakref

import numpy as np

from ..assets import resolve_face_model
from .face_crop import CROP_SIZE, crop_face
from .spec import BLENDSHAPE_NAMES, FACE_CNN_DIM, VISUAL_DIM, VISUAL_FPS
from .types import ModalityFeatures

SMALL_STILL = 160  # stills smaller than this (FER's 48x48 crops) get a border and an upscale
FACE_PRESENT = len(BLENDSHAPE_NAMES) + 3  # the face_present column
EMBEDDING = slice(FACE_PRESENT + 1, FACE_PRESENT + 1 + FACE_CNN_DIM)  # the face CNN's columns


class FaceFeaturizer:
    def __init__(self, model_path: str | None = None, expression="shipped"):
        """`expression`: the face CNN (a FaceExpressionModel), "shipped" for the one the feature spec
        names, or None to leave its columns zero (training the CNN itself collects crops only)."""
        if expression == "shipped":
            expression = shipped_expression_model()
        self.expression = expression
        path = model_path or str(resolve_face_model())
        with open(path, "rb") as fh:
            self._model = fh.read()
        self._local = threading.local()
        self._open: "weakref.WeakSet" = weakref.WeakSet()
        # close at exit before concurrent.futures stops taking work (MediaPipe's close() submits to an
        # executor; from a plain atexit handler it printed "cannot schedule new futures after shutdown")
        _register_early_exit(_close_all, self._open)

    def _create(self, video: bool):
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=self._model),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=2,  # so that "two people in view" is seen and the larger face chosen
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        return vision.FaceLandmarker.create_from_options(options)

    def _image_landmarker(self):
        if getattr(self._local, "image", None) is None:
            self._local.image = self._create(video=False)
            self._open.add(self._local.image)
        return self._local.image

    def extract_video(self, frames: np.ndarray, times: np.ndarray, on_face=None,
                      embed: bool = True) -> "FaceTrack":
        """Features for frames sampled at ~10 fps with their times in seconds. `on_face(i, frame,
        landmarks)` is called for each frame with a face (see FaceTrack.add). `embed=False` skips
        the face CNN (its columns stay zero): for callers that want the landmarks only."""
        track = FaceTrack(len(frames), on_face)
        if not len(frames):
            return track
        landmarker = self._create(video=True)
        try:
            last_ms = -1
            for i, (frame, t) in enumerate(zip(frames, times)):
                ms = max(int(round(t * 1000)), last_ms + 1)  # strictly increasing, as VIDEO mode needs
                last_ms = ms
                track.add(i, landmarker.detect_for_video(_mp_image(frame), ms), frame)
        finally:
            landmarker.close()
        track.embed(self.expression if embed else None)
        return track

    def extract_image(self, image: np.ndarray, on_face=None, embed: bool = True) -> "FaceTrack":
        image = _pad_small(image)
        track = FaceTrack(1, on_face)
        track.add(0, self._image_landmarker().detect(_mp_image(image)), image)
        track.embed(self.expression if embed else None)
        return track


def shipped_expression_model():
    """The face CNN the feature spec names (its sha256 is checked against the spec's)."""
    from ..assets import FACE_CNN_SHA256
    from .face_cnn import FaceCNNError, FaceExpressionModel

    model = FaceExpressionModel()
    if model.card.get("sha256") != FACE_CNN_SHA256:
        raise FaceCNNError("checkpoints/face_cnn.safetensors is not the face CNN the feature spec names "
                           f"(sha256 {str(model.card.get('sha256'))[:12]}…, "
                           f"spec {FACE_CNN_SHA256[:12]}…)")
    return model


class FaceTrack:
    """Per-frame results accumulated into the feature matrix, plus the best keyframe."""

    def __init__(self, n: int, on_face=None):
        self.on_face = on_face  # hook for pixel-level features (face_crop.py); output unchanged
        self.values = np.zeros((n, VISUAL_DIM), np.float32)
        self.mask = np.zeros(n, bool)
        self.crops = np.zeros((n, CROP_SIZE, CROP_SIZE), np.uint8)  # the face's aligned crop, per frame
        self.multi_face_frames = 0
        self.keyframe: np.ndarray | None = None
        self.keyframe_landmarks: np.ndarray | None = None
        self._best_area = -1.0

    def add(self, i: int, result, frame: np.ndarray) -> None:
        if not result.face_landmarks:
            return
        self.multi_face_frames += len(result.face_landmarks) > 1
        areas = [_area(lms) for lms in result.face_landmarks]
        k = int(np.argmax(areas))
        if not result.face_blendshapes or not result.facial_transformation_matrixes:
            return
        landmarks = np.array([[p.x, p.y, p.z] for p in result.face_landmarks[k]], np.float32)
        # the frame as MediaPipe saw it (stills: bordered, upscaled)
        self.crops[i] = crop_face(frame, landmarks)
        if self.on_face is not None:
            self.on_face(i, frame, landmarks)
        scores = {c.category_name: c.score for c in result.face_blendshapes[k]}
        self.values[i, : len(BLENDSHAPE_NAMES)] = [scores.get(n, 0.0) for n in BLENDSHAPE_NAMES]
        self.values[i, len(BLENDSHAPE_NAMES): len(BLENDSHAPE_NAMES) + 3] = head_pose(
            np.asarray(result.facial_transformation_matrixes[k])
        )
        self.values[i, FACE_PRESENT] = 1.0
        self.mask[i] = True
        if areas[k] > self._best_area:
            self._best_area = areas[k]
            self.keyframe = frame
            self.keyframe_landmarks = landmarks

    def embed(self, expression) -> None:
        """The face CNN's embedding of every frame with a face (one batch; None leaves it zero)."""
        if expression is not None and self.mask.any():
            self.values[self.mask, EMBEDDING] = expression(self.crops[self.mask]).embedding

    @property
    def face_fraction(self) -> float:
        return float(self.mask.mean()) if len(self.mask) else 0.0

    def features(self, times: np.ndarray, fps: float = VISUAL_FPS) -> ModalityFeatures:
        times = np.asarray(times, dtype=np.float64)
        spans = np.stack([times, times + 1.0 / fps], axis=1) if len(times) else np.zeros((0, 2))
        return ModalityFeatures(self.values, self.mask, spans, present=bool(self.mask.any()))


def _register_early_exit(function, *args) -> None:
    """Run at exit with threading's own exit hooks, which run before executors shut down (CPython's
    private hook; plain atexit where it is missing)."""
    register = getattr(threading, "_register_atexit", None)
    if register is None:  # pragma: no cover - other Pythons
        atexit.register(function, *args)
    else:
        register(function, *args)


def _close_all(landmarkers) -> None:
    for landmarker in list(landmarkers):
        try:
            landmarker.close()
        except RuntimeError:  # MediaPipe's executor may already be shut down at exit: nothing to free
            pass


def head_pose(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in radians from the 4x4 facial transformation matrix, R = Rz·Ry·Rx."""
    r = matrix[:3, :3]
    yaw = math.asin(float(np.clip(-r[2, 0], -1.0, 1.0)))
    pitch = math.atan2(float(r[2, 1]), float(r[2, 2]))
    roll = math.atan2(float(r[1, 0]), float(r[0, 0]))
    return yaw, pitch, roll


def _area(landmarks) -> float:
    xs = [p.x for p in landmarks]
    ys = [p.y for p in landmarks]
    return (max(xs) - min(xs)) * (max(ys) - min(ys))


def _mp_image(rgb: np.ndarray):
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb, dtype=np.uint8))


def _pad_small(image: np.ndarray) -> np.ndarray:
    """Tight small crops defeat the face detector: add a border, then upscale."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    h, w = image.shape[:2]
    if max(h, w) >= SMALL_STILL:
        return image
    import cv2

    border = max(h, w) // 2
    padded = cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_REPLICATE)
    scale = 256 / max(padded.shape[:2])
    return cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
