"""`python -m training.extract_shared [--shared ../shared] [--out cache]`: every corpus in ../shared.

Runs training.extract for MOSI, MELD, RAVDESS and FER2013 in turn (each resumable) and prints the
wall time of each and in all: the numbers docs/DATA.md quotes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from msa_demo.corpora import CorpusError, open_corpus
from msa_demo.corpora.cache import CacheError

from .extract import DEFAULT_SHARED, extract_corpus, use_shared_face_model

SHARED_CORPORA = ("mosi", "meld", "ravdess", "fer2013")
AUGMENT = 2  # RAVDESS: 960 training voices -> 2,880 (clean + 2 variants); ~0.6 s of CPU per variant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.extract_shared",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(DEFAULT_SHARED), help="the shared data folder")
    parser.add_argument("--out", default="cache", help="caches go to OUT/<corpus>")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpora", nargs="+", default=list(SHARED_CORPORA), choices=SHARED_CORPORA)
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="extract on Ray (see python -m training.extract --help)")
    parser.add_argument("--augment", type=int, default=AUGMENT,
                        help=f"waveform variants per training voice (RAVDESS; default {AUGMENT})")
    args = parser.parse_args(argv)
    use_shared_face_model(args.shared)
    times = {}
    total = time.perf_counter()
    for name in args.corpora:
        start = time.perf_counter()
        try:
            meta = extract_corpus(open_corpus(name, args.shared), Path(args.out) / name, workers=args.workers,
                                  augment=args.augment, ray_address=args.ray)
        except (CorpusError, CacheError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        times[name] = time.perf_counter() - start
        run = meta["extraction_runs"][-1]
        print(f"{name}: {meta['items']} items, {run['items_extracted']} extracted now, "
              f"{times[name]:.0f} s", flush=True)
    print(f"total: {time.perf_counter() - total:.0f} s for {', '.join(times)} with {args.workers} worker(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
