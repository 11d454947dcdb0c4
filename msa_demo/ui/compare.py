"""The Compare tab: every model on the cached input of the Live tab, side by side."""

from __future__ import annotations

import logging

import gradio as gr
import pandas as pd

from ..features.spec import MODALITIES
from ..figures import compare_contributions_figure, compare_perturbation_figure, compare_routing_figure
from ..figures.compare import contribution_cell
from ..perturb.kinds import get_kind
from ..perturb.sweep import sweep_result
from ..session import explain
from . import texts
from .context import AppContext

log = logging.getLogger(__name__)
COLUMNS = ["model", "trained", "score", "polarity", "baseline", *MODALITIES]


def compare_all(ctx: AppContext, extracted) -> tuple[dict[str, dict], pd.DataFrame]:
    results = {name: explain(extracted, ctx.zoo, name) for name in ctx.zoo.names()}
    return results, compare_table(results)


def compare_table(results: dict[str, dict]) -> pd.DataFrame:
    """One row per model; a modality the input lacks reads "—", not 0.000 (nothing was measured)."""
    rows = [[name, "yes" if r["trained"] else "no (random)", round(r["score"], 3), r["polarity"],
             round(r["baseline"], 3), *(contribution_cell(r, m) for m in MODALITIES)]
            for name, r in results.items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def compare_perturbation(ctx: AppContext, extracted, perturbed: dict | None) -> tuple[str, object]:
    """Every model on the degraded inputs of the Live tab's last perturbation (nothing re-extracted)."""
    from .perturb_panel import input_key

    if not perturbed:
        return texts.PERTURB_COMPARE_EMPTY, None
    if perturbed["key"] != input_key(extracted):
        return texts.PERTURB_STALE, None
    kind = get_kind(perturbed["kind"])
    results = {name: sweep_result(kind, perturbed["values"], perturbed["inputs"], ctx.zoo, name,
                                  perturbed["clean"]) for name in ctx.zoo.names()}
    return f"Every model on the same degraded inputs ({kind.label}).", compare_perturbation_figure(results)


def build_compare_tab(ctx: AppContext, state: gr.State, perturbed: gr.State | None = None):
    """Returns (components to refresh, refresh function) so the caller can hook tab selection."""
    gr.Markdown(texts.COMPARE, elem_classes=["msa-caption"])
    note = gr.Markdown(texts.COMPARE_EMPTY, elem_id="compare-note")
    with gr.Row():
        button = gr.Button("Compare again", size="sm", scale=0, elem_id="compare")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, elem_id="compare-table",
                         label="Score and Shapley contributions per model")
    contributions = gr.Plot(label="Contributions per model", elem_id="compare-contributions")
    routing = gr.Plot(label="Routing per model", elem_id="compare-routing")
    gr.Markdown(texts.ROUTING, elem_classes=["msa-caption"])

    def refresh(extracted):
        if extracted is None:
            return texts.COMPARE_EMPTY, None, None, None
        try:
            results, frame = compare_all(ctx, extracted)
        except Exception:
            log.exception("comparison failed")
            return texts.GENERIC_ERROR, None, None, None
        untrained = [n for n, r in results.items() if not r["trained"]]
        source = "the live input" if extracted.source == "live" else f"cached sample {extracted.source}"
        warn = f" ⚠ untrained (random weights): {', '.join(untrained)}." if untrained else ""
        text = (f"Input: {source} · transcript: “{extracted.transcript or '(none)'}”.{warn}")
        return text, frame, compare_contributions_figure(results), compare_routing_figure(results)

    outputs = [note, table, contributions, routing]
    button.click(refresh, [state], outputs)
    if perturbed is not None:
        gr.Markdown("### Every model on one perturbation")
        with gr.Row():
            perturb_button = gr.Button("Compare on the last perturbation", size="sm", scale=0,
                                       elem_id="compare-perturb")
        perturb_note = gr.Markdown(texts.PERTURB_COMPARE_EMPTY, elem_id="compare-perturb-note")
        perturb_plot = gr.Plot(label="Score per model against severity", elem_id="compare-perturbation")

        def on_perturb(extracted, kept):
            try:
                return compare_perturbation(ctx, extracted, kept)
            except Exception:
                log.exception("perturbation comparison failed")
                return texts.GENERIC_ERROR, None

        perturb_button.click(on_perturb, [state, perturbed], [perturb_note, perturb_plot])
    return outputs, refresh
