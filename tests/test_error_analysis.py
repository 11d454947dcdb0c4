"""Error analysis on tiny caches written here (two corpora, a handful of items): the table, its
order and filters, the conflict flag on a hand-built case, metrics equal to training/evaluate.py's,
load_sample's round trip, the missing-cache message, and the Gradio tab."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
from msa_demo.error_analysis.split import (COLUMNS, ErrorAnalysisError, filter_table, load_sample,
                                     modality_conflict, run_split, split_choices)
from msa_demo.features.spec import AUDIO_FEATURE_NAMES, FEATURE_DIMS, FEATURE_SPEC_ID, MODALITIES
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import ModelOutput, create_model

# (id, split, label, {modality: first feature value}, source); the stub models read the first value
MOSI = [("m0", "test", 2.0, {"text": 1.0}, ""), ("m1", "test", -1.0, {"text": -2.0}, ""),
        ("m2", "test", 0.0, {"text": 0.25}, ""), ("m3", "test", 1.5, {"text": -1.0}, ""),
        ("m4", "train", 1.0, {"text": 1.0}, "")]
RAVDESS = [("r0", "test", -1.5, {"text": 1.0, "audio": -1.0}, "data/ravdess/r0.flac"),  # conflict
           ("r1", "test", 1.5, {"text": 1.0, "audio": 2.0}, "data/clips.zip::r1.flac"),  # agree
           ("r2", "test", 0.0, {"text": 0.0, "audio": -1.0}, ""),  # 0 takes no side
           ("r3", "test", -1.5, {"audio": -3.0}, ""),  # one modality cannot conflict
           ("r4", "test", 1.5, {}, "")]  # nothing usable
CLASSES = {-1.5: "sad", 0.0: "neutral", 1.5: "happy"}
# the column the stub reads: one the cache gives back as stored (the voice's levels are read against
# the recording's median, so a constant level would read 0)
READ = {"text": 0, "audio": AUDIO_FEATURE_NAMES.index("voiced_share"), "visual": 0}


def _write_cache(folder, corpus, items, media_root):
    rng = np.random.default_rng(len(corpus))
    rows, features = [], []
    for item_id, split, label, firsts, source in items:
        feats = {}
        for m, first in firsts.items():
            n = int(rng.integers(2, 5))
            values = rng.standard_normal((n, FEATURE_DIMS[m])).astype(np.float32)
            values[:, READ[m]] = first
            feats[m] = ModalityFeatures(values, np.ones(n, bool), np.full((n, 2), np.nan))
        rows.append({"id": item_id, "split": split, "group": "", "label": label,
                     "label_class": CLASSES.get(label, ""), "label_detail": "",
                     "text": f"words of {item_id}" if "text" in firsts else "", "text_source": "given",
                     "source": source, "face_fraction": 0.0, "voiced_fraction": 0.0, "duration": 0.0,
                     "notices": ""})
        features.append(feats)
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, FEATURE_SPEC_ID, corpus)
    splits = {s: sum(1 for i in items if i[1] == s) for s in ("train", "valid", "test")}
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": FEATURE_SPEC_ID, "corpus": corpus,
                               "complete": True, "splits": splits, "media_root": str(media_root)})
    return features


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    root, media = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("shared")
    (media / "data" / "ravdess").mkdir(parents=True)
    (media / "data" / "ravdess" / "r0.flac").write_bytes(b"r0 sound")
    with zipfile.ZipFile(media / "data" / "clips.zip", "w") as zf:
        zf.writestr("r1.flac", b"r1 sound")
    (media / "media" / "mosi_clips").mkdir(parents=True)
    (media / "media" / "mosi_clips" / "m1.mp4").write_bytes(b"m1 clip")
    written = {"mosi": _write_cache(root / "mosi", "mosi", MOSI, media),
               "ravdess": _write_cache(root / "ravdess", "ravdess", RAVDESS, media)}
    return root, written


class FirstValue(torch.nn.Module):
    """Stub model: each modality says the mean of its first feature over observed steps; the score
    is their sum. With `heads` it returns them as unimodal heads; without, the error analysis must
    find them by switching modalities off (single-modality subsets)."""

    model_name = "first_value"

    def __init__(self, heads: bool):
        super().__init__()
        self.heads = heads
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    def forward(self, batch, with_losses=False):
        says = {}
        for m in MODALITIES:
            observed = batch.observed(m).float()
            says[m] = (batch.values(m)[..., READ[m]] * observed).sum(1) / observed.sum(1).clamp(min=1)
        score = sum(says.values()) + self.anchor
        return ModelOutput(score=score, unimodal=says if self.heads else {})


@pytest.mark.parametrize("heads", [True, False])
def test_conflict_and_unimodal_predictions_on_a_hand_built_case(caches, heads):
    root, _ = caches
    result = run_split(FirstValue(heads), root, "ravdess", "test", name=f"stub-{heads}")
    table = result.table.set_index("id")
    assert result.unimodal_source == ("heads" if heads else "single-modality subsets")
    assert table["modality_conflict"].to_dict() == {"r0": True, "r1": False, "r2": False, "r3": False,
                                                    "r4": False}
    assert table.loc["r0", ["pred_text", "pred_audio"]].tolist() == [1.0, -1.0]
    assert table.loc["r1", "prediction"] == pytest.approx(3.0)
    assert np.isnan(table.loc["r3", "pred_text"]) and table.loc["r3", "pred_audio"] == -3.0
    assert table.loc["r4", "modalities"] == "none" and np.isnan(table.loc["r4", "pred_audio"])
    assert "pred_visual" not in table  # no item has a face: no empty column
    assert any("no usable modality" in note for note in result.notes)


def test_conflict_flag_ignores_missing_and_zero():
    unimodal = np.array([[1.0, -0.1, np.nan], [np.nan, np.nan, -2.0], [0.0, -1.0, np.nan],
                         [0.5, 2.0, -0.5], [np.nan, np.nan, np.nan]])
    assert modality_conflict(unimodal).tolist() == [True, False, False, True, False]


def test_table_columns_order_and_filters(caches):
    root, _ = caches
    torch.manual_seed(0)
    result = run_split(create_model("late_fusion").eval(), root, "all", "test", name="late_fusion")
    table = result.table
    assert list(table.columns) == [c for c in COLUMNS if c != "pred_visual"]
    assert len(table) == 9 and set(table["corpus"]) == {"mosi", "ravdess"} and set(table["split"]) == {"test"}
    assert (np.diff(table["abs_error"].to_numpy()) <= 0).all()
    assert np.allclose(table["abs_error"], (table["prediction"] - table["label"]).abs())
    assert table.set_index("id").loc["m0", "transcript"] == "words of m0"
    assert set(result.metrics) == {"mosi", "ravdess"}

    negative = filter_table(table, polarity="negative")
    assert set(negative["id"]) == {"m1", "r0", "r3"}
    assert set(filter_table(table, corpus="mosi")["id"]) == {"m0", "m1", "m2", "m3"}
    assert set(filter_table(table, conflict_only=True)["id"]) == set(table.loc[table["modality_conflict"], "id"])
    cut = float(table["abs_error"].median())
    assert (filter_table(table, min_error=cut)["abs_error"] >= cut).all()
    ascending = filter_table(table, descending=False)
    assert (np.diff(ascending["abs_error"].to_numpy()) >= 0).all()
    with pytest.raises(ErrorAnalysisError, match="unknown polarity"):
        filter_table(table, polarity="happy")


def test_metrics_equal_training_evaluate(caches):
    from training.data import collate_examples, load_examples
    from training.evaluate import corpus_metrics, predict

    root, _ = caches
    torch.manual_seed(1)
    model = create_model("early_fusion").eval()  # no unimodal heads: also the subset path
    for corpus in ("mosi", "ravdess"):
        result = run_split(model, root, corpus, "test", name="early_fusion")
        examples = load_examples(root, [corpus], "test")
        pred = predict(model, [collate_examples(examples)])
        label = np.array([e.label for e in examples])
        expected = corpus_metrics(corpus, pred, label)
        got = {k: v for k, v in result.metrics[corpus].items() if k != "n"}
        assert got.keys() == expected.keys()
        assert np.allclose(list(got.values()), list(expected.values()), equal_nan=True)
        by_id = result.table.set_index("id")["prediction"]
        assert np.allclose([by_id[e.id] for e in examples], pred, atol=1e-6)
        assert run_split(model, root, corpus, "test", name="early_fusion") is result  # kept in memory


def test_load_sample_round_trip(caches):
    root, written = caches
    features, media, transcript = load_sample(root, "ravdess", "test", "r0")
    assert transcript == "words of r0" and open(media, "rb").read() == b"r0 sound"
    for m in MODALITIES:
        expected = written["ravdess"][0].get(m)
        assert features[m].present == (expected is not None)
        if expected is not None and m == "audio":  # stored raw, read against its own median
            from msa_demo.features.voice_reference import reference_of, relative_to

            own = relative_to(expected.values, expected.mask, reference_of(expected.values, expected.mask))
            assert np.array_equal(features[m].values, own)
        elif expected is not None:
            assert np.array_equal(features[m].values, expected.values)
    assert open(load_sample(root, "ravdess", "test", "r1")[1], "rb").read() == b"r1 sound"  # from the zip
    assert load_sample(root, "mosi", "test", "m1")[1].endswith("m1.mp4")  # a demo clip named by id
    assert load_sample(root, "mosi", "test", "m0")[1] is None
    with pytest.raises(ErrorAnalysisError, match="not in the mosi cache"):
        load_sample(root, "mosi", "test", "nope")
    with pytest.raises(ErrorAnalysisError, match="train split, not test"):
        load_sample(root, "mosi", "test", "m4")


def test_missing_cache_says_how_to_make_one(tmp_path):
    hint = r"no feature cache under .*: run python -m training.extract_shared --shared ../shared --out cache"
    with pytest.raises(ErrorAnalysisError, match=hint):
        run_split(FirstValue(True), tmp_path, "mosi", "test")
    with pytest.raises(ErrorAnalysisError, match=hint):
        run_split(FirstValue(True), tmp_path, "all", "test")
    with pytest.raises(ErrorAnalysisError, match=hint):
        load_sample(tmp_path, "fer2013", "test", "x")
    assert split_choices(tmp_path) == []


def test_error_tab_builds_runs_and_selects(caches, tmp_path):
    import gradio as gr

    from msa_demo.ui.error_table import build_error_tab

    root, _ = caches
    models = {"stub": FirstValue(True)}
    zoo = type("Zoo", (), {"names": lambda self: list(models), "get": lambda self, n: models[n],
                           "notice": lambda self, n: "stub weights"})()
    with gr.Blocks() as demo:
        with gr.Tab("Errors"):
            tab = build_error_tab(zoo, root)
        with gr.Tab("Empty"):
            empty = build_error_tab(zoo, tmp_path)
    assert isinstance(tab.selected, gr.State)
    assert ("all corpora · test (9 items)", "all/test") in tab.split.choices
    assert "no feature cache under" in empty.status.value
    fns = {}
    for f in demo.fns.values():
        fns.setdefault(f.name, f.fn)

    out = fns["on_run"]("all/test", "stub", "all", "all", False, 0.0, progress=lambda *a, **k: None)
    status, metrics, scatter, confusion, shown, state = out[:6]
    assert "stub weights" in status and "polarity-3" in metrics and len(shown) == 9
    assert len(scatter.data[0].x) == 9 and confusion.data[0].z.shape == (3, 3)
    filtered = fns["on_filter"](state, "all", "ravdess", True, 0.0)
    assert filtered[3]["id"].tolist() == ["r0"]

    event = gr.SelectData(None, {"index": [0, 0], "value": "r0", "row_value": filtered[3].iloc[0].tolist()})
    selected, line = fns["on_select"](state, filtered[3], event)
    assert selected == {"corpus": "ravdess", "split": "test", "id": "r0", "model": "stub"} and "r0" in line
    assert "Cannot run" in fns["on_run"]("mosi/valid", "stub", "all", "all", False, 0.0,
                                         progress=lambda *a, **k: None)[0]["value"]


def _tiny_shared(folder):
    """A shared folder with a 5-sentence MOSI label file (3 test, 2 train items)."""
    mosi = folder / "data" / "mosi"
    mosi.mkdir(parents=True)
    rows = ["video_id,clip_id,text,label,annotation,mode,label_by",
            "v1,1,I LOVED IT,2.0,Positive,test,0", "v1,2,IT WAS AWFUL,-2.4,Negative,test,0",
            "v2,1,IT WAS OKAY,0.2,Neutral,test,0", "v3,1,GREAT FILM,1.8,Positive,train,0",
            "v3,2,BORING,-1.0,Negative,train,0"]
    (mosi / "MOSI-label.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_a_fresh_install_builds_only_the_chosen_split(pipeline, tmp_path, monkeypatch):
    """No cache: the tab offers the shared splits, Run builds the chosen one (only it), then scores it."""
    import gradio as gr

    from msa_demo.error_analysis.build import build_split, buildable_choices
    from msa_demo.ui.error_table import build_error_tab

    shared, cache = _tiny_shared(tmp_path / "shared"), tmp_path / "cache"
    monkeypatch.setenv("MSA_SHARED", str(shared))
    assert buildable_choices(cache) == [("mosi · test (not cached yet: Run builds it)", "build:mosi/test"),
                                        ("mosi · valid (not cached yet: Run builds it)", "build:mosi/valid")]
    models = {"stub": FirstValue(True)}
    zoo = type("Zoo", (), {"names": lambda self: list(models), "get": lambda self, n: models[n]})()
    with gr.Blocks() as demo:
        tab = build_error_tab(zoo, cache, pipeline)
    assert "No feature cache yet" in tab.status.value and tab.split.value == "build:mosi/test"
    on_run = next(f.fn for f in demo.fns.values() if f.name == "on_run")
    out = on_run("build:mosi/test", "stub", "all", "all", False, 0.0, progress=lambda *a, **k: None)
    status, shown, split = out[0], out[4], out[-1]
    assert "Scored" in status and sorted(shown["id"]) == ["v1_1", "v1_2", "v2_1"]
    assert split["value"] == "mosi/test" and ("mosi · test (3 items)", "mosi/test") in split["choices"]
    assert buildable_choices(cache) == []  # mosi has a cache now: its other splits come from extract_shared
    with pytest.raises(ErrorAnalysisError, match="already has a cache"):
        build_split(pipeline, cache, "mosi", "valid")
    with pytest.raises(ErrorAnalysisError, match="offered splits"):
        build_split(pipeline, cache, "../etc", "test")
