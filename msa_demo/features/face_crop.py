"""A FER2013-like face crop from any frame and MediaPipe's 478 landmarks: 48x48 grey, eyes level.

Why: the face CNN (`face_cnn.py`) is trained on FER2013, whose stills are 48x48 grey crops of web
photos with a particular framing (roughly brows to chin, ears cut). A webcam frame must reach the
CNN framed the same way, or the CNN sees a different kind of picture than it learnt from. So the
crop is defined by FER2013 itself: `FER_TEMPLATE` is where four stable points (the two eye
centres and the two mouth corners) sit in FER2013's training stills, measured with MediaPipe
(`fer_template`, run by `python -m training.train_face_cnn --template`), after levelling the eyes.

The crop of a frame is the similarity transform that
- rotates about the eyes' midpoint so that the eyes are level (the roll is removed, as a
  face-alignment step should: FER2013 faces are mostly upright), and
- scales and shifts so the four points land on the template in the least-squares sense.

Eye centres are the means of each eye's corners (33/133 and 362/263), not the irises, so the crop
does not move with gaze. The warp goes to 4x the output size first and is then area-averaged to
48x48: a webcam face is often 150-300 px wide, and a direct bilinear warp would alias. Pixels outside
the frame replicate its border, as `visual._pad_small` does for FER stills. Pure numpy + OpenCV,
deterministic.
"""

from __future__ import annotations

import numpy as np

CROP_SIZE = 48  # FER2013's size
OVERSAMPLE = 4  # warp at 4x, then area-average down (no aliasing for large faces)

RIGHT_EYE = (33, 133)  # the subject's right eye: outer and inner corner (MediaPipe face mesh)
LEFT_EYE = (362, 263)  # the subject's left eye: inner and outer corner
MOUTH_CORNERS = (61, 291)

# (x, y) in the 48x48 crop, pixel centres at integers: right eye, left eye, right and left mouth
# corner. Medians over the FER2013 training stills where MediaPipe finds a face, eyes levelled
# (`python -m training.train_face_cnn --template` prints them; measured on 24,579 stills).
FER_TEMPLATE = np.array([
    [14.55, 18.51],
    [32.23, 18.51],
    [16.02, 36.61],
    [30.83, 36.61],
], np.float64)


def key_points(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """The four alignment points [4, 2] in pixel coordinates (pixel centres at integers)."""
    xy = np.asarray(landmarks, np.float64)[:, :2] * (width, height) - 0.5
    return np.stack([xy[list(RIGHT_EYE)].mean(0), xy[list(LEFT_EYE)].mean(0),
                     xy[MOUTH_CORNERS[0]], xy[MOUTH_CORNERS[1]]])


def alignment(landmarks: np.ndarray, width: int, height: int, size: int = CROP_SIZE) -> np.ndarray:
    """2x3 affine matrix taking frame pixels to crop pixels (a `size` x `size` crop)."""
    points = key_points(landmarks, width, height)
    template = (FER_TEMPLATE + 0.5) * (size / CROP_SIZE) - 0.5
    right, left = points[0], points[1]
    angle = np.arctan2(left[1] - right[1], left[0] - right[0])  # the eye line's slope in the frame
    c, s = np.cos(-angle), np.sin(-angle)
    rotation = np.array([[c, -s], [s, c]])  # undoes the slope: eyes level
    rotated = points @ rotation.T
    p0, q0 = rotated - rotated.mean(0), template - template.mean(0)
    scale = float((p0 * q0).sum() / max((p0 ** 2).sum(), 1e-9))  # least squares, rotation fixed
    shift = template.mean(0) - scale * rotated.mean(0)
    return np.hstack([scale * rotation, shift[:, None]])


def crop_face(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """The aligned grey crop [size, size] uint8 of `frame` (RGB [H, W, 3] or grey [H, W], uint8) and
    the face's MediaPipe landmarks ([478, 2 or 3], normalised to the frame's width and height)."""
    import cv2  # opencv-contrib-python, via mediapipe

    grey = frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    big = size * OVERSAMPLE
    matrix = alignment(landmarks, width, height, big)
    warped = cv2.warpAffine(grey, matrix, (big, big), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA)


def crop_points(landmarks: np.ndarray, width: int, height: int, size: int = CROP_SIZE) -> np.ndarray:
    """Where the four alignment points land in the crop (for tests and the template check)."""
    matrix = alignment(landmarks, width, height, size)
    points = key_points(landmarks, width, height)
    return points @ matrix[:, :2].T + matrix[:, 2]


def fer_template(points48: np.ndarray) -> np.ndarray:
    """The template from many FER2013 stills: `points48` [N, 4, 2] are the four key points of each
    still in its own 48x48 pixel coordinates. Each still's points are rotated about the eyes'
    midpoint so that its eyes are level, then the median is taken point by point, with the eyes
    (and the mouth corners) put on one common height."""
    eyes_mid = points48[:, :2].mean(1, keepdims=True)
    delta = points48[:, 1] - points48[:, 0]
    angle = np.arctan2(delta[:, 1], delta[:, 0])
    c, s = np.cos(-angle)[:, None], np.sin(-angle)[:, None]
    rel = points48 - eyes_mid
    levelled = np.stack([c * rel[..., 0] - s * rel[..., 1], s * rel[..., 0] + c * rel[..., 1]], -1) + eyes_mid
    template = np.median(levelled, axis=0)
    template[:2, 1] = template[:2, 1].mean()
    template[2:, 1] = template[2:, 1].mean()
    return template
