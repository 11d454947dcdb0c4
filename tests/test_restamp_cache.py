"""training.restamp_cache: a cache without the changed modality gets the current spec id and keeps
every feature; a cache with it is refused (it needs a re-extraction)."""

import numpy as np
import pytest

from msa_demo.corpora.cache import (CACHE_FORMAT, CacheError, FeatureCache, read_meta, shard_name, write_index,
                                    write_shard)
from msa_demo.features.spec import FEATURE_DIMS, FEATURE_SPEC_ID
from msa_demo.features.types import ModalityFeatures
from training.restamp_cache import restamp

OLD = "msa-v2-00000000"


def _cache(folder, modalities):
    rng = np.random.default_rng(0)
    features = [{m: ModalityFeatures(rng.standard_normal((3, FEATURE_DIMS[m])).astype(np.float32),
                                     np.ones(3, bool), np.zeros((3, 2), np.float32)) for m in modalities}
                for _ in range(4)]
    rows = [{"id": f"item{i}", "split": "train", "group": "", "label": 0.0, "label_class": "",
             "label_detail": "", "text": "", "text_source": "given", "source": "", "face_fraction": 0.0, "voiced_fraction": 0.0,
             "duration": 0.0, "notices": ""} for i in range(4)]
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, OLD, "x")
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": OLD, "corpus": "x",
                               "complete": True, "modalities": list(modalities)})
    return features


def test_a_cache_without_the_changed_modality_is_restamped_and_unchanged(tmp_path):
    features = _cache(tmp_path / "text", ["text"])
    with pytest.raises(CacheError):
        FeatureCache(tmp_path / "text", spec_id=FEATURE_SPEC_ID)
    assert restamp(tmp_path / "text", OLD, "audio")["shards_rewritten"] == 1
    cache = FeatureCache(tmp_path / "text", spec_id=FEATURE_SPEC_ID)
    for item, before in zip(cache.iter(), features):
        np.testing.assert_array_equal(item.features["text"].values, before["text"].values)
    assert read_meta(tmp_path / "text")["extraction_runs"][-1]["from_spec_id"] == OLD
    assert restamp(tmp_path / "text", OLD, "audio")["shards_rewritten"] == 0  # already current


def test_a_cache_with_the_changed_modality_is_refused(tmp_path):
    _cache(tmp_path / "voice", ["text", "audio"])
    with pytest.raises(CacheError, match="re-extract"):
        restamp(tmp_path / "voice", OLD, "audio")
    with pytest.raises(CacheError):
        restamp(tmp_path / "voice", "msa-v2-11111111", "visual")  # another spec: refused too
