"""The text encoder's sentiment adapter: merged weights equal the LoRA forward it was trained as, the
shipped file is the one the spec names, and re-embedding a cache equals encoding its texts anew."""

import json

import numpy as np
import pytest
import torch

from msa_demo.assets import TEXT_ADAPTER_SHA256, resolve_text_model
from msa_demo.corpora.cache import CacheError, FeatureCache, read_meta
from msa_demo.features.spec import FEATURE_SPEC, FEATURE_SPEC_ID, spec_id, without_text_adapter
from msa_demo.features.text_adapter import ADAPTER_PATH, adapter_sha256, merge_adapter, target_names

SENTENCES = ["i mean, that was impressive", "honestly the worst film i have seen this year"]


@pytest.fixture(scope="module")
def plain_model():
    from transformers import AutoModel, AutoTokenizer

    folder = resolve_text_model()
    return AutoTokenizer.from_pretrained(folder), lambda: AutoModel.from_pretrained(folder).eval()


def test_merged_weights_give_the_lora_forward(plain_model, tmp_path):
    from safetensors.torch import save_file

    from training.finetune_text import add_lora

    tokenizer, load = plain_model
    torch.manual_seed(0)
    lora = load()
    names = add_lora(lora)
    assert len(names) == 6 * 6  # 6 blocks x (q, k, v, attention out, intermediate, out)
    modules = dict(lora.named_modules())
    for name in names:
        torch.nn.init.normal_(modules[name].lora_B, std=0.02)  # B starts at zero: make it do something
    tensors = {f"{n}.{k}": getattr(modules[n], k).detach().clone() for n in names for k in ("lora_A", "lora_B")}
    save_file(tensors, str(tmp_path / "adapter.safetensors"))

    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = lora.eval()(**batch).last_hidden_state
        plain = load()(**batch).last_hidden_state
        merged_model = load()
        merge_adapter(merged_model, tmp_path / "adapter.safetensors")
        merged = merged_model(**batch).last_hidden_state
    assert (expected - plain).abs().max() > 1e-2  # the adapter changes the states …
    assert torch.allclose(merged, expected, atol=1e-4)  # … and merging reproduces them


def test_the_shipped_adapter_is_the_one_the_feature_spec_names(plain_model, tmp_path):
    assert ADAPTER_PATH.is_file()
    assert adapter_sha256() == TEXT_ADAPTER_SHA256 == FEATURE_SPEC["text"]["adapter"]["sha256"]
    card = json.loads(ADAPTER_PATH.with_suffix(".json").read_text())
    assert card["sha256"] == TEXT_ADAPTER_SHA256
    other = tmp_path / "other.safetensors"
    other.write_bytes(ADAPTER_PATH.read_bytes() + b" ")
    with pytest.raises(ValueError, match="not the one the feature spec names"):
        merge_adapter(plain_model[1](), other, expected_sha256=TEXT_ADAPTER_SHA256)
    assert len(target_names(plain_model[1]())) == 36


def test_reembedding_a_cache_equals_encoding_its_texts_with_the_adapter(tmp_path):
    from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
    from msa_demo.features.spec import FEATURE_DIMS
    from msa_demo.features.text import TextFeaturizer
    from msa_demo.features.types import ModalityFeatures
    from training.reembed_text import reembed

    plain, adapted = TextFeaturizer(adapter=None), TextFeaturizer()
    old_spec = spec_id(without_text_adapter())
    assert old_spec != FEATURE_SPEC_ID
    texts = SENTENCES + ["", "ok"]
    rng = np.random.default_rng(0)
    audio = ModalityFeatures(rng.standard_normal((5, FEATURE_DIMS["audio"])), np.ones(5, bool),
                             np.zeros((5, 2), np.float32))
    features = [{"text": f, "audio": audio} for f in plain.encode_batch(texts)]
    rows = [{"id": f"item{i}", "split": "train", "group": "", "label": 0.0, "label_class": "",
             "label_detail": "", "text": t, "text_source": "given", "source": "", "face_fraction": 0.0,
             "voiced_fraction": 0.0, "duration": 0.0, "notices": ""} for i, t in enumerate(texts)]
    folder = tmp_path / "cache"
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, old_spec, "mosi")
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": old_spec, "corpus": "mosi",
                               "complete": True})
    with pytest.raises(CacheError):
        FeatureCache(folder, spec_id=FEATURE_SPEC_ID)

    result = reembed(folder, adapted)
    assert result["shards_rewritten"] == 1 and result["items"] == 3  # the empty text stays off
    cache = FeatureCache(folder, spec_id=FEATURE_SPEC_ID)
    fresh = adapted.encode_batch(texts)
    from msa_demo.features.voice_reference import reference_of, relative_to

    # the voice is untouched (stored raw, read against its own median)
    voice = relative_to(audio.values, audio.mask, reference_of(audio.values, audio.mask))
    for i, item in enumerate(cache.iter()):
        assert item.features["text"].present == bool(texts[i])
        np.testing.assert_allclose(item.features["text"].values, fresh[i].values, atol=1e-5)
        np.testing.assert_array_equal(item.features["audio"].values, voice)
    assert not np.allclose(cache.get("item0").features["text"].values, features[0]["text"].values, atol=1e-3)
    assert read_meta(folder)["extraction_runs"][-1]["from_spec_id"] == old_spec
    assert reembed(folder, adapted)["shards_rewritten"] == 0  # resumable: finished shards are skipped
