"""The error-analysis tab: a model on a cached corpus split -> metrics, two charts, a table of items
sorted by error with filters; choosing a row sets `ErrorTab.selected` so the app can open that
sample in the live panels (msa_demo.error_analysis.split.load_sample gives its features and media).

Call `build_error_tab(zoo, cache_root)` inside an open `gr.Tab`. All logic is in msa_demo/error_analysis/
(split.py, plots.py); this file only lays out components and turns errors into messages.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from ..corpora.labels import POLARITY3
from ..error_analysis.split import (ALL, ErrorAnalysisError, SplitResult, filter_table, missing_cache_message,
                             run_split, split_choices)
from ..error_analysis.plots import confusion_matrix, scatter_pred_vs_label
from ..errors import MediaError
from ..error_analysis.build import BUILD, build_split, buildable_choices
from ..error_analysis.evaluation import METRIC_NAMES, PERCENT
from ..models import list_models

log = logging.getLogger(__name__)

DISPLAY_ROWS = 1000  # the browser table stays responsive; filters narrow the rest down
HEADERS = {"id": "id", "corpus": "corpus", "split": "split", "label": "label", "label_class": "class",
           "prediction": "prediction", "abs_error": "abs error", "label_polarity": "label polarity",
           "pred_polarity": "predicted polarity", "modalities": "modalities", "pred_text": "text says",
           "pred_audio": "audio says", "pred_visual": "face says", "modality_conflict": "conflict",
           "transcript": "transcript"}
INTRO = ("Run a model over a whole corpus split from the feature caches, then hunt for its mistakes: "
         "the table is sorted by absolute error (largest first). **Conflict** = the available unimodal "
         "predictions disagree in sign. Click a row to open that sample in the *Live* tab.")


@dataclass
class ErrorTab:
    """The tab's components. `selected` (gr.State) becomes {"corpus", "split", "id", "model"} when a
    row is chosen: wire `selected.change` to show that sample."""

    split: gr.Dropdown
    model: gr.Dropdown
    run: gr.Button
    status: gr.Markdown
    metrics: gr.Markdown
    scatter: gr.Plot
    confusion: gr.Plot
    polarity: gr.Dropdown
    corpus: gr.Dropdown
    conflict_only: gr.Checkbox
    min_error: gr.Slider
    table: gr.Dataframe
    selection: gr.Markdown
    selected: gr.State
    result: gr.State


# --- the zoo, whatever shape it has -----------------------------------------------------------------
def _names(zoo) -> list[str]:
    return list(zoo.names()) if hasattr(zoo, "names") else list_models()


def _model(zoo, name: str):
    return zoo.get(name) if hasattr(zoo, "get") else zoo(name)


def _notice(zoo, name: str) -> str | None:
    return zoo.notice(name) if hasattr(zoo, "notice") else None


# --- formatting -----------------------------------------------------------------------------------
def metrics_markdown(result: SplitResult) -> str:
    """One row per corpus, training/evaluate.py's metrics (percent for accuracies and F1)."""
    keys = [k for k in METRIC_NAMES if any(k in m for m in result.metrics.values())]
    lines = ["| corpus | " + " | ".join(METRIC_NAMES[k] for k in keys) + " |",
             "|---|" + "---|" * len(keys)]
    for corpus, values in result.metrics.items():
        cells = [_metric(k, values.get(k)) for k in keys]
        lines.append(f"| {corpus} · {result.split} | " + " | ".join(cells) + " |")
    source = ("the model's unimodal heads" if result.unimodal_source == "heads"
              else "the model scored with only that modality on (it has no unimodal heads)")
    lines += ["", f"*Unimodal predictions (\"text/audio/face says\"): {source}.*"]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def _metric(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key == "n":
        return f"{int(value):,}"
    return f"{100 * value:.1f}" if key in PERCENT else f"{value:.3f}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The first DISPLAY_ROWS rows, numbers rounded, readable headers (same column order)."""
    shown = table.head(DISPLAY_ROWS).copy()
    numbers = shown.select_dtypes("number").columns
    shown[numbers] = shown[numbers].round(2)
    return shown.rename(columns=HEADERS)


def _filtered(state: dict | None, polarity, corpus, conflict_only, min_error) -> pd.DataFrame | None:
    if not state:
        return None
    return filter_table(state["table"], polarity=polarity, corpus=corpus, conflict_only=conflict_only,
                        min_error=min_error)


def _count_line(shown: pd.DataFrame, state: dict) -> str:
    total = len(state["table"])
    line = f"**{len(shown):,}** of {total:,} items match the filters"
    if len(shown) > DISPLAY_ROWS:
        line += f"; the table shows the {DISPLAY_ROWS:,} largest errors"
    return line + "."


# --- the tab ----------------------------------------------------------------------------------------
def _choices(cache_root, pipeline) -> list[tuple[str, str]]:
    """The cached splits, then (with a pipeline to build them) the shared splits not cached yet."""
    return split_choices(cache_root) + (buildable_choices(cache_root) if pipeline is not None else [])


def build_error_tab(zoo, cache_root: str | Path = "cache", pipeline=None) -> ErrorTab:
    """Lay out the tab inside the caller's open `gr.Tab` and wire its own events. With `pipeline`, a
    shared corpus split that has no cache is offered too, and Run builds its cache first."""
    choices = _choices(cache_root, pipeline)
    names = _names(zoo)
    default_split = next((v for _, v in choices if v.endswith("/test")), choices[0][1] if choices else None)
    gr.Markdown(INTRO)
    with gr.Row():
        split = gr.Dropdown(choices, value=default_split, label="Corpus split (feature caches)", scale=3)
        default = zoo.default_name() if hasattr(zoo, "default_name") else None
        model = gr.Dropdown(names, value=default if default in names else (names[0] if names else None),
                            label="Model", scale=2)
        run = gr.Button("Run", variant="primary", scale=1)
    status = gr.Markdown(_empty_status(cache_root, choices))
    metrics = gr.Markdown(elem_id="errors-metrics")
    with gr.Row():
        scatter = gr.Plot(label="Predicted vs label", elem_id="errors-scatter")
        confusion = gr.Plot(label="Polarity confusion", elem_id="errors-confusion")
    with gr.Row():
        polarity = gr.Dropdown([ALL, *POLARITY3], value=ALL, label="Label polarity")
        corpus = gr.Dropdown([ALL], value=ALL, label="Corpus")
        conflict_only = gr.Checkbox(False, label="Modality conflict only")
        min_error = gr.Slider(0.0, 6.0, value=0.0, step=0.1, label="Minimum abs error")
    table = gr.Dataframe(label="Items, largest error first (click a row to open it)", interactive=False,
                         elem_id="errors-table",
                         max_height=520, wrap=True, show_search="search", datatype="auto")
    selection = gr.Markdown()
    selected = gr.State(None)
    result = gr.State(None)
    tab = ErrorTab(split, model, run, status, metrics, scatter, confusion, polarity, corpus, conflict_only,
                   min_error, table, selection, selected, result)
    _wire(tab, zoo, cache_root, pipeline)
    return tab


def _empty_status(cache_root, choices) -> str:
    if not choices:
        return f"**No data:** {missing_cache_message(cache_root)}"
    if all(value.startswith(BUILD) for _, value in choices):
        return ("**No feature cache yet.** Choose a split marked *not cached yet* and press **Run**: its "
                "cache is built first (only that split; a progress bar shows how far), then scored.")
    return ""


def _wire(tab: ErrorTab, zoo, cache_root, pipeline=None) -> None:
    filters = [tab.polarity, tab.corpus, tab.conflict_only, tab.min_error]
    views = [tab.status, tab.scatter, tab.confusion, tab.table]

    def render(state, polarity, corpus, conflict_only, min_error, header: str = ""):
        shown = _filtered(state, polarity, corpus, conflict_only, min_error)
        title = f"{state['model']} on {state['corpus']} · {state['split']}"
        return (header + _count_line(shown, state), scatter_pred_vs_label(shown, title=title),
                confusion_matrix(shown, title=f"Polarity confusion ({len(shown):,} items)"),
                display_table(shown))

    def on_run(split_value, model_name, polarity, corpus, conflict_only, min_error,
               progress=gr.Progress(track_tqdm=True)):
        """Build the split's cache first when it has none, then score it."""
        built = gr.update()
        if split_value and split_value.startswith(BUILD):
            corpus_name, split_name = split_value[len(BUILD):].partition("/")[::2]
            try:
                progress(0.0, desc=f"building the {corpus_name} · {split_name} feature cache")
                build_split(pipeline, cache_root, corpus_name, split_name)
            except ErrorAnalysisError as exc:
                return (f"**Cannot build:** {exc}",) + (gr.update(),) * 7 + (built,)
            except Exception:
                log.exception("building a cache failed")
                return ("**Something went wrong on our side** while building the cache; it has been logged.",
                        ) + (gr.update(),) * 7 + (built,)
            split_value = f"{corpus_name}/{split_name}"
            built = gr.update(choices=_choices(cache_root, pipeline), value=split_value)
        return score(split_value, model_name, polarity, corpus, conflict_only, min_error, progress) + (built,)

    def score(split_value, model_name, polarity, corpus, conflict_only, min_error, progress):
        unchanged = (gr.update(),) * 7
        if not split_value or not model_name:
            return (gr.update(value="Choose a corpus split and a model first."),) + unchanged
        try:
            corpus_name, split_name = split_value.split("/", 1)
            progress(0.0, desc=f"loading {model_name}")
            model = _model(zoo, model_name)
            start = time.perf_counter()
            res = run_split(model, cache_root, corpus_name, split_name, name=model_name,
                            progress=lambda f, desc: progress(f, desc=desc))
        except (ErrorAnalysisError, MediaError, KeyError) as exc:
            return (gr.update(value=f"**Cannot run:** {_message(exc)}"),) + unchanged
        except Exception:  # a bug, not the user's doing: log it, show no traceback
            log.exception("error analysis failed")
            return (gr.update(value=texts_scoring_failed()),) + unchanged
        state = {"table": res.table, "model": model_name, "corpus": corpus_name, "split": split_name}
        corpora = sorted(res.table["corpus"].unique())
        corpus = corpus if corpus in corpora else ALL
        notice = _notice(zoo, model_name)
        took = time.perf_counter() - start
        header = (f"⚠️ {notice}\n\n" if notice else "") + f"Scored in {took:.1f} s. "
        try:
            views_out = render(state, polarity, corpus, conflict_only, min_error, header)
        except ErrorAnalysisError as exc:
            return (gr.update(value=f"**Cannot show:** {exc}"),) + unchanged
        return (views_out[0], metrics_markdown(res), *views_out[1:], state,
                gr.update(choices=[ALL, *corpora], value=corpus), "")

    def on_filter(state, polarity, corpus, conflict_only, min_error):
        if not state:
            return (gr.update(),) * len(views)
        try:
            return render(state, polarity, corpus, conflict_only, min_error)
        except Exception:
            log.exception("error-analysis filter failed")
            return (gr.update(value="**Something went wrong on our side** while filtering."),
                    ) + (gr.update(),) * (len(views) - 1)

    def on_select(state, shown, evt: gr.SelectData):
        row = evt.row_value
        if row is None and isinstance(shown, pd.DataFrame) and isinstance(evt.index, (list, tuple)):
            row = shown.iloc[evt.index[0]].tolist() if evt.index[0] < len(shown) else None
        if not state or not row or len(row) < 3:
            return gr.update(), gr.update()
        # the first three columns are always id, corpus, split (error_analysis.COLUMNS)
        item = {"corpus": str(row[1]), "split": str(row[2]), "id": str(row[0]), "model": state["model"]}
        values = dict(zip(shown.columns, row)) if isinstance(shown, pd.DataFrame) else {}
        line = (f"**Selected:** `{item['id']}` ({item['corpus']} · {item['split']}), label "
                f"{values.get('label')}, {state['model']} predicted {values.get('prediction')} — "
                "open the *Live* tab for its panels.")
        return item, line

    tab.run.click(on_run, [tab.split, tab.model, *filters],
                  [tab.status, tab.metrics, tab.scatter, tab.confusion, tab.table, tab.result, tab.corpus,
                   tab.selection, tab.split], api_name="errors_run", api_visibility="undocumented")
    for control in (tab.polarity, tab.corpus, tab.conflict_only):
        control.input(on_filter, [tab.result, *filters], views, show_progress="hidden",
                      api_visibility="private")
    tab.min_error.release(on_filter, [tab.result, *filters], views, show_progress="hidden",
                          trigger_mode="always_last", api_visibility="private")
    tab.table.select(on_select, [tab.result, tab.table], [tab.selected, tab.selection],
                     api_visibility="private")


def texts_scoring_failed() -> str:
    return "**Something went wrong on our side** while scoring; it has been logged."


def _message(exc: Exception) -> str:
    return exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
