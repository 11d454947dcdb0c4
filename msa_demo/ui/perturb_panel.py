"""The Live tab's perturbation panel: choose a kind and severities, degrade the media, re-extract
(with a progress bar), plot score and contributions against severity. The degraded inputs are kept
(`PerturbPanel.perturbed`) so the Compare tab scores every model on the very same inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr

from ..errors import MediaError
from ..figures import perturbation_figure
from ..perturb.kinds import KINDS, get_kind
from ..perturb.sweep import perturbed_inputs, sweep_result
from ..session import Extracted
from . import texts
from .context import EXTRACT_CONCURRENCY, AppContext

log = logging.getLogger(__name__)


@dataclass
class PerturbPanel:
    kind: gr.Dropdown
    severities: gr.Textbox
    run: gr.Button
    note: gr.Markdown
    plot: gr.Plot
    perturbed: gr.State  # {"key", "kind", "values", "inputs", "clean"} of the last run


def input_key(extracted: Extracted | None) -> tuple | None:
    """What identifies an analysed input, so a perturbation of another input is never compared."""
    if extracted is None:
        return None
    return extracted.media_path, extracted.transcript, extracted.source, round(extracted.duration, 3)


def kind_choices() -> list[tuple[str, str]]:
    return [(f"{k.modality} · {k.label}", k.name) for k in KINDS.values()]


def _defaults(name: str) -> str:
    return ", ".join(f"{s:g}" for s in get_kind(name).defaults)


def _unit_line(name: str) -> str:
    kind = get_kind(name)
    return f"Severity: **{kind.unit}**, {kind.low:g} … {kind.high:g}; {kind.worse} is worse."


def build_perturbation_panel(ctx: AppContext, state: gr.State, model: gr.Dropdown) -> PerturbPanel:
    first = next(iter(KINDS))
    gr.Markdown("### Perturbation robustness\n" + texts.PERTURB, elem_classes=["msa-caption"])
    with gr.Row():
        kind = gr.Dropdown(kind_choices(), value=first, label="Perturbation", elem_id="perturb-kind")
        severities = gr.Textbox(_defaults(first), label="Severities (comma-separated)",
                                elem_id="perturb-severities")
        run = gr.Button("Run perturbation", elem_id="perturb-run", scale=0)
    note = gr.Markdown(_unit_line(first), elem_id="perturb-note")
    plot = gr.Plot(label="Perturbation", elem_id="perturbation")
    perturbed = gr.State(None)

    def on_kind(name):
        return _defaults(name), _unit_line(name)

    def on_run(extracted, name, values, model_name, progress=gr.Progress()):
        if extracted is None:
            return texts.PERTURB_EMPTY, None, None
        try:
            kind, parsed, inputs = perturbed_inputs(ctx.pipeline, extracted, name, values,
                                                    progress=lambda f, d: progress(f, desc=d))
            result = sweep_result(kind, parsed, inputs, ctx.zoo, model_name, extracted)
        except MediaError as exc:
            return f"**Cannot run this perturbation:** {exc}", None, None
        except Exception:
            log.exception("perturbation failed")
            return texts.GENERIC_ERROR, None, None
        kept = {"key": input_key(extracted), "kind": kind.name, "values": parsed, "inputs": inputs,
                "clean": extracted}
        return _unit_line(name) + _transcripts(result), perturbation_figure(result), kept

    kind.input(on_kind, kind, [severities, note], show_progress="hidden")
    run.click(on_run, [state, kind, severities, model], [note, plot, perturbed],
              concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY, show_progress="full")
    return PerturbPanel(kind, severities, run, note, plot, perturbed)


def _transcripts(result: dict) -> str:
    """For the voice and the words: what the text model read at each severity (Whisper may mishear)."""
    if result["modality"] == "visual":
        return ""
    rows = [f"| {p['severity']:g} | {p['score']:+.2f} | {p['transcript'] or '(no words)'} |"
            for p in result["points"]]
    return "\n\n| severity | score | words read |\n|---:|---:|---|\n" + "\n".join(rows)
