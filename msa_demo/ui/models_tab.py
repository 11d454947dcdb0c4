"""The Models tab: each model's checkpoint card and metrics (or why it has none).

A shipped card (training/ship.py) carries
`metrics = {"validation": {"val/<corpus>_<mae|pol3>", "val/loss", "epoch"}, "test": {corpus: {metric}},
"test_over_seeds": {corpus: {metric: {"mean", "std", "n_seeds"}}}, "unseen_corpus_over_seeds": {...}}`,
plus "selection", "seed", "corpora" [{"name", "licence"}] and "training". The tab shows one row per
corpus · metric with those sources side by side, accuracies and F1 in percent, MAE and Corr as decimals.
"""

from __future__ import annotations

import math
import re

import gradio as gr
import pandas as pd

from ..error_analysis.evaluation import CORPUS_ORDER, METRIC_NAMES, PERCENT
from .context import AppContext

ALL_CORPORA = "all"
COLUMNS = {  # card section -> column header, in display order
    "test": "this checkpoint (test)",
    "test_over_seeds": "mean ± std over seeds (n)",
    "unseen_corpus_over_seeds": "corpus left out of training: mean ± std (n)",
    "validation": "validation (this seed, chosen epoch)",
}
VALIDATION = re.compile(r"^val/(?P<corpus>.+)_(?P<metric>mae|pol3)$")
VALIDATION_METRICS = {"mae": "mae", "pol3": "valence3_acc"}  # training/module.py's names -> ours
EXTRA_NAMES = {"val_loss": "val loss (mean of per-corpus MAE)"}
LEGEND = ("*Test: this checkpoint on each corpus's test split. Over seeds: every seed of this model, "
          "test split. Left out: runs trained without that corpus, tested on it. Validation: this seed "
          "at the epoch kept, the only numbers used to choose it. Accuracies and F1 in %.*")


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """{"validation": {"val/mosi_mae": 0.9}} -> {"validation · val/mosi_mae": 0.9}."""
    flat: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        name = f"{prefix} · {key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        elif isinstance(value, (int, float)):
            flat[name] = round(float(value), 4)
    return flat


# --- one table from the card's metrics --------------------------------------------------------------
def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_value(metric: str, value) -> str:
    if not _finite(value):
        return "—"
    if metric == "n":
        return f"{int(value):,}"
    return f"{100 * value:.1f}%" if metric in PERCENT else f"{value:.3f}"


def format_spread(metric: str, summary) -> str:
    """{"mean", "std", "n_seeds"} -> "81.2 ± 0.8% (3)" / "0.861 ± 0.012 (3)"."""
    if not isinstance(summary, dict) or not _finite(summary.get("mean")):
        return format_value(metric, summary)
    mean, std, n = summary["mean"], summary.get("std"), summary.get("n_seeds")
    scale, unit, digits = (100, "%", 1) if metric in PERCENT else (1, "", 3)
    spread = f" ± {scale * std:.{digits}f}" if _finite(std) and (n or 0) > 1 else ""
    seeds = f" ({int(n)})" if _finite(n) else ""
    return f"{scale * mean:.{digits}f}{spread}{unit}{seeds}"


def _cells(section: str, values) -> dict[tuple[str, str], object]:
    """(corpus, metric) -> raw value (number, or {"mean","std","n_seeds"}) for one card section."""
    out: dict[tuple[str, str], object] = {}
    if not isinstance(values, dict):
        return out
    if section == "validation":
        for key, value in values.items():
            match = VALIDATION.match(str(key))
            if match:
                out[(match["corpus"], VALIDATION_METRICS[match["metric"]])] = value
            elif key == "val/loss":
                out[(ALL_CORPORA, "val_loss")] = value
        return out
    for corpus, metrics in values.items():
        if isinstance(metrics, dict):
            for metric, value in metrics.items():
                out[(str(corpus), str(metric))] = value
        else:  # an older, flat card: {"metric": value}
            out[(ALL_CORPORA, str(corpus))] = metrics
    return out


def metrics_table(metrics: dict | None) -> pd.DataFrame:
    """Rows corpus · metric, one column per card section that has numbers (see COLUMNS)."""
    sections = {s: _cells(s, (metrics or {}).get(s)) for s in COLUMNS}
    sections = {s: cells for s, cells in sections.items() if cells}
    keys = {key for cells in sections.values() for key in cells}
    corpus_rank = {c: i for i, c in enumerate(CORPUS_ORDER)}
    metric_rank = {m: i for i, m in enumerate(METRIC_NAMES)}
    ordered = sorted(keys, key=lambda k: (k[0] == ALL_CORPORA, corpus_rank.get(k[0], len(corpus_rank)), k[0],
                                          metric_rank.get(k[1], len(metric_rank)), k[1]))
    rows = []
    for corpus, metric in ordered:
        row = {"corpus": corpus, "metric": METRIC_NAMES.get(metric) or EXTRA_NAMES.get(metric, metric)}
        for section, cells in sections.items():
            value = cells.get((corpus, metric))
            row[COLUMNS[section]] = format_spread(metric, value) if "over_seeds" in section \
                else format_value(metric, value)
        rows.append(row)
    return pd.DataFrame(rows, columns=["corpus", "metric", *(COLUMNS[s] for s in sections)])


def card_header(name: str, card: dict) -> str:
    epoch = (card.get("metrics") or {}).get("validation", {}).get("epoch")
    facts = [f"**{name}**", f"seed {card.get('seed')}", f"{card.get('parameters', 0):,} parameters"]
    if epoch is not None:
        facts.append(f"epoch {epoch} kept")
    facts += [f"feature spec `{card.get('feature_spec_id')}`", f"commit `{str(card.get('git_commit'))[:12]}`"]
    lines = [" · ".join(facts)]
    if card.get("selection"):
        lines.append(f"**Chosen:** {card['selection']}")
    corpora = [c if isinstance(c, dict) else {"name": c} for c in card.get("corpora", [])]
    if corpora:
        lines.append("**Trained on:** " + "; ".join(
            f"{c.get('name', '?')} ({c.get('licence') or 'licence not recorded'})" for c in corpora))
    training = {k: v for k, v in (card.get("training") or {}).items()
                if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k not in ("threads", "num_workers")}
    if training:
        lines.append("**Training:** " + " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in training.items()))
    return "\n\n".join(lines)


# --- the tab ----------------------------------------------------------------------------------------
def overview(ctx: AppContext) -> pd.DataFrame:
    rows = []
    for name in ctx.zoo.names():
        card = ctx.zoo.card(name)
        path = ctx.zoo.checkpoint_path(name)
        rows.append({"model": name,
                     "checkpoint": path.name if card and path else "none: random weights",
                     "seed": card.get("seed") if card else "",
                     "parameters": f"{sum(p.numel() for p in ctx.zoo.get(name).parameters()):,}",
                     "corpora": ", ".join(c.get("name", "?") if isinstance(c, dict) else str(c)
                                          for c in card.get("corpora", [])) if card else "",
                     "created": card.get("created", "") if card else ""})
    return pd.DataFrame(rows)


def card_view(ctx: AppContext, name: str) -> tuple[str, pd.DataFrame, dict]:
    card = ctx.zoo.card(name)
    if card is None:
        return (f"**{name}**: {ctx.zoo.notice(name)}", pd.DataFrame(columns=["corpus", "metric"]),
                {"checkpoint": None, "notice": ctx.zoo.notice(name)})
    table = metrics_table(card.get("metrics"))
    header = card_header(name, card)
    header += ("\n\n" + LEGEND) if len(table) else "\n\n*This card carries no metrics.*"
    shown = {k: v for k, v in card.items() if k != "feature_spec"}  # the spec is long and the same for all
    return header, table, shown


def build_models_tab(ctx: AppContext):
    table = gr.Dataframe(interactive=False, label="Checkpoints", elem_id="models-overview")
    choice = gr.Dropdown(ctx.zoo.names(), value=ctx.zoo.names()[0], label="Model", elem_id="models-choice")
    header = gr.Markdown(elem_id="models-header")
    metrics = gr.Dataframe(interactive=False, label="Metrics in the card", elem_id="models-metrics", wrap=True,
                           max_height=900)
    with gr.Accordion("The whole card (JSON)", open=False):
        card = gr.JSON(label="Card")

    def refresh(name):
        return (overview(ctx), *card_view(ctx, name))

    choice.change(lambda n: card_view(ctx, n), choice, [header, metrics, card])
    return [table, header, metrics, card], choice, refresh
