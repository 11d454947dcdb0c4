"""The Models tab: each model's checkpoint card and metrics (or why it has none)."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from .context import AppContext


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


def overview(ctx: AppContext) -> pd.DataFrame:
    rows = []
    for name in ctx.zoo.names():
        card = ctx.zoo.card(name)
        path = ctx.zoo.checkpoint_path(name)
        rows.append({"model": name,
                     "checkpoint": path.name if card and path else "none: random weights",
                     "seed": card.get("seed") if card else "",
                     "parameters": f"{sum(p.numel() for p in ctx.zoo.get(name).parameters()):,}",
                     "corpora": ", ".join(c.get("name", "?") for c in card.get("corpora", [])) if card else "",
                     "created": card.get("created", "") if card else ""})
    return pd.DataFrame(rows)


def card_view(ctx: AppContext, name: str) -> tuple[str, pd.DataFrame, dict]:
    card = ctx.zoo.card(name)
    if card is None:
        return (f"**{name}**: {ctx.zoo.notice(name)}", pd.DataFrame(columns=["metric", "value"]),
                {"checkpoint": None, "notice": ctx.zoo.notice(name)})
    metrics = flatten(card.get("metrics", {}))
    header = (f"**{name}** · seed {card.get('seed')} · {card.get('parameters', 0):,} parameters · "
              f"feature spec `{card.get('feature_spec_id')}` · commit `{str(card.get('git_commit'))[:12]}`")
    shown = {k: v for k, v in card.items() if k != "feature_spec"}  # the spec is long and the same for all
    return header, pd.DataFrame(list(metrics.items()), columns=["metric", "value"]), shown


def build_models_tab(ctx: AppContext):
    table = gr.Dataframe(interactive=False, label="Checkpoints", elem_id="models-overview")
    choice = gr.Dropdown(ctx.zoo.names(), value=ctx.zoo.names()[0], label="Model")
    header = gr.Markdown()
    with gr.Row(equal_height=False):
        metrics = gr.Dataframe(interactive=False, label="Metrics in the card", scale=2)
        card = gr.JSON(label="Card", scale=3)

    def refresh(name):
        return (overview(ctx), *card_view(ctx, name))

    choice.change(lambda n: card_view(ctx, n), choice, [header, metrics, card])
    return [table, header, metrics, card], choice, refresh
