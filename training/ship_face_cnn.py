"""`python -m training.ship_face_cnn`: ship the face CNN run that is best on validation.

Reads `runs-face/*/face_cnn.json` (from `python -m training.train_face_cnn --input crop|raw`),
picks the run with the best validation valence-3 accuracy on the app-path crops (`valid_crop`,
either head; test numbers are never looked at), and writes `checkpoints/face_cnn.safetensors` and
`checkpoints/face_cnn.json`: the run's card plus the sha256 of the weights, every run's validation
and test numbers side by side (crop vs raw input), and a fixed test sample scored through the live
path (MediaPipe on the still, `face_embed.crop_of_still`, the CNN), which `tests/test_face_cnn.py`
re-scores to check that the shipped file still does what its card says.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

SAMPLE_STEP = 22  # every 22nd de-duplicated test still: 162 stills, all classes, a few seconds to score


def valid_score(card: dict) -> float:
    v = card["validation"]["valid_crop"]
    return max(v["valence3"], v["valence3_ordinal"])


def sample_metrics(shared: Path, checkpoint: Path, face_model: str | None) -> dict:
    """The fixed test sample through the live path: files, and the accuracies the card promises."""
    from msa_demo.corpora.base import read_zip_media
    from msa_demo.corpora.fer2013 import Fer2013Reader
    from msa_demo.corpora.labels import polarity3_index
    from msa_demo.features.face_cnn import EMOTIONS, FaceExpressionModel
    from msa_demo.features.face_embed import embed_still
    from msa_demo.features.visual import FaceFeaturizer
    from msa_demo.media import load_image

    test = [it for it in Fer2013Reader(shared).items() if it.split == "test"][::SAMPLE_STEP]
    model, featurizer = FaceExpressionModel(checkpoint), FaceFeaturizer(face_model, expression=None)
    rows = [embed_still(featurizer, model, load_image(read_zip_media(it.media)).frames[0]) for it in test]
    emotion = np.array([EMOTIONS.index(it.label_class) for it in test])
    val3 = polarity3_index(np.array([it.label for it in test]))
    pred_em = np.array([r.expression.emotion[0].argmax() for r in rows])
    pred_v3 = np.array([r.expression.valence3[0].argmax() for r in rows])
    return {"files": [it.media.split("::", 1)[1] for it in test], "n": len(test),
            "found_face": int(sum(bool(r.found[0]) for r in rows)),
            "emotion7": round(100 * float((pred_em == emotion).mean()), 2),
            "valence3": round(100 * float((pred_v3 == val3).mean()), 2),
            "how": f"de-duplicated FER2013 test stills in reader order, one in {SAMPLE_STEP}; live path "
                   "(MediaPipe IMAGE mode, face_embed.crop_of_still, the shipped CNN)"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.ship_face_cnn", description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs-face")
    p.add_argument("--out", default="checkpoints")
    p.add_argument("--shared", default="../shared")
    args = p.parse_args(argv)
    from msa_demo.features.face_cnn import sha256_of

    runs = {path.parent.name: json.loads(path.read_text()) for path in sorted(Path(args.runs).glob("*/face_cnn.json"))}
    if not runs:
        print(f"no runs in {args.runs}/*/face_cnn.json", file=sys.stderr)
        return 2
    name = max(runs, key=lambda r: valid_score(runs[r]))
    card = dict(runs[name])
    card["run"] = name
    card["runs_compared"] = {
        r: {"input": c["input"], "valid_crop": c["validation"]["valid_crop"], "valid_raw": c["validation"]["valid_raw"],
            "test_crop": c["test_crop"], "test_raw": c["test_raw"], "selected_epoch": c["selected_epoch"]}
        for r, c in runs.items()}
    card["shipped_because"] = (f"best validation valence-3 on app-path crops: {valid_score(runs[name]):.2f} % "
                               f"({', '.join(f'{r} {valid_score(c):.2f}' for r, c in runs.items())})")
    out = Path(args.out)
    weights = out / "face_cnn.safetensors"
    shutil.copyfile(Path(args.runs) / name / "face_cnn.safetensors", weights)
    card["sha256"] = sha256_of(weights)
    card_path = out / "face_cnn.json"
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    face_model = Path(args.shared) / "models/face_landmarker.task"
    card["test_sample"] = sample_metrics(Path(args.shared), weights,
                                         str(face_model) if face_model.is_file() else None)
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    print(f"shipped {name}: {card['shipped_because']}; sha256 {card['sha256'][:12]}…; "
          f"sample {card['test_sample']['valence3']} % valence-3, {card['test_sample']['emotion7']} % emotion-7")
    return 0


if __name__ == "__main__":
    sys.exit(main())
