"""The explanation: exact Shapley values over the 8 modality subsets (one batched pass), on the four
MOSI clips and on text only; the robustness re-scoring; the model zoo's untrained fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from msa_demo.analysis import analyze_features, rescore
from msa_demo.explain import shapley_values
from msa_demo.features.spec import AUDIO_DIM, VISUAL_DIM
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import collate, create_model, list_models, save_checkpoint
from msa_demo.zoo import ModelZoo

pytestmark = pytest.mark.usefixtures("one_thread")

SUBSET_NAMES = {"text", "audio", "visual", "text+audio", "text+visual", "audio+visual", "text+audio+visual"}


@pytest.fixture(scope="module")
def clips(pipeline, mosi_clips):
    """The four clips with their label-file transcripts (Whisper is tested elsewhere)."""
    import csv

    from conftest import MOSI_CLIPS
    from msa_demo.session import extract_input

    with open(MOSI_CLIPS / "labels.csv") as f:
        text = {row["file"]: row["text"].lower() for row in csv.DictReader(f)}
    return {p.name: extract_input(pipeline, str(p), text[p.name]) for p in mosi_clips}


def _check(result: dict) -> None:
    total = result["baseline"] + sum(result["contributions"].values())
    assert total == pytest.approx(result["score"], abs=1e-9)
    assert set(result["subsets"]) == SUBSET_NAMES
    assert result["subsets"]["text+audio+visual"] == result["score"]
    assert result["polarity"] in ("negative", "neutral", "positive")
    for m, available in result["available"].items():
        if not available:
            assert result["contributions"][m] == 0.0 and result["unimodal"][m] is None
    json.dumps(result)  # what the endpoint and the CLI print


def test_shapley_of_an_additive_game_is_each_players_own_term():
    own = [0.5, -1.0, 2.0]
    values = [0.25 + sum(own[j] for j in range(3) if s >> j & 1) for s in range(8)]
    assert shapley_values(values) == pytest.approx(own)


@pytest.mark.parametrize("name", list_models())
def test_text_only_every_model(pipeline, zoo, name):
    text = pipeline.text_featurizer().encode("what a wonderful film, i loved it")
    result = analyze_features({"text": text}, zoo.get(name), transcript="what a wonderful film")
    _check(result)
    assert result["available"] == {"text": True, "audio": False, "visual": False}
    assert result["contributions"]["audio"] == 0.0 and result["contributions"]["visual"] == 0.0
    assert result["score"] == pytest.approx(result["baseline"] + result["contributions"]["text"], abs=1e-12)


def test_four_mosi_clips(clips, zoo):
    model = zoo.get("midg")
    for name, extracted in clips.items():
        result = analyze_features(extracted.features, model, transcript=extracted.transcript)
        _check(result)
        assert all(result["available"].values()), name
        with torch.no_grad():
            direct = float(model(collate([extracted.features]), with_losses=False).score[0])
        assert result["score"] == pytest.approx(direct, abs=1e-4), "batched subsets = one plain forward"


@pytest.mark.parametrize("name", list_models())
def test_every_model_on_one_clip(clips, zoo, name):
    _check(analyze_features(clips["0h-zjBukYpk_24.mp4"].features, zoo.get(name)))


def test_rescoring_switches_modalities_off_and_is_seeded(clips, zoo):
    features, model = clips["0h-zjBukYpk_2.mp4"].features, zoo.get("late_fusion")
    off = rescore(features, model, present=["text", "audio"])
    _check(off)
    assert off["available"]["visual"] is False and off["contributions"]["visual"] == 0.0
    assert off["condition"]["present"] == ["text", "audio"]
    a = rescore(features, model, rate=0.6, seed=3)
    assert a == rescore(features, model, rate=0.6, seed=3)
    _check(a)
    full = analyze_features(features, model)
    assert a["score"] != full["score"]


def test_edited_transcript_re_embeds_text_only(pipeline, clips):
    from msa_demo.session import with_transcript

    extracted = clips["Sqr0AcuoNnk_12.mp4"]
    edited = with_transcript(pipeline, extracted, "he is the worst actor ever")
    assert edited.features["audio"] is extracted.features["audio"]
    assert edited.features["visual"] is extracted.features["visual"]
    assert edited.transcript == "he is the worst actor ever" and not edited.words
    old, new = extracted.features["text"].values, edited.features["text"].values
    assert old.shape != new.shape or not np.allclose(old, new)
    cleared = with_transcript(pipeline, extracted, "  ")
    assert not cleared.features["text"].present


def test_zoo_without_checkpoints_says_untrained(zoo):
    assert zoo.names() == list_models()
    assert zoo.card("misr") is None
    assert "untrained (random weights): no checkpoint at" in zoo.notice("misr")
    assert zoo.get("misr") is zoo.get("misr") and not zoo.get("misr").training


def test_zoo_loads_a_checkpoint_and_survives_a_broken_one(tmp_path):
    model = create_model("late_fusion")
    save_checkpoint(model, tmp_path / "late_fusion.safetensors", seed=7, metrics={"test": {"mae": 0.9}})
    (tmp_path / "derl.safetensors").write_bytes(b"not a checkpoint")
    zoo = ModelZoo(tmp_path)
    assert zoo.card("late_fusion")["seed"] == 7 and zoo.notice("late_fusion") is None
    features = {"text": ModalityFeatures(np.ones((3, 384)), np.ones(3, bool), np.zeros((3, 2)))}
    with torch.no_grad():
        expected = float(model.eval()(collate([features])).score[0])
    assert analyze_features(features, zoo.get("late_fusion"))["score"] == pytest.approx(expected, abs=1e-6)
    assert zoo.card("derl") is None and "unusable" in zoo.notice("derl")


def test_figures_render_for_a_clip(clips, zoo):
    import plotly.graph_objects as go

    from msa_demo import figures

    extracted = clips["0h-zjBukYpk_1.mp4"]
    results = {n: analyze_features(extracted.features, zoo.get(n)) | {"model": n} for n in list_models()}
    one = results["midg"]
    for fig in (figures.contributions_figure(one), figures.routing_figure(one), figures.subsets_figure(one),
                figures.timeline_figure(extracted.features, extracted.words),
                figures.compare_contributions_figure(results), figures.compare_routing_figure(results),
                figures.routing_figure(results["early_fusion"])):
        assert isinstance(fig, go.Figure)
    image = figures.keyframe_image(extracted.keyframe, extracted.landmarks)
    assert image.ndim == 3 and image.dtype == np.uint8


def test_cli_analyze_text_only_json(capsys, tmp_path):
    from msa_demo.cli import main

    assert main(["analyze", "--transcript", "a dull and tiring film", "--model", "derl",
                 "--checkpoints", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    _check(result)
    assert result["model"] == "derl" and result["transcript"] == "a dull and tiring film"
    assert any("untrained" in n for n in result["notices"])


def test_panels_say_what_a_text_only_sample_holds_and_keep_switched_off_apart():
    """A cached text-only sample: the notices line names what is missing; the subset chart marks
    subsets the input cannot have, and draws a robustness toggle as a separate line, not as 'absent'."""
    from msa_demo import figures
    from msa_demo.ui.render import modality_table, notices_markdown, robustness_markdown

    model = create_model("late_fusion").eval()
    text = {"text": ModalityFeatures(np.ones((3, 384), np.float32), np.ones(3, bool), np.zeros((3, 2)))}
    full = analyze_features(text, model)
    assert notices_markdown(full, "sample").startswith("ℹ text only: this sample has no audio or face")
    assert "all three" not in notices_markdown(full, "sample")
    assert "✗ no" in modality_table(full)

    labels = list(figures.subsets_figure(full).data[0].y)
    assert labels[0] == "text" and "audio (not in input)" in labels and "text+audio (no audio)" in labels

    off = rescore(text, model, present=["audio", "visual"])  # text switched off by the user
    fig = figures.subsets_figure(full, off)
    assert list(fig.data[0].y) == labels, "the bars describe the input; toggles do not relabel them"
    assert any("robustness setting" in (a.text or "") for a in fig.layout.annotations)
    assert "not in the input" in robustness_markdown(off, full)

    clip = {**text, "audio": ModalityFeatures(np.ones((5, AUDIO_DIM), np.float32), np.ones(5, bool), np.zeros((5, 2))),
            "visual": ModalityFeatures(np.ones((4, VISUAL_DIM), np.float32), np.ones(4, bool), np.zeros((4, 2)))}
    complete = analyze_features(clip, model)
    assert notices_markdown(complete).startswith("✓ all three modalities read")
    no_face = rescore(clip, model, present=["text", "audio"])
    fig = figures.subsets_figure(complete, no_face)
    assert not any("(" in label for label in fig.data[0].y), "switched off is not 'not in input'"
    outlined = dict(zip(fig.data[0].y, fig.data[0].marker.line.color))
    assert outlined["text+audio"] != "rgba(0,0,0,0)", "the toggled subset's bar is outlined"


def _features(*modalities: str) -> dict:
    shapes = {"text": (3, 384), "audio": (5, AUDIO_DIM), "visual": (4, VISUAL_DIM)}
    return {m: ModalityFeatures(np.ones(shapes[m], np.float32), np.ones(shapes[m][0], bool),
                                np.zeros((shapes[m][0], 2))) for m in modalities}


def _compare_results(zoo, features) -> dict:
    return {n: analyze_features(features, zoo.get(n)) | {"model": n, "trained": False} for n in zoo.names()}


def test_compare_tab_shows_absent_modalities_as_a_dash_not_a_measured_zero(zoo):
    """Typed text only: audio and face were never measured, so the table says "—" and the figure
    draws no bar for them (a 0.000 would read as "measured, no effect")."""
    from msa_demo import figures
    from msa_demo.ui.compare import compare_table

    results = _compare_results(zoo, _features("text"))
    table = compare_table(results)
    assert (table["audio"] == "—").all() and (table["visual"] == "—").all()
    assert not (table["text"] == "—").any()
    measured = [r["contributions"]["text"] for r in results.values()]
    assert table["text"].map(float).tolist() == pytest.approx(measured, abs=1e-3)
    fig = figures.compare_contributions_figure(results)
    bars = {t.name.split()[0]: t for t in fig.data if t.type == "bar"}
    assert all(y is None for m in ("audio", "visual") for y in bars[m].y), "no bar for what was not measured"
    assert "not in input" in bars["audio"].name and "not in input" in bars["visual"].name
    assert all(y is not None for y in bars["text"].y) and bars["text"].name == "text"

    complete = _compare_results(zoo, _features("text", "audio", "visual"))
    assert not (compare_table(complete)[["text", "audio", "visual"]] == "—").any().any()
    bars = [t for t in figures.compare_contributions_figure(complete).data if t.type == "bar"]
    assert all(y is not None for t in bars for y in t.y) and all("not in" not in t.name for t in bars)


def test_compare_score_labels_sit_above_the_plot_and_the_diamonds_in_their_own_slot(zoo):
    """Score values were text on the diamonds, over the grouped bars; now one label per model in a row
    above the plot area (no bar reaches it), and the diamond has its own slot beside the bars."""
    from msa_demo import figures
    from msa_demo.figures.style import signed

    results = _compare_results(zoo, _features("text", "audio", "visual"))
    fig = figures.compare_contributions_figure(results)
    score = next(t for t in fig.data if t.type == "scatter")
    assert "text" not in score.mode, "no score text among the bars"
    assert fig.layout.scattermode == "group" and score.offsetgroup == "score"
    assert score.offsetgroup not in {t.offsetgroup for t in fig.data if t.type == "bar"}
    labels = {a.x: a for a in fig.layout.annotations if "◆" in (a.text or "")}
    assert set(labels) == set(results)
    for name, a in labels.items():
        assert a.yref == "paper" and a.y >= 1.0 and a.yanchor == "bottom", "above the plot area"
        assert a.text == f"◆ {signed(results[name]['score'])}"


def test_subset_values_near_zero_stay_readable():
    """Values near 0, of both signs: the labels sit in one column right of the plot, one per bar row,
    not at the bar ends where they sat on the zero/baseline lines and on each other."""
    from msa_demo import figures

    full = analyze_features(_features("text", "audio", "visual"), create_model("late_fusion").eval())
    near = {"text": 0.03, "audio": -0.02, "visual": 0.0, "text+audio": -0.004, "text+visual": 0.004,
            "audio+visual": -0.01, "text+audio+visual": 0.01}
    fig = figures.subsets_figure(full | {"subsets": near, "baseline": 0.0})
    bar = fig.data[0]
    assert bar.textposition == "none" and not bar.text, "no labels at the bar ends"
    values = {a.y: a for a in fig.layout.annotations if a.xref == "paper" and a.yref == "y"}
    assert list(values) == list(bar.y), "one label on each bar's row"
    for a in values.values():
        assert a.x >= 1.0 and a.xanchor == "left", "right of the plot area, clear of every bar and line"
    assert fig.layout.margin.r >= 40, "room for the column"
    texts = [values[y].text for y in bar.y]
    assert texts == ["+0.03", "-0.02", "0.00", "0.00", "0.00", "-0.01", "+0.01"], "no '-0.00'"


def test_models_tab_shows_a_shipped_card_as_one_readable_table(tmp_path):
    """A card shaped like training/ship.py's: rows corpus · metric, this checkpoint / over seeds /
    validation side by side, percent for accuracies, decimals for MAE; selection and licences on top."""
    from msa_demo.ui.context import AppContext
    from msa_demo.ui.models_tab import card_view, overview

    metrics = {
        "validation": {"epoch": 9, "val/loss": 0.764, "val/mosi_mae": 0.8704, "val/mosi_pol3": 0.6769,
                       "val/meld_mae": 0.7716, "val/meld_pol3": 0.5762},
        "test": {"mosi": {"acc2_non0": 0.8201, "mae": 0.8603, "corr": 0.7234},
                 "meld": {"valence3_acc": 0.646, "valence3_f1": 0.6012}},
        "test_over_seeds": {"mosi": {"acc2_non0": {"mean": 0.8123, "std": 0.0081, "n_seeds": 3},
                                     "mae": {"mean": 0.871, "std": 0.012, "n_seeds": 3}},
                            "meld": {"valence3_acc": {"mean": 0.64, "std": 0.01, "n_seeds": 3}}},
        "unseen_corpus_over_seeds": {},
    }
    save_checkpoint(create_model("late_fusion"), tmp_path / "late_fusion.safetensors", seed=1111, metrics=metrics,
                    corpora=[{"name": "mosi", "licence": "CMU-MOSI, research use"},
                             {"name": "meld", "licence": "MELD, GPL-3.0"}],
                    extra={"selection": "lowest validation loss among seeds [1111, 1112, 1113]",
                           "training": {"lr": 0.001, "max_epochs": 24, "threads": 1}})
    ctx = AppContext(pipeline=None, zoo=ModelZoo(tmp_path))
    header, table, card = card_view(ctx, "late_fusion")
    assert "lowest validation loss among seeds" in header and "epoch 9 kept" in header
    assert "mosi (CMU-MOSI, research use)" in header and "meld (MELD, GPL-3.0)" in header
    assert "max epochs 24" in header and "threads" not in header
    assert list(table.columns) == ["corpus", "metric", "this checkpoint (test)", "mean ± std over seeds (n)",
                                   "validation (this seed, chosen epoch)"], "empty sections get no column"
    rows = {(r["corpus"], r["metric"]): r for r in table.to_dict("records")}
    assert list(rows)[:3] == [("mosi", "Acc-2 non0"), ("mosi", "MAE"), ("mosi", "Corr")], "MOSI first, metric order"
    assert rows[("mosi", "Acc-2 non0")]["this checkpoint (test)"] == "82.0%"
    assert rows[("mosi", "Acc-2 non0")]["mean ± std over seeds (n)"] == "81.2 ± 0.8% (3)"
    assert rows[("mosi", "MAE")]["this checkpoint (test)"] == "0.860"
    assert rows[("mosi", "MAE")]["mean ± std over seeds (n)"] == "0.871 ± 0.012 (3)"
    assert rows[("mosi", "MAE")]["validation (this seed, chosen epoch)"] == "0.870"
    assert rows[("mosi", "polarity-3 acc")]["validation (this seed, chosen epoch)"] == "67.7%"
    assert rows[("mosi", "polarity-3 acc")]["this checkpoint (test)"] == "—"
    assert rows[("meld", "polarity-3 F1")]["this checkpoint (test)"] == "60.1%"
    assert rows[("all", "val loss (mean of per-corpus MAE)")]["validation (this seed, chosen epoch)"] == "0.764"
    assert card["seed"] == 1111 and "feature_spec" not in card
    assert overview(ctx).set_index("model").loc["late_fusion", "corpora"] == "mosi, meld"
    header, table, card = card_view(ctx, "midg")
    assert "random weights" in header and table.empty


def test_default_model_is_the_checkpoint_with_the_lowest_validation_loss(tmp_path):
    assert ModelZoo(tmp_path).default_name() == "midg"  # nothing shipped: the documented fallback
    for name, loss in (("late_fusion", 0.80), ("derl", 0.74), ("misr", 0.77)):
        save_checkpoint(create_model(name), tmp_path / name, metrics={"validation": {"val/loss": loss}})
    assert ModelZoo(tmp_path).default_name() == "derl"
