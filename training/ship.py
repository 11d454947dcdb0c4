"""`python -m training.ship`: runs/ -> checkpoints/<model>.safetensors + .json, one per model.

Which seed ships is decided on validation only (the lowest `val/loss` of the model's runs); the
test numbers are then added to its card, never used to choose. The card gets the shipped seed's own
clean test metrics, the mean ± std over all seeds (reports/metrics.json) and, where a run left a
corpus out, the unseen-corpus numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from msa_demo.models import copy_with_card, list_models, read_card


def choose_seed(runs: Path, model: str) -> Path | None:
    """The model's run with the lowest validation loss (None when it has no finished run)."""
    candidates = sorted((runs / model).glob("seed*.safetensors"))
    scored = [(read_card(p).get("metrics", {}).get("validation", {}).get("val/loss"), p) for p in candidates]
    scored = [(loss, p) for loss, p in scored if loss is not None]
    return min(scored)[1] if scored else None


def own_test_metrics(records: list[dict], checkpoint: Path) -> dict:
    out: dict[str, dict] = defaultdict(dict)
    for r in records:
        same = Path(r["checkpoint"]).resolve() == checkpoint.resolve()  # evaluate may have had it absolute
        if same and r["condition"] == "clean" and r["split"] == "test":
            out[r["corpus"]][r["metric"]] = r["value"]
    return dict(out)


def seed_summary(rows: list[dict], model: str, setting: str) -> dict:
    out: dict[str, dict] = defaultdict(dict)
    for r in rows:
        if r["model"] == model and r["condition"] == "clean" and r.get("setting") == setting:
            out[r["corpus"]][r["metric"]] = {k: r[k] for k in ("mean", "std", "n_seeds")}
    return dict(out)


def ship(runs: Path, eval_path: Path, metrics_path: Path, out: Path) -> list[Path]:
    records = [json.loads(line) for line in eval_path.read_text().splitlines() if line.strip()]
    rows = json.loads(metrics_path.read_text())
    shipped = []
    for model in list_models():
        best = choose_seed(runs, model)
        if best is None:
            print(f"{model}: no finished run under {runs / model}", file=sys.stderr)
            continue
        card = read_card(best)
        seeds = sorted(read_card(p)["seed"] for p in (runs / model).glob("seed*.safetensors"))
        card["metrics"] = {
            "validation": card.get("metrics", {}).get("validation", {}),
            "test": own_test_metrics(records, best),
            "test_over_seeds": seed_summary(rows, model, "in-domain"),
            "unseen_corpus_over_seeds": seed_summary(rows, model, "unseen corpus"),
        }
        card["selection"] = f"lowest validation loss among seeds {seeds} (test metrics were not consulted)"
        card["source_run"] = str(best)
        shipped.append(copy_with_card(best, out / model, card))
        print(f"{model}: shipped seed {card['seed']} -> {shipped[-1]} ({shipped[-1].stat().st_size / 1e6:.1f} MB)")
    return shipped


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs")
    p.add_argument("--eval", default="reports/eval.jsonl")
    p.add_argument("--metrics", default="reports/metrics.json")
    p.add_argument("--out", default="checkpoints")
    args = p.parse_args(argv)
    for path in (Path(args.eval), Path(args.metrics)):
        if not path.is_file():
            print(f"error: {path} not found: run python -m training.evaluate and training.report first",
                  file=sys.stderr)
            return 2
    shipped = ship(Path(args.runs), Path(args.eval), Path(args.metrics), Path(args.out))
    return 0 if shipped else 1


if __name__ == "__main__":
    sys.exit(main())
