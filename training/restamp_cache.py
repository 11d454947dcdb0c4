"""`python -m training.restamp_cache --from-spec OLD --changed audio cache/mosi ...`: caches of corpora
that do not hold the changed modality, brought to the current spec without a re-extraction.

A spec change in one modality's section (the voice's, say) changes no feature of a corpus that has
no such modality (MOSI's and MELD's transcripts, FER2013's stills): their shards are rewritten with
the current spec id and nothing else. A cache that holds the changed modality is refused — it needs
a re-extraction — and so is one of any spec other than OLD.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from msa_demo.corpora.cache import CacheError, read_meta
from msa_demo.features.spec import MODALITIES

from .cache_rewrite import rewrite_cache


def restamp(folder: Path, from_spec: str, changed: str) -> dict:
    meta = read_meta(folder)
    if meta is None:
        raise CacheError(f"{folder}: not a feature cache")
    if changed in meta.get("modalities", MODALITIES):
        raise CacheError(f"{folder} holds the {changed} modality, whose features changed: re-extract it")
    return rewrite_cache(folder, from_spec, f"spec id only ({changed} changed, not held)",
                         lambda tensors, rows: 0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.restamp_cache", description=__doc__.splitlines()[0])
    p.add_argument("caches", nargs="+", help="cache folders (each with meta.json)")
    p.add_argument("--from-spec", required=True, help="the spec id the caches hold now")
    p.add_argument("--changed", required=True, choices=MODALITIES,
                   help="the modality whose spec section changed")
    args = p.parse_args(argv)
    for folder in args.caches:
        print(json.dumps(restamp(Path(folder), args.from_spec, args.changed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
