"""`python -m training.train_face_cnn`: train the face CNN on FER2013's training split.

Data: `cache/face_cnn/fer2013.npz` (`python -m training.face_cnn_data`), i.e. FER2013 de-duplicated
by sha256 with the project's reader, its official splits and its label mapping (emotion -> valence
-> polarity-3 through `corpora/labels.py`). Only the training split is learnt from; the epoch (and
later the input mode and the valence head) is chosen on the validation split; the test split is
scored once, for the chosen epoch, and never read before that.

Inputs (`--input`):
- `crop`: each still goes through the app's own path — bordered and upscaled as `visual.py` does for
  stills, MediaPipe's landmarks, `face_crop.crop_face` — so training crops are framed exactly as
  webcam crops will be; stills where MediaPipe finds no face (8.7 %) keep their raw 48x48 pixels;
- `raw`: FER2013's own 48x48 pixels.
Both are evaluated on validation through both paths, so "which input is better" is measured on the
path the app uses (`valid_crop`).

One network, three heads trained together: emotion-7 (cross-entropy), valence-3 (cross-entropy)
and an ordinal cumulative-link valence head (negative < neutral < positive). Both valence heads see
the same features, so their comparison is a comparison of heads, not of runs.

`--template` prints `face_crop.FER_TEMPLATE` measured on the training stills, and exits.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from msa_demo.corpora.labels import polarity3_index
from msa_demo.machine import cpu_name
from msa_demo.features import face_crop
from msa_demo.features.face_cnn import FaceCNN, ordinal_probs

from .face_augment import SETTINGS as AUGMENT
from .face_augment import augment
from .face_cnn_data import load

CONFIG = {"widths": [32, 64, 128], "embed_dim": 64, "dropout": 0.2}
ORIGINAL = 48
PAD = ORIGINAL // 2  # visual._pad_small's border for a 48x48 still


def has_face(data: dict) -> np.ndarray:
    return ~np.isnan(data["landmarks"][:, 0, 0].astype(np.float32))


def crops(data: dict) -> np.ndarray:
    """The app-path crop of every still (raw pixels where MediaPipe found no face)."""
    from msa_demo.features.visual import _pad_small

    out = data["grey"].copy()
    for i in np.flatnonzero(has_face(data)):
        out[i] = face_crop.crop_face(_pad_small(data["grey"][i]), data["landmarks"][i].astype(np.float32))
    return out


def template(data: dict) -> np.ndarray:
    """FER_TEMPLATE from the training stills: key points mapped from the padded still back to 48x48."""
    pad_side = ORIGINAL + 2 * PAD
    train = (data["split"] == "train") & has_face(data)
    points = np.stack([face_crop.key_points(lms.astype(np.float64), pad_side, pad_side) - PAD
                       for lms in data["landmarks"][train]])
    return face_crop.fer_template(points), int(train.sum())


def targets(data: dict) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(data["emotion"]),
            torch.from_numpy(polarity3_index(data["valence"])))


def losses(out: dict, net: FaceCNN, emotion: torch.Tensor, val3: torch.Tensor) -> torch.Tensor:
    ordinal = ordinal_probs(out["ordinal"], net.cuts())
    return (F.cross_entropy(out["emotion"], emotion, label_smoothing=0.1)
            + F.cross_entropy(out["valence3"], val3, label_smoothing=0.1)
            + F.nll_loss(ordinal.clamp_min(1e-7).log(), val3))


@torch.no_grad()
def evaluate(net: FaceCNN, images: np.ndarray, emotion: torch.Tensor, val3: torch.Tensor) -> dict:
    """Accuracies (%) of the three heads, plus the weighted F1 of each valence head."""
    net.eval()
    outs = [net(torch.from_numpy(images[i:i + 512])) for i in range(0, len(images), 512)]
    net.train()
    em = torch.cat([o["emotion"] for o in outs]).argmax(1)
    v3 = torch.cat([o["valence3"] for o in outs]).argmax(1)
    vo = ordinal_probs(torch.cat([o["ordinal"] for o in outs]), net.cuts()).argmax(1)
    return {"emotion7": _pct(em == emotion), "valence3": _pct(v3 == val3), "valence3_ordinal": _pct(vo == val3),
            "valence3_f1": _f1(v3, val3), "valence3_ordinal_f1": _f1(vo, val3), "n": len(images)}


def _pct(hits: torch.Tensor) -> float:
    return round(100 * hits.float().mean().item(), 2)


def _f1(pred: torch.Tensor, true: torch.Tensor) -> float:
    total = 0.0
    for c in range(3):
        tp = ((pred == c) & (true == c)).sum().item()
        p, t = (pred == c).sum().item(), (true == c).sum().item()
        total += t * (2 * tp / (p + t) if p + t else 0.0)
    return round(100 * total / len(true), 2)


def train(data: dict, input_mode: str, epochs: int, seed: int, batch: int, lr: float, out: Path,
          threads: int) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    split = data["split"]
    app_path = crops(data)
    images = {"crop": app_path, "raw": data["grey"]}
    train_images = images[input_mode][split == "train"]
    emotion, val3 = targets(data)
    tr = torch.from_numpy(split == "train")
    va = torch.from_numpy(split == "valid")
    te = torch.from_numpy(split == "test")
    net = FaceCNN(tuple(CONFIG["widths"]), CONFIG["embed_dim"], CONFIG["dropout"])
    steps = epochs * (len(train_images) // batch)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    history, best, best_state, started = [], None, None, time.time()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train_images))
        total = 0.0
        for k in range(len(train_images) // batch):
            rows = order[k * batch:(k + 1) * batch]
            x = augment(train_images[rows], rng)
            loss = losses(net(x), net, emotion[tr][rows], val3[tr][rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        row = {"epoch": epoch, "loss": round(total / (k + 1), 4), "seconds": round(time.time() - started, 1),
               "valid_crop": evaluate(net, app_path[split == "valid"], emotion[va], val3[va]),
               "valid_raw": evaluate(net, data["grey"][split == "valid"], emotion[va], val3[va])}
        history.append(row)
        print(json.dumps(row), flush=True)
        score = max(row["valid_crop"]["valence3"], row["valid_crop"]["valence3_ordinal"])
        if best is None or score > best[0]:
            best = (score, epoch)
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    chosen = history[best[1] - 1]
    head = ("ordinal" if chosen["valid_crop"]["valence3_ordinal"] > chosen["valid_crop"]["valence3"]
            else "valence3")
    test = {"test_crop": evaluate(net, app_path[split == "test"], emotion[te], val3[te]),
            "test_raw": evaluate(net, data["grey"][split == "test"], emotion[te], val3[te])}
    print("test (chosen epoch, scored once):", json.dumps(test), flush=True)
    card = {
        "model": "face_cnn", "config": CONFIG, "input": input_mode, "valence_head": head,
        "parameters": sum(p.numel() for p in net.parameters()),
        "selection": "epoch with the best validation valence-3 accuracy (either head) on the app-path "
                     "crops (valid_crop); the valence head with the better validation accuracy at that epoch",
        "selected_epoch": best[1], "epochs": epochs, "seed": seed, "batch": batch, "lr": lr,
        "optimiser": "AdamW (weight decay 5e-4), one-cycle LR", "loss": "CE(emotion-7, smoothing 0.1) + "
        "CE(valence-3, smoothing 0.1) + NLL of the cumulative-link valence head",
        "augmentation": AUGMENT, "threads": threads,
        "data": data_card(data),
        "validation": {k: chosen[k] for k in ("valid_crop", "valid_raw")}, **test,
        "history": history, "train_seconds": round(time.time() - started, 1),
        "cpu": cpu_name(), "torch": torch.__version__, "git_commit": _commit(),
    }
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out / "face_cnn.safetensors"))
    (out / "face_cnn.json").write_text(json.dumps(card, indent=1))
    print(f"wrote {out}/face_cnn.safetensors (+ .json): epoch {best[1]}, head {head}")
    return card


def data_card(data: dict) -> dict:
    split = data["split"]
    face = has_face(data)
    return {
        "corpus": "FER2013 (Goodfellow et al. 2013), research use: ../shared/data/fer2013/fer2013.zip",
        "reader": "msa_demo.corpora.fer2013.Fer2013Reader (sha256 de-duplication, official splits)",
        "labels": "emotion-7 as in FER2013; valence-3 via msa_demo.corpora.labels (emotion_valence, "
                  "polarity3_index)",
        "sizes": {s: int((split == s).sum()) for s in ("train", "valid", "test")},
        "face_found": {s: round(100 * float(face[split == s].mean()), 1) for s in ("train", "valid", "test")},
        "cache": "python -m training.face_cnn_data (MediaPipe FaceLandmarker, IMAGE mode, on the "
                 "bordered and upscaled still as visual.py does)",
    }


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.train_face_cnn", description=__doc__.splitlines()[0])
    p.add_argument("--data", default="cache/face_cnn/fer2013.npz")
    p.add_argument("--input", choices=("crop", "raw"), default="crop")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: no OpenMP spinning on a shared CPU)")
    p.add_argument("--out", default=None, help="default runs-face/<input>")
    p.add_argument("--template", action="store_true", help="print FER_TEMPLATE and exit")
    args = p.parse_args(argv)
    data = load(Path(args.data))
    if args.template:
        points, n = template(data)
        print(f"FER_TEMPLATE from {n} training stills with a face:")
        print(np.array2string(points, precision=2, separator=", "))
        return 0
    train(data, args.input, args.epochs, args.seed, args.batch, args.lr,
          Path(args.out or f"runs-face/{args.input}"), args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
