"""`python -m training.face_cnn_data`: FER2013 through MediaPipe once, for the face CNN.

The face CNN must see FER2013 the way it will see a webcam frame: through MediaPipe's landmarks and
`face_crop.crop_face`. Running MediaPipe on 34k stills takes minutes, so it is done once here and
kept in a git-ignored file (`cache/face_cnn/fer2013.npz`): per de-duplicated image its split, the
7 emotion classes, the raw 48x48 grey pixels, the 478 landmarks MediaPipe finds on the bordered and
upscaled still (`visual._pad_small`, as the app does for stills; NaN where no face), and the 56
visual features of the current spec (blendshapes, head pose, face flag) for the blendshape probe.

Images, splits, de-duplication and labels come from `msa_demo.corpora.fer2013` (the same reader the
feature caches use), so the CNN's splits are the models' splits.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013's order
SPLITS = ("train", "valid", "test")
N_LANDMARKS = 478

_featurizer = None


def _init(model_path: str | None) -> None:
    global _featurizer
    from msa_demo.features.visual import FaceFeaturizer

    _featurizer = FaceFeaturizer(model_path, expression=None)


def _one(media: str):
    """(grey 48x48, landmarks [478, 2] in the padded still's normalised coords or NaN, 56 features)."""
    from msa_demo.corpora.base import read_zip_media
    from msa_demo.media import load_image

    rgb = load_image(read_zip_media(media)).frames[0]
    found = {}
    track = _featurizer.extract_image(rgb, on_face=lambda i, frame, lms: found.update(lms=lms))
    lms = found["lms"][:, :2] if "lms" in found else np.full((N_LANDMARKS, 2), np.nan, np.float32)
    return rgb[..., 0].copy(), lms.astype(np.float32), track.values[0].copy()


def _chunk(medias: list[str]) -> list:
    return [_one(m) for m in medias]


def build(shared: Path, out: Path, workers: int, model_path: str | None, limit: int | None = None) -> dict:
    from msa_demo.corpora.fer2013 import Fer2013Reader

    reader = Fer2013Reader(shared)
    items = list(reader.items())
    if limit:
        items = items[:limit]
    medias = [it.media for it in items]
    chunks = [medias[i:i + 200] for i in range(0, len(medias), 200)]
    started, results = time.time(), []
    with mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(model_path,)) as pool:
        for k, part in enumerate(pool.imap(_chunk, chunks)):
            results.extend(part)
            if k % 20 == 0:
                print(f"  {len(results)}/{len(medias)} stills, {time.time() - started:.0f} s", flush=True)
    grey = np.stack([r[0] for r in results]).astype(np.uint8)
    landmarks = np.stack([r[1] for r in results]).astype(np.float16)
    visual = np.stack([r[2] for r in results]).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, ids=np.array([it.id for it in items]), split=np.array([it.split for it in items]),
             emotion=np.array([EMOTIONS.index(it.label_class) for it in items], np.int64),
             valence=np.array([it.label for it in items], np.float32), group=np.array([it.group for it in items]),
             grey=grey, landmarks=landmarks, visual=visual)
    face = ~np.isnan(landmarks[:, 0, 0].astype(np.float32))
    summary = {"items": len(items), "with_face": int(face.sum()), "seconds": round(time.time() - started, 1),
               "dedup": vars(reader.report)}
    print(f"wrote {out}: {summary['items']} stills, face in {summary['with_face']} "
          f"({100 * face.mean():.1f} %), {summary['seconds']} s")
    return summary


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.face_cnn_data", description=__doc__.splitlines()[0])
    p.add_argument("--shared", default="../shared")
    p.add_argument("--out", default="cache/face_cnn/fer2013.npz")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--face-model", default=None, help="face_landmarker.task (default: MSA_FACE_MODEL, ...)")
    p.add_argument("--limit", type=int, default=None, help="first N stills only (a smoke test)")
    args = p.parse_args(argv)
    face_model = args.face_model
    if face_model is None and (Path(args.shared) / "models/face_landmarker.task").is_file():
        face_model = str(Path(args.shared) / "models/face_landmarker.task")
    build(Path(args.shared), Path(args.out), args.workers, face_model, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
