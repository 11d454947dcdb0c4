"""`python -m training.report`: reports/eval*.jsonl -> reports/metrics.json and reports/metrics.md.

Mean ± std over seeds (1111/1112/1113) per model, corpus, condition and metric, on test splits
only. metrics.json is a list of {"model", "corpus", "split", "metric", "mean", "std", "n_seeds",
"condition", "setting"}; setting is "in-domain" (the corpus was in training) or "unseen corpus"
(domain generalisation: e.g. trained without MOSI, tested on MOSI). The markdown holds the clean
table, the 7 subsets, the missing-rate sweep, the domain-generalisation table and, for each seed
method, its difference from the better of the two plain baselines under each condition.

"composite" rows (when training.evaluate wrote them) are the declared-synthetic composite test set
(training/composite_eval.py): tables beside the corpus tables, labelled synthetic, plus one table
of whether each model follows the text where it should. Without them the report is as before.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

MAIN_METRICS = {"mosi": ["acc2_has0", "acc2_non0", "f1_non0", "acc7", "mae", "corr"],
                "meld": ["valence3_acc", "valence3_f1"], "ravdess": ["valence3_acc", "valence3_f1"],
                "fer2013": ["valence3_acc", "valence3_f1"],
                "composite": ["valence3_acc", "valence3_f1", "acc2_non0", "mae", "follow_text"]}
HEADLINE = {"mosi": "acc2_non0", "meld": "valence3_acc", "ravdess": "valence3_acc", "fer2013": "valence3_acc",
            "composite": "valence3_acc"}
PERCENT = {"acc2_has0", "acc2_non0", "f1_has0", "f1_non0", "acc7", "valence3_acc", "valence3_f1", "follow_text"}
TITLE = {"composite": "composite (SYNTHETIC: test-split text + voice + face, conflicts included)"}
PATTERN_HEADS = {"agree": "all agree", "one_dissent": "one dissents from the text",
                 "three_way": "all three differ", "voice_face_vs_text": "voice + face against the text"}


def _percent(metric: str) -> bool:
    return metric.split(":", 1)[0] in PERCENT


IN_DOMAIN, UNSEEN = "in-domain", "unseen corpus"
BASELINES = ("late_fusion", "early_fusion")
LOWER_IS_BETTER = {"mae"}
# Subsets are left out of the comparison: every test corpus carries one or two modalities, so most
# subsets leave a model nothing, and the score is then its empty-input constant, not its method.
COMPARE_CONDITIONS = ["clean", "missing:0.3", "missing:0.5", "missing:0.7", "missing:0.9"]


def setting(record: dict) -> str:
    """In-domain when the corpus was trained on; for the composite set, when all of the corpora its
    parts come from were."""
    trained_on = record.get("trained_on")
    if trained_on is None:
        return IN_DOMAIN
    needed = record.get("sources") or [record["corpus"]]
    return IN_DOMAIN if set(needed) <= set(trained_on) else UNSEEN


def aggregate(records: list[dict]) -> list[dict]:
    groups: dict[tuple, dict[int, float]] = defaultdict(dict)
    for r in records:
        key = (r["model"], r["corpus"], r["split"], r["condition"], r["metric"], setting(r))
        groups[key][r["seed"]] = r["value"]
    out = []
    for (model, corpus, split, condition, metric, where), by_seed in sorted(groups.items()):
        values = np.array(list(by_seed.values()))
        out.append({"model": model, "corpus": corpus, "split": split, "metric": metric,
                    "mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "n_seeds": len(values), "condition": condition, "setting": where})
    return out


def compare_with_baselines(rows: list[dict]) -> list[dict]:
    """Each seed method vs the better plain baseline, per corpus headline metric and condition.

    verdict: "better"/"worse" when the difference of means exceeds the root sum of the two seed
    stds, else "no clear difference" — a plain rule for 3 seeds, not a significance test.
    """
    find = {(r["model"], r["corpus"], r["condition"], r["metric"], r["setting"]): r for r in rows}
    methods = sorted({r["model"] for r in rows} - set(BASELINES))
    cases = [(c, HEADLINE[c], cond, IN_DOMAIN) for c in HEADLINE for cond in COMPARE_CONDITIONS]
    cases += [("mosi", "mae", "clean", IN_DOMAIN), ("mosi", "acc2_non0", "clean", UNSEEN),
              ("mosi", "mae", "clean", UNSEEN)]
    out = []
    for method in methods:
        for corpus, metric, condition, where in cases:
            mine = find.get((method, corpus, condition, metric, where))
            base = [find[k] for k in ((b, corpus, condition, metric, where) for b in BASELINES) if k in find]
            if mine is None or not base:
                continue
            sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
            best = max(base, key=lambda r: sign * r["mean"])
            delta = mine["mean"] - best["mean"]
            spread = float(np.hypot(mine["std"], best["std"]))
            verdict = ("better" if sign * delta > spread else "worse" if sign * delta < -spread
                       else "no clear difference")
            out.append({"model": method, "baseline": best["model"], "corpus": corpus, "metric": metric,
                        "condition": condition, "setting": where, "delta": delta, "spread": spread,
                        "verdict": verdict, "n_seeds": min(mine["n_seeds"], best["n_seeds"])})
    return out


def _cell(row: dict | None) -> str:
    if row is None:
        return "—"
    scale = 100 if _percent(row["metric"]) else 1
    digits = 1 if scale == 100 else 3
    return f"{row['mean'] * scale:.{digits}f} ± {row['std'] * scale:.{digits}f}"


def markdown(all_rows: list[dict]) -> str:
    rows = [r for r in all_rows if r["setting"] == IN_DOMAIN]
    find = {(r["model"], r["corpus"], r["condition"], r["metric"]): r for r in rows}
    models = sorted({r["model"] for r in rows})
    corpora = [c for c in MAIN_METRICS if any(r["corpus"] == c for r in rows)]
    seeds = max((r["n_seeds"] for r in rows), default=0)
    lines = [f"# Test-split metrics (mean ± std over {seeds} seed(s))", "",
             "Generated by `python -m training.evaluate && python -m training.report`. Percentages for "
             "accuracies and F1; MAE and Corr as is.", ""]
    for corpus in corpora:
        metrics = MAIN_METRICS[corpus]
        lines += [f"## {TITLE.get(corpus, corpus)} — clean", "", "| model | " + " | ".join(metrics) + " |",
                  "|---|" + "---|" * len(metrics)]
        lines += [f"| {m} | " + " | ".join(_cell(find.get((m, corpus, "clean", k))) for k in metrics) + " |"
                  for m in models]
        lines.append("")
    for kind, title in (("subset:", "modality subsets"), ("missing:", "missing rate (all modalities)")):
        for corpus in corpora:
            metric = HEADLINE[corpus]
            conditions = sorted({r["condition"] for r in rows if r["corpus"] == corpus and r["condition"].startswith(kind)})
            names = [c.split(":", 1)[1] for c in conditions]
            name = f"{corpus} (synthetic)" if corpus == "composite" else corpus
            lines += [f"## {name} — {metric} by {title}", "", "| model | " + " | ".join(names) + " |",
                      "|---|" + "---|" * len(names)]
            lines += [f"| {m} | " + " | ".join(_cell(find.get((m, corpus, c, metric))) for c in conditions) + " |"
                      for m in models]
            lines.append("")
    lines += _composite_section(rows)
    lines += _generalisation_section(all_rows) + _comparison_section(compare_with_baselines(all_rows))
    return "\n".join(lines)


def _composite_section(rows: list[dict]) -> list[str]:
    """Does the prediction follow the text where it should? By what the model sees."""
    find = {(r["model"], r["metric"]): r for r in rows if r["corpus"] == "composite" and r["condition"] == "clean"}
    if not find:
        return []
    models = sorted({m for m, _ in find})
    heads = [p for p in PATTERN_HEADS if any((m, f"follow_text:{p}") in find for m in models)]
    counts = {p: next((find[(m, f"n:{p}")]["mean"] for m in models if (m, f"n:{p}") in find), 0) for p in heads}
    lines = ["## composite (SYNTHETIC) — does the prediction follow the text?", "",
             "Share of composites whose predicted polarity-3 is the text's, by what the model sees "
             "(training/composite_eval.py). Expected: follow the text when all agree, when one of voice "
             "and face dissents, and when all three differ (e.g. text positive, voice negative, face "
             "neutral); voice + face against the text is a near tie under the stated agreement rates "
             "(0.80 / 0.60 / 0.60, docs/DATA.md), so no expectation there. Built from test splits only; "
             "not a corpus.", "",
             "| model | follow_text (expected) | " + " | ".join(f"{PATTERN_HEADS[p]} (n={counts[p]:.0f})" for p in heads)
             + " |", "|---|---|" + "---|" * len(heads)]
    for m in models:
        lines.append(f"| {m} | {_cell(find.get((m, 'follow_text')))} | "
                     + " | ".join(_cell(find.get((m, f"follow_text:{p}"))) for p in heads) + " |")
    lines.append("")
    return lines


def _generalisation_section(rows: list[dict]) -> list[str]:
    unseen = [r for r in rows if r["setting"] == UNSEEN and r["condition"] == "clean"]
    if not unseen:
        return []
    find = {(r["model"], r["corpus"], r["metric"], r["setting"]): r for r in rows if r["condition"] == "clean"}
    lines = ["## Domain generalisation — clean test split of a corpus left out of training", ""]
    for corpus in sorted({r["corpus"] for r in unseen}):
        metrics = MAIN_METRICS[corpus]
        lines += [f"### {corpus}: trained without it (unseen) vs with it (in-domain)", "",
                  "| model | training | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
        for model in sorted({r["model"] for r in unseen if r["corpus"] == corpus}):
            for where in (UNSEEN, IN_DOMAIN):
                lines.append(f"| {model} | {where} | " + " | ".join(
                    _cell(find.get((model, corpus, k, where))) for k in metrics) + " |")
        lines.append("")
    return lines


def _comparison_section(comparison: list[dict]) -> list[str]:
    if not comparison:
        return []
    lines = ["## Does each seed method beat the better plain baseline?", "",
             "Difference of seed means (method − better of late_fusion/early_fusion; for MAE lower is "
             "better). Verdict: better/worse when |difference| exceeds the root sum of the two seed "
             "stds, else no clear difference. Caveat: where a sample has no observed step (a FER2013 "
             "still without a face) every model outputs its empty-input constant; a model whose constant "
             "falls in the majority class gains there without any fusion idea. A step drop never empties "
             "a modality (a still keeps its one frame at every missing rate).", "",
             "| method | corpus | metric | condition | training | baseline | difference | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for c in comparison:
        scale = 100 if _percent(c["metric"]) else 1
        digits = 1 if scale == 100 else 3
        lines.append(f"| {c['model']} | {c['corpus']} | {c['metric']} | {c['condition']} | {c['setting']} | "
                     f"{c['baseline']} | {c['delta'] * scale:+.{digits}f} (± {c['spread'] * scale:.{digits}f}) | "
                     f"{c['verdict']} |")
    lines.append("")
    return lines


def voice_sections(reports: Path) -> list[str]:
    """The voice's non-lexical check (training/shuffled_words.py) and the arousal readers' test scores
    (checkpoints/arousal.json), where they have been measured."""
    from .shuffled_words import markdown as shuffled_markdown

    lines = []
    shuffled = reports / "shuffled_words.json"
    if shuffled.is_file():
        lines += shuffled_markdown(json.loads(shuffled.read_text()))
    card = Path(__file__).resolve().parents[1] / "checkpoints" / "arousal.json"
    if card.is_file():
        modalities = json.loads(card.read_text())["modalities"]
        lines += ["## Arousal (how strongly) — the voice and face readers, test splits", "",
                  "`python -m training.train_arousal` (reports/arousal.md); floor = the training majority class.", "",
                  "| reader | test set | accuracy | balanced accuracy | floor (accuracy) |", "|---|---|---|---|---|"]
        for m, entry in modalities.items():
            for condition, s in entry["test"].items():
                lines.append(f"| {m} | {entry['corpus']}, {condition} | {100 * s['accuracy']:.1f} | "
                             f"{100 * s['balanced_accuracy']:.1f} | {100 * s['floor_accuracy']:.1f} |")
        lines += ["", "EmoDB (another language) is not in ../shared: not measured.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.report", description=__doc__.splitlines()[0])
    p.add_argument("--eval", nargs="+", default=["reports/eval.jsonl", "reports/eval-dg.jsonl"],
                   help="evaluation files (missing ones are skipped)")
    p.add_argument("--out", default="reports")
    args = p.parse_args(argv)
    paths = [Path(e) for e in args.eval if Path(e).is_file()]
    if not paths:
        print(f"error: none of {', '.join(args.eval)} found: run python -m training.evaluate first",
              file=sys.stderr)
        return 2
    records = [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]
    rows = aggregate([r for r in records if r["split"] == "test"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "comparison.json").write_text(json.dumps(compare_with_baselines(rows), indent=1) + "\n")
    (out / "metrics.md").write_text(markdown(rows) + "\n" + "\n".join(voice_sections(out)) + "\n")
    print(f"wrote {out / 'metrics.json'} and {out / 'metrics.md'} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
