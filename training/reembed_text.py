"""`python -m training.reembed_text cache/mosi cache/meld ...`: new text encoder, same caches.

A new text adapter changes only the text section of the feature spec. The tokenizer is the same, so
every item keeps its tokens, their times and mask; only the token states change. This rewrites the
`text.values` of each shard with the current TextFeaturizer and stamps the current spec id — the
arrays a full re-extraction would write, for seconds of text encoding instead of an hour of audio
and video. It refuses a cache whose spec differs from the current one in anything but the text
adapter, and skips shards already at the current spec (resumable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from msa_demo.corpora.cache import CacheError
from msa_demo.features.spec import FEATURE_SPEC, spec_id, without_text_adapter

from .cache_rewrite import rewrite_cache


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.reembed_text", description=__doc__.splitlines()[0])
    p.add_argument("caches", nargs="+", help="cache folders (each with meta.json)")
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args(argv)
    from msa_demo.features.text import TextFeaturizer

    featurizer = TextFeaturizer()
    for folder in args.caches:
        print(json.dumps(reembed(Path(folder), featurizer, args.batch)), flush=True)
    return 0


def reembed(folder: Path, featurizer, batch: int = 64, from_spec_id: str | None = None) -> dict:
    """Rewrite one cache's text states with `featurizer`; returns counts. `from_spec_id` (default: the
    current spec without the text adapter) is the spec the cache must hold to be re-embedded."""
    source = from_spec_id or spec_id(without_text_adapter(FEATURE_SPEC))
    return rewrite_cache(folder, source, "text encoder",
                         lambda tensors, rows: _replace_text_states(tensors, rows, featurizer, batch))


def _replace_text_states(tensors: dict, rows: list[dict], featurizer, batch: int) -> int:
    """In place: each present text item's states, checked to have the same token count."""
    offsets, present = tensors["text.offsets"], tensors["text.present"]
    todo = [i for i in range(len(rows)) if present[i] and offsets[i + 1] > offsets[i]]
    if not todo:
        return 0
    encoded = featurizer.encode_batch([rows[i]["text"] for i in todo], batch_size=batch)
    values = np.array(tensors["text.values"], copy=True)
    for i, feats in zip(todo, encoded):
        a, b = int(offsets[i]), int(offsets[i + 1])
        if len(feats.values) != b - a:
            raise CacheError(f"item {rows[i]['id']}: {len(feats.values)} tokens now, {b - a} in the cache "
                             "(the text or tokenizer differs): re-extract this cache")
        values[a:b] = feats.values
    tensors["text.values"] = values
    return len(todo)


if __name__ == "__main__":
    sys.exit(main())
