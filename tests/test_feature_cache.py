"""Feature caches: the round trip, resumable extraction, a user's video folder, MMSA pickles."""

from __future__ import annotations

import csv
import pickle

import numpy as np
import pytest

from conftest import MOSI_CLIPS, SHARED, needs_face_model, needs_shared
from msa_demo.corpora import CorpusError, open_corpus
from msa_demo.corpora.cache import CacheError, FeatureCache, write_index, write_shard
from msa_demo.features import FEATURE_DIMS, FEATURE_SPEC_ID, ModalityFeatures
from msa_demo.features.spec import AUDIO_DIM, VISUAL_DIM
from msa_demo.features.voice_reference import combine, reference_of, relative_to
from training.extract import extract_corpus, main

needs_data = pytest.mark.skipif(not (SHARED / "data").is_dir(), reason=f"{SHARED}/data is absent")


def _assert_same(a: ModalityFeatures, b: ModalityFeatures) -> None:
    assert a.present == b.present
    assert np.array_equal(a.values, b.values) and np.array_equal(a.mask, b.mask)
    assert np.array_equal(a.times, b.times, equal_nan=True)


def _random(rng, dim: int, n: int, masked: bool = False) -> ModalityFeatures:
    mask = rng.random(n) > 0.3 if masked else np.ones(n, bool)
    times = rng.random((n, 2)).astype(np.float32)
    times[::2] = np.nan
    return ModalityFeatures(rng.standard_normal((n, dim)), mask, times)


# --- the format -----------------------------------------------------------------------------------
def test_round_trip_gives_identical_arrays(tmp_path):
    rng = np.random.default_rng(0)
    features = [
        {"text": _random(rng, 384, 7), "audio": _random(rng, AUDIO_DIM, 50),
         "visual": _random(rng, VISUAL_DIM, 9, masked=True)},
        {"text": _random(rng, 384, 3), "audio": ModalityFeatures.absent(AUDIO_DIM)},  # visual not given at all
        {"visual": ModalityFeatures(np.zeros((1, VISUAL_DIM)), np.zeros(1, bool), np.zeros((1, 2)), present=False)},
    ]
    rows = [dict(id=f"item{i}", split=s, group="g", label=v, label_class="c", label_detail="",
                 text="t, \"quoted\"\n", text_source="given", source="", face_fraction=0.0,
                 voiced_fraction=0.0, duration=0.0, notices="")
            for i, (s, v) in enumerate([("train", -1.5), ("valid", 0.0), ("test", 2.25)])]
    shard = tmp_path / "shards" / "shard-00000.safetensors"
    write_shard(shard, rows, features, FEATURE_DIMS, FEATURE_SPEC_ID, "toy")
    write_index(tmp_path, rows, {"format": "msa-feature-cache/1", "feature_spec_id": FEATURE_SPEC_ID,
                                 "complete": True, "extraction_runs": []})

    cache = FeatureCache(tmp_path, spec_id=FEATURE_SPEC_ID)
    assert cache.ids() == ["item0", "item1", "item2"] and cache.ids("valid") == ["item1"]
    for i, item in enumerate(cache):
        assert item.label == rows[i]["label"] and item.row["text"] == "t, \"quoted\"\n"
        for m, dim in FEATURE_DIMS.items():
            expected = features[i].get(m, ModalityFeatures.absent(dim))
            if m == "audio" and expected.present:  # stored raw, read against the recording's own median
                own = reference_of(expected.values, expected.mask)
                expected = ModalityFeatures(relative_to(expected.values, expected.mask, own), expected.mask,
                                            expected.times)
                raw = cache.get(item.id, baseline="raw")  # anything but "speaker": the own median
                _assert_same(raw.features[m], expected)
            _assert_same(item.features[m], expected)
            assert item.row[f"{m}_present"] == expected.present
            assert item.row[f"{m}_len"] == len(expected.values)
    with pytest.raises(CacheError, match="not msa-v0"):
        FeatureCache(tmp_path, spec_id="msa-v0-00000000")
    with pytest.raises(CacheError, match="not a feature cache"):
        FeatureCache(tmp_path / "nowhere")


def test_a_voice_is_read_against_its_own_or_its_speakers_median(tmp_path):
    """The cache keeps the raw voice; SPEAKER measures it against all the recordings of its group."""
    rng = np.random.default_rng(1)
    raw = [_random(rng, AUDIO_DIM, 20) for _ in range(3)]
    for k, f in enumerate(raw):
        f.values[:, :] += 3.0 * k  # three recordings at different levels
    rows = [dict(id=f"r{i}", split="train", group=g, label=0.0, label_class="c", label_detail="", text="",
                 text_source="none", source="", face_fraction=0.0, voiced_fraction=0.0, duration=0.0, notices="")
            for i, g in enumerate(["actor_a", "actor_a", "actor_b"])]
    write_shard(tmp_path / "shards" / "shard-00000.safetensors", rows, [{"audio": f} for f in raw], FEATURE_DIMS,
                FEATURE_SPEC_ID, "toy")
    write_index(tmp_path, rows, {"format": "msa-feature-cache/1", "feature_spec_id": FEATURE_SPEC_ID,
                                 "complete": True, "extraction_runs": []})
    cache = FeatureCache(tmp_path, spec_id=FEATURE_SPEC_ID)
    actor_a = combine([reference_of(f.values, f.mask) for f in raw[:2]])
    np.testing.assert_allclose(cache.get("r0", "speaker").features["audio"].values,
                               relative_to(raw[0].values, raw[0].mask, actor_a), atol=1e-6)
    own = cache.get("r0", "own").features["audio"].values
    j = 0  # a RELATIVE column: against its own median it is centred, against actor_a's it sits lower
    assert abs(np.median(own[:, j])) < 1e-5
    assert np.median(cache.get("r0", "speaker").features["audio"].values[:, j]) < -1.0
    np.testing.assert_allclose(cache.get("r2", "speaker").features["audio"].values,
                               cache.get("r2", "own").features["audio"].values, atol=1e-5)  # alone in its group


# --- extraction through the live pipeline ---------------------------------------------------------
@needs_data
def test_extraction_resumes_and_matches_the_live_pipeline(pipeline, tmp_path):
    reader = open_corpus("ravdess", SHARED)
    out = tmp_path / "ravdess"
    first = extract_corpus(reader, out, limit=3, shard_size=2, pipeline=pipeline, progress=False)
    assert first["items"] == 3 and first["shards"] == 2
    assert first["extraction_runs"][-1]["items_extracted"] == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "shards").iterdir()}

    second = extract_corpus(reader, out, limit=3, shard_size=2, pipeline=pipeline, progress=False)
    run = second["extraction_runs"][-1]
    assert (run["items_extracted"], run["items_skipped_as_done"]) == (0, 3)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "shards").iterdir()} == stamps  # nothing rewritten

    (out / "shards" / "shard-00001.safetensors").unlink()  # an interrupted run: only that shard is redone
    third = extract_corpus(reader, out, limit=3, shard_size=2, pipeline=pipeline, progress=False)
    assert third["extraction_runs"][-1]["items_extracted"] == 1 and len(third["extraction_runs"]) == 3

    cache = FeatureCache(out, spec_id=FEATURE_SPEC_ID)
    item = cache.get(cache.ids()[2])
    live = pipeline.extract(cache.media_path(item.row), transcript=item.row["text"])
    for m in ("text", "audio"):
        _assert_same(item.features[m], live.modality(m))
    assert not item.features["visual"].present and item.row["text_source"] == "given"


@needs_data
def test_fer_still_read_from_the_zip(pipeline, tmp_path):
    reader = open_corpus("fer2013", SHARED)
    meta = extract_corpus(reader, tmp_path, limit=4, pipeline=pipeline, progress=False)
    cache = FeatureCache(tmp_path)
    assert meta["splits"] == {"test": 4} and cache.meta["licence"].startswith("FER2013")
    for item in cache:
        assert item.features["visual"].shape == (1, VISUAL_DIM) and not item.features["text"].present
        assert item.features["visual"].present == item.row["visual_present"]
        assert "::" in cache.media_path(item.row)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["--corpus", "mosi", "--root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


@needs_data
def test_an_out_folder_of_another_corpus_is_refused(pipeline, tmp_path):
    extract_corpus(open_corpus("mosi", SHARED), tmp_path, limit=2, pipeline=pipeline, progress=False)
    with pytest.raises(CacheError, match="already holds a 'mosi' cache"):
        extract_corpus(open_corpus("meld", SHARED), tmp_path, limit=2, pipeline=pipeline, progress=False)


def test_worker_processes_give_the_same_features_as_in_process(pipeline, tmp_path):
    if not (SHARED / "data").is_dir():
        pytest.skip(f"{SHARED}/data is absent")
    reader = open_corpus("mosi", SHARED)
    extract_corpus(reader, tmp_path / "workers", limit=2, workers=1, progress=False)
    extract_corpus(reader, tmp_path / "here", limit=2, pipeline=pipeline, progress=False)
    workers, here = list(FeatureCache(tmp_path / "workers")), list(FeatureCache(tmp_path / "here"))
    assert len(workers) == len(here) == 2  # (zip alone would pass two empty caches)
    assert [a.id for a in workers] == [b.id for b in here]
    for a, b in zip(workers, here):
        # a worker runs torch with one thread, this process with the default: the summation order of
        # the matrix products differs, so the last bits may too
        assert a.features["text"].present == b.features["text"].present
        np.testing.assert_allclose(a.features["text"].values, b.features["text"].values, rtol=0, atol=1e-5)
        assert np.array_equal(a.features["text"].mask, b.features["text"].mask)


# --- format (a): a folder of videos + a MOSI-format label CSV -------------------------------------
def _label_csv(path, rows) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["video_id", "clip_id", "text", "label", "mode"])
        writer.writeheader()
        writer.writerows(rows)


@needs_shared
def test_videos_reader_on_the_mosi_clips(tmp_path):
    with open(MOSI_CLIPS / "labels.csv", newline="") as fh:
        source = list(csv.DictReader(fh))
    rows = [{k: r[k] for k in ("video_id", "clip_id", "text", "label")} | {"mode": m}
            for r, m in zip(source, ["train", "dev", "test", "train"])]
    rows.append({"video_id": "nosuch", "clip_id": "1", "text": "", "label": "1.0", "mode": "test"})
    _label_csv(tmp_path / "labels.csv", rows)
    reader = open_corpus("videos", MOSI_CLIPS, labels=tmp_path / "labels.csv")
    items = list(reader.items())
    assert [i.id for i in items] == [f"{r['video_id']}_{r['clip_id']}" for r in source]
    assert [i.split for i in items] == ["train", "valid", "test", "train"]
    assert [i.label for i in items] == [float(r["label"]) for r in source]
    assert reader.missing == ["nosuch_1"] and "no clip" in reader.notes[0]
    assert "several splits" in reader.notes[1]  # 0h-zjBukYpk sits in train, valid and test here


@needs_face_model
def test_videos_extraction_all_three_modalities(pipeline, mosi_clips, tmp_path, monkeypatch):
    """Clip folders as raw CMU-MOSI ships them (<video_id>/<clip_id>.mp4); a blank text -> Whisper."""
    from msa_demo.asr import ASRResult, Transcript

    heard = Transcript("and he is one of my favorite actors", source="whisper")
    monkeypatch.setattr(pipeline.asr, "transcribe", lambda audio, language=None: ASRResult(heard))
    for video, clip in (("0h-zjBukYpk", "24"), ("Sqr0AcuoNnk", "12")):  # the two shortest clips
        (tmp_path / "Raw" / video).mkdir(parents=True)
        (tmp_path / "Raw" / video / f"{clip}.mp4").symlink_to(MOSI_CLIPS / f"{video}_{clip}.mp4")
    _label_csv(tmp_path / "mine.csv", [
        {"video_id": "0h-zjBukYpk", "clip_id": "24", "text": "I MEAN THAT WAS IMPRESSIVE", "label": "2.6",
         "mode": "test"},
        {"video_id": "Sqr0AcuoNnk", "clip_id": "12", "text": " ", "label": "2.0", "mode": "train"},
    ])
    reader = open_corpus("videos", tmp_path / "Raw", labels=tmp_path / "mine.csv",
                         licence="CMU-MOSI, research use")
    meta = extract_corpus(reader, tmp_path / "cache", pipeline=pipeline, progress=False)
    assert meta["licence"] == "CMU-MOSI, research use" and meta["live_media"] is True
    cache = FeatureCache(tmp_path / "cache", spec_id=FEATURE_SPEC_ID)
    given, transcribed = cache.get("0h-zjBukYpk_24"), cache.get("Sqr0AcuoNnk_12")
    for item in (given, transcribed):
        assert all(item.features[m].present for m in FEATURE_DIMS) and item.row["face_fraction"] >= 0.9
    assert given.row["text_source"] == "given" and given.row["source"] == "0h-zjBukYpk/24.mp4"
    assert (transcribed.row["text_source"], transcribed.row["text"]) == ("whisper", heard.text)
    assert given.label == 2.6 and given.split == "test" and transcribed.split == "train"


def test_videos_reader_says_when_no_clip_matches(tmp_path):
    row = {"video_id": "a", "clip_id": "1", "text": "x", "label": "1", "mode": "train"}
    _label_csv(tmp_path / "labels.csv", [row])
    with pytest.raises(CorpusError, match="none of the 1 rows"):
        list(open_corpus("videos", tmp_path).items())


# --- format (b): MMSA feature pickles (trusted input) ---------------------------------------------
def _mmsa_split(rng, n: int, aligned: bool, prefix: str) -> dict:
    part = {
        "text": rng.standard_normal((n, 6, 8)).astype(np.float32),
        "audio": rng.standard_normal((n, 7, 5)).astype(np.float32),
        "vision": rng.standard_normal((n, 9, 20)).astype(np.float32),
        "regression_labels": rng.uniform(-3, 3, n).astype(np.float32),
        "raw_text": np.array([f"sentence {i}" for i in range(n)]),
        "id": np.array([f"{prefix}vid{i}$_${i}" for i in range(n)]),
        "text_bert": np.zeros((n, 3, 6)),  # ids, mask, segments: 4 real tokens, 2 padding
    }
    part["text_bert"][:, 1, :4] = 1
    part["text"][:, 4:] = 0
    part["audio"][0, 0, 0] = -np.inf  # as in MMSA's MOSI COVAREP features
    if not aligned:
        part["audio_lengths"] = np.array([7, 3, 0][:n] + [5] * (n - 3))
        part["vision_lengths"] = np.array([9] * n)
    else:
        part["vision"][:, 5:] = 0
    return part


@pytest.mark.parametrize("aligned", [False, True])
def test_mmsa_pickle_becomes_a_cache_of_its_own_spec(tmp_path, aligned):
    rng = np.random.default_rng(1)
    name = "aligned_50.pkl" if aligned else "unaligned_50.pkl"
    data = {s: _mmsa_split(rng, n, aligned, s) for s, n in (("train", 4), ("valid", 3), ("test", 3))}
    with open(tmp_path / name, "wb") as fh:
        pickle.dump(data, fh)
    assert main(["--corpus", "mmsa", "--root", str(tmp_path / name), "--out", str(tmp_path / "cache")]) == 0

    cache = FeatureCache(tmp_path / "cache")
    assert cache.spec_id == f"mmsa-{name[:-4]}-t8a5v20" and cache.meta["live_media"] is False
    assert cache.meta["feature_dims"] == {"text": 8, "audio": 5, "visual": 20}
    assert cache.meta["splits"] == {"train": 4, "valid": 3, "test": 3}
    with pytest.raises(CacheError, match="re-extract"):
        FeatureCache(tmp_path / "cache", spec_id=FEATURE_SPEC_ID)
    first = cache.get("trainvid0$_$0")
    assert first.row["text"] == "sentence 0"
    assert first.label == pytest.approx(float(data["train"]["regression_labels"][0]))
    assert first.features["text"].shape == (4, 8)  # the BERT mask's length
    assert first.features["audio"].values[0, 0] == 0.0  # -inf -> 0
    vision = data["train"]["vision"][0, : 5 if aligned else 9]
    np.testing.assert_array_equal(first.features["visual"].values, vision)
    if not aligned:
        assert cache.get("trainvid1$_$1").features["audio"].shape == (3, 5)
        assert not cache.get("trainvid2$_$2").features["audio"].present


def test_mmsa_refuses_what_is_not_an_mmsa_pickle(tmp_path):
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(CorpusError, match="not a readable MMSA pickle"):
        list(open_corpus("mmsa", tmp_path / "bad.pkl").items())
    with open(tmp_path / "dict.pkl", "wb") as fh:
        pickle.dump({"train": {"text": np.zeros((1, 2, 3))}}, fh)
    with pytest.raises(CorpusError, match="lacks regression_labels, id"):
        list(open_corpus("mmsa", tmp_path / "dict.pkl").items())
    with pytest.raises(CorpusError, match="must name the .pkl file"):
        open_corpus("mmsa", tmp_path)
