"""Corpus readers on the real files in ../shared: counts, splits that never share a speaker or an
image, and the one label mapping."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from conftest import SHARED
from msa_demo.corpora import READERS, CorpusError, open_corpus
from msa_demo.corpora.base import groups_in_several_splits, read_zip_media, split_counts
from msa_demo.corpora.labels import (EMOTION_SPELLINGS, NEUTRAL_BAND, POLARITY3, emotion_valence,
                                     mapping_rows, polarity3, polarity3_index, sentiment_valence)

needs_data = pytest.mark.skipif(not (SHARED / "data").is_dir(), reason=f"{SHARED}/data is absent")


@pytest.fixture(scope="module")
def items():
    """Each shared corpus read once (FER2013 hashes all 35,887 stills: about a second)."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"{SHARED}/data is absent")
    readers = {name: open_corpus(name, SHARED) for name in ("mosi", "meld", "ravdess", "fer2013")}
    return {name: (reader, list(reader.items())) for name, reader in readers.items()}


# --- counts and splits ----------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize("name, expected", [
    ("mosi", {"train": 1284, "valid": 229, "test": 686}),
    ("meld", {"train": 9989, "valid": 1109, "test": 2610}),
    ("ravdess", {"train": 960, "valid": 120, "test": 120}),
    ("fer2013", {"train": 26912, "valid": 3508, "test": 3557}),  # after sha256 de-duplication
])
def test_split_counts(items, name, expected):
    _, corpus = items[name]
    assert split_counts(corpus) == expected
    assert len({i.id for i in corpus}) == len(corpus)


@needs_data
def test_every_item_is_complete(items):
    for name, (_, corpus) in items.items():
        for item in corpus:
            assert -3.0 <= item.label <= 3.0, (name, item.id)
            assert item.split in ("train", "valid", "test")
            assert item.group, (name, item.id)
        assert all(i.text for i in corpus) == (name != "fer2013")


@needs_data
def test_ravdess_is_split_by_actor(items):
    _, corpus = items["ravdess"]
    actors = {s: {int(i.group[-2:]) for i in corpus if i.split == s} for s in ("train", "valid", "test")}
    assert actors == {"train": set(range(1, 17)), "valid": {17, 18}, "test": {19, 20}}
    assert not groups_in_several_splits(corpus)
    assert {i.text for i in corpus} == {"Kids are talking by the door", "Dogs are sitting by the door"}
    assert all(i.media.endswith(".flac") for i in corpus)


@needs_data
def test_mosi_videos_never_cross_splits(items):
    assert not groups_in_several_splits(items["mosi"][1])


@needs_data
def test_fer_no_image_in_two_splits_and_no_conflicting_labels(items):
    reader, corpus = items["fer2013"]
    hashes = [i.group for i in corpus]
    assert len(set(hashes)) == len(hashes)  # one copy of every image, so none in two splits
    report = reader.report
    assert (report.images, report.conflicting_groups, report.conflicting_images) == (35887, 57, 160)
    assert report.kept == len(corpus) == report.unique_hashes - report.conflicting_groups
    # the de-duplicated ids hash to what the reader says, straight from the zip
    for item in corpus[::5000]:
        assert hashlib.sha256(read_zip_media(item.media)).hexdigest() == item.group


@needs_data
def test_fer_keeps_the_copy_in_the_most_held_out_split(items):
    reader, corpus = items["fer2013"]
    kept = {i.group: i.split for i in corpus}
    with zipfile.ZipFile(reader.archive) as zf:
        manifest = zf.read("MANIFEST.csv").decode().splitlines()[1:]
    splits_of = {}
    for line in manifest:
        fields = line.split(",")
        splits_of.setdefault(fields[-1], set()).add(fields[2])
    crossing = [h for h, splits in splits_of.items() if "test" in splits and len(splits) > 1 and h in kept]
    assert crossing and all(kept[h] == "test" for h in crossing)


# --- the label mapping ----------------------------------------------------------------------------
def test_polarity_of_every_class():
    expected = {"neutral": "neutral", "calm": "neutral", "surprised": "neutral", "surprise": "neutral",
                "happy": "positive", "joy": "positive", "sad": "negative", "sadness": "negative",
                "angry": "negative", "anger": "negative", "fearful": "negative", "fear": "negative",
                "disgust": "negative"}
    for emotion, polarity in expected.items():
        assert polarity3(emotion_valence(emotion)) == polarity, emotion
    for sentiment in POLARITY3:
        assert polarity3(sentiment_valence(sentiment)) == sentiment


def test_each_corpus_spells_seven_or_eight_emotions():
    assert {k: len(v) for k, v in EMOTION_SPELLINGS.items()} == {"ravdess": 8, "fer2013": 7, "meld": 7}
    assert len(mapping_rows()) == 8 + 3
    with pytest.raises(KeyError, match="unknown emotion"):
        emotion_valence("contempt")


def test_polarity_bins_are_mmsa_acc3():
    assert polarity3(NEUTRAL_BAND) == polarity3(-NEUTRAL_BAND) == "neutral"
    assert polarity3(0.51) == "positive" and polarity3(-0.51) == "negative"
    assert polarity3_index([-3, -0.6, 0, 0.5, 2.9]).tolist() == [0, 0, 1, 1, 2]


@needs_data
def test_meld_emotions_agree_with_meld_sentiment_except_surprise(items):
    """The mapping's polarity for each emotion is what MELD's annotators said, utterance by utterance."""
    for item in items["meld"][1]:
        if item.label_detail != "surprise":
            assert polarity3(emotion_valence(item.label_detail)) == item.label_class, item.id


# --- errors a user can cause ----------------------------------------------------------------------
def test_unknown_corpus_and_missing_root(tmp_path):
    with pytest.raises(CorpusError, match="unknown corpus"):
        open_corpus("imdb", tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        open_corpus("mosi", tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="nothing to read"):
        open_corpus("fer2013", tmp_path)
    with pytest.raises(CorpusError, match="only"):
        open_corpus("mosi", tmp_path, labels="x.csv")
    assert set(READERS) == {"mosi", "meld", "ravdess", "fer2013", "videos", "mmsa"}


def test_label_csv_with_a_missing_column_says_which(tmp_path):
    (tmp_path / "labels.csv").write_text("video_id,clip_id,label\nabc,1,0.5\n")
    with pytest.raises(CorpusError, match="lacks column.*text.*mode"):
        list(open_corpus("videos", tmp_path).items())
