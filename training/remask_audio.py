"""`python -m training.remask_audio cache/ravdess ...`: the voice's speech-span mask on cached features.

The mask (msa_demo/features/audio.py `speech_span_mask`: the silence around the speech is off) is a
function of the cached energy_db column alone, so a cache made before it gets exactly the mask a
re-extraction would give, in seconds. Values stay; only `audio.mask` changes, and the spec id.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from msa_demo.features.audio import speech_span_mask
from msa_demo.features.spec import spec_id, spec_without

from .cache_rewrite import rewrite_cache


def remask(folder: Path) -> dict:
    return rewrite_cache(folder, spec_id(spec_without("audio", "mask")), "voice mask", _remask)


def _remask(tensors: dict, rows: list[dict]) -> int:
    offsets, present = tensors["audio.offsets"], tensors["audio.present"]
    mask, values = np.array(tensors["audio.mask"], copy=True), tensors["audio.values"]
    changed = 0
    for i in range(len(rows)):
        a, b = int(offsets[i]), int(offsets[i + 1])
        if present[i] and b > a:
            mask[a:b] &= speech_span_mask(values[a:b])
            changed += 1
    tensors["audio.mask"] = mask
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.remask_audio", description=__doc__.splitlines()[0])
    p.add_argument("caches", nargs="+", help="cache folders (each with meta.json)")
    for folder in p.parse_args(argv).caches:
        print(json.dumps(remask(Path(folder))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
