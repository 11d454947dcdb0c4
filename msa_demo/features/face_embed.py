"""Frames -> MediaPipe landmarks -> aligned crops -> face-CNN outputs, for clips and stills.

The crops are the ones `visual.FaceTrack` takes for the visual features (its `crops`: the landmarks
the blendshapes come from, MediaPipe run once), so the CNN's training data, its report and the
pipeline crop the same way.

- A clip: a frame with a face gives a crop; a frame without one has none (masked, as the
  blendshapes are).
- A still: MediaPipe sees it bordered and upscaled (`visual._pad_small`) and the crop is taken from
  that image; a still where no face is found keeps its own pixels as the crop, resized to 48x48 —
  the fallback the CNN was trained with for FER2013's 8.7 % of such stills.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face_cnn import FaceExpression, FaceExpressionModel
from .face_crop import CROP_SIZE


@dataclass
class FacePixels:
    crops: np.ndarray  # [N, 48, 48] uint8 (zeros where there is no crop)
    found: np.ndarray  # [N] bool: a crop from landmarks (stills: False means the raw fallback)
    expression: FaceExpression  # per frame [N, ...] (rows without a crop are zero)
    track: object  # the visual.FaceTrack (blendshapes, head pose, mask), unchanged


def crops_of_video(featurizer, frames: np.ndarray, times: np.ndarray):
    """(FaceTrack, crops [N, 48, 48], found [N]) for a clip's frames."""
    track = featurizer.extract_video(frames, times)
    return track, track.crops, track.mask.copy()


def crop_of_still(featurizer, image: np.ndarray):
    """(FaceTrack, crop [48, 48], found) for one still (RGB or grey uint8)."""
    import cv2

    track = featurizer.extract_image(image)
    if track.mask[0]:
        return track, track.crops[0], True
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    if grey.shape != (CROP_SIZE, CROP_SIZE):
        grey = cv2.resize(grey, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    return track, grey, False


def embed_video(featurizer, model: FaceExpressionModel, frames: np.ndarray, times: np.ndarray) -> FacePixels:
    track, crops, found = crops_of_video(featurizer, frames, times)
    return FacePixels(crops, found, _expression(model, crops, found), track)


def embed_still(featurizer, model: FaceExpressionModel, image: np.ndarray) -> FacePixels:
    track, crop, found = crop_of_still(featurizer, image)
    return FacePixels(crop[None], np.array([found]), model(crop[None]), track)


def _expression(model: FaceExpressionModel, crops: np.ndarray, found: np.ndarray) -> FaceExpression:
    seen = model(crops[found])
    full = FaceExpression(*(np.zeros((len(crops),) + a.shape[1:], np.float32) for a in
                            (seen.embedding, seen.emotion, seen.valence3, seen.valence)))
    for name in ("embedding", "emotion", "valence3", "valence"):
        getattr(full, name)[found] = getattr(seen, name)
    return full
