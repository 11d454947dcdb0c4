"""What a poor camera or a hand does to a face: blur, occlusion, low light, dropped frames.

Frames are RGB uint8 [N, H, W, 3] at the pipeline's rate. Occlusion needs to know where the face is:
`face_boxes` reads it once from the clean frames with the app's own face model.
"""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
SENSOR_NOISE = 4.0  # grey levels (std) a dark frame's sensor adds once its gain is turned up


def blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of `sigma` pixels (frames are at most 640 px on their longest side)."""
    if sigma <= 0:
        return frames.copy()
    import cv2

    return np.stack([cv2.GaussianBlur(f, (0, 0), sigmaX=float(sigma)) for f in frames])


def occlude(frames: np.ndarray, boxes: list[Box | None], part: str, share: float) -> np.ndarray:
    """A grey band over the top (`part` "upper": eyes, brows) or bottom ("lower": mouth, jaw)
    `share` of each frame's face box. Frames where no box is known take the nearest known one."""
    out = frames.copy()
    filled = _nearest(boxes)
    for frame, box in zip(out, filled):
        if box is None:
            continue
        x0, y0, x1, y1 = box
        cover = int(round((y1 - y0) * share))
        rows = slice(y0, y0 + cover) if part == "upper" else slice(y1 - cover, y1)
        frame[rows, x0:x1] = 128
    return out


def low_light(frames: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """The room at `level` x its light: darker frames, with the sensor noise a dark picture has."""
    rng = np.random.default_rng(seed)
    dark = frames.astype(np.float32) * level + rng.normal(0.0, SENSOR_NOISE, frames.shape)
    return np.clip(np.round(dark), 0, 255).astype(np.uint8)


def dropped(n: int, share: float, seed: int = 0) -> np.ndarray:
    """Which of `n` frames arrive when `share` of them are dropped (a stalling webcam): a bool mask,
    seeded, at least one frame kept."""
    keep = np.random.default_rng(seed).random(n) >= share
    if n and not keep.any():
        keep[0] = True
    return keep


def face_boxes(face, frames: np.ndarray, times: np.ndarray) -> list[Box | None]:
    """The largest face's landmark box in each frame (None where no face), read with `face` (a
    features.visual.FaceFeaturizer), the same detector the features come from; its face CNN is not
    run (the boxes need the landmarks only)."""
    boxes: list[Box | None] = [None] * len(frames)
    h, w = frames.shape[1:3] if len(frames) else (0, 0)

    def on_face(i, frame, landmarks):
        xs, ys = landmarks[:, 0] * w, landmarks[:, 1] * h
        boxes[i] = (max(int(xs.min()), 0), max(int(ys.min()), 0), min(int(xs.max()) + 1, w),
                    min(int(ys.max()) + 1, h))

    if len(frames) == 1:
        face.extract_image(frames[0], on_face=on_face, embed=False)
    else:
        face.extract_video(frames, times, on_face=on_face, embed=False)
    return boxes


def _nearest(boxes: list[Box | None]) -> list[Box | None]:
    known = [i for i, b in enumerate(boxes) if b is not None]
    if not known:
        return list(boxes)
    return [boxes[min(known, key=lambda k: abs(k - i))] for i in range(len(boxes))]
