"""The frame where the face was seen most clearly, with the 478 face landmarks drawn on it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def keyframe_image(frame: np.ndarray | None, landmarks: np.ndarray | None, max_side: int = 480) -> np.ndarray | None:
    """RGB uint8 [H, W, 3] with landmarks as small dots; None when there is no frame."""
    if frame is None:
        return None
    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    if landmarks is not None and len(landmarks):
        draw = ImageDraw.Draw(image)
        w, h = image.size
        r = max(1.0, min(w, h) / 300)
        for x, y in np.asarray(landmarks)[:, :2]:
            px, py = x * w, y * h
            draw.ellipse((px - r, py - r, px + r, py + r), fill=(80, 220, 120))
    return np.asarray(image)
