"""`python -m training.corpus_stats [--shared ../shared] [--cache cache] [NAME…]`: the data card's numbers.

Every count in docs/DATA.md comes from here: split sizes, groups per split, classes and polarities
from the readers; the FER2013 de-duplication; the evidence behind the label mapping (MOSI's class
means, MELD's emotion x sentiment table); and, from finished caches, what was extracted (modality
present rates, the FER face-detection rate, sequence lengths) and the measured extraction times.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

from msa_demo.corpora import SPLITS, CorpusError, open_corpus
from msa_demo.corpora.base import groups_in_several_splits, split_counts
from msa_demo.corpora.cache import CacheError, FeatureCache
from msa_demo.corpora.labels import markdown_table, polarity3
from msa_demo.features.spec import MODALITIES, TEXT_MAX_TOKENS

from .extract_shared import DEFAULT_SHARED, SHARED_CORPORA


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus_stats",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", help=f"any of {', '.join(SHARED_CORPORA)} (default: all)")
    parser.add_argument("--shared", default=str(DEFAULT_SHARED))
    parser.add_argument("--cache", default="cache", help="folder with <corpus>/ caches (skipped when absent)")
    args = parser.parse_args(argv)
    unknown = set(args.corpora) - set(SHARED_CORPORA)
    if unknown:
        parser.error(f"unknown corpus {', '.join(sorted(unknown))} (choose from {', '.join(SHARED_CORPORA)})")
    print("## label mapping (msa_demo.corpora.labels)\n" + markdown_table() + "\n")
    for name in args.corpora or SHARED_CORPORA:
        try:
            print("\n".join(corpus_report(name, args.shared, Path(args.cache) / name)) + "\n")
        except CorpusError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


def corpus_report(name: str, shared: str, cache_dir: Path) -> list[str]:
    reader = open_corpus(name, shared)
    items = list(reader.items())
    counts = split_counts(items)
    lines = [f"## {name}", f"items {len(items)}: " + ", ".join(f"{s} {counts[s]}" for s in SPLITS)]
    groups = {s: {i.group for i in items if i.split == s} for s in SPLITS}
    lines.append("groups per split: " + ", ".join(f"{s} {len(groups[s])}" for s in SPLITS)
                 + f"; groups in several splits: {len(groups_in_several_splits(items))}")
    if name == "ravdess":
        lines.append("actors: " + "; ".join(f"{s} {min(groups[s])}..{max(groups[s])}" for s in SPLITS))
    lines += _class_table(items)
    lines += _mapping_evidence(name, reader, items)
    lines += _cache_report(cache_dir)
    return lines


def _class_table(items) -> list[str]:
    by_class = Counter((i.label_class, i.split) for i in items)
    polarity = Counter((polarity3(i.label), i.split) for i in items)
    lines = ["class counts (train/valid/test): " + ", ".join(
        f"{c} {'/'.join(str(by_class[c, s]) for s in SPLITS)}" for c in sorted({k for k, _ in by_class}))]
    lines.append("polarity-3 of the valence labels (train/valid/test): " + ", ".join(
        f"{p} {'/'.join(str(polarity[p, s]) for s in SPLITS)}" for p in ("negative", "neutral", "positive")))
    return lines


def _mapping_evidence(name: str, reader, items) -> list[str]:
    if name == "mosi":
        by_class = defaultdict(list)
        for i in items:
            by_class[i.label_class].append(i.label)
        return ["MOSI label mean per annotation class: " + ", ".join(
            f"{c} {mean(v):+.2f} (n={len(v)})" for c, v in sorted(by_class.items()))]
    if name == "meld":
        table = Counter((i.label_detail, i.label_class) for i in items)
        emotions = sorted({e for e, _ in table})
        return ["MELD emotion -> sentiment (negative/neutral/positive): " + ", ".join(
            f"{e} {table[e, 'negative']}/{table[e, 'neutral']}/{table[e, 'positive']}" for e in emotions)]
    if name == "fer2013":
        r = reader.report
        return [f"FER2013 de-dup: {r.images} images, {r.unique_hashes} distinct sha256; "
                f"{r.duplicate_groups} groups of copies ({r.cross_split_groups} spanning splits); "
                f"{r.conflicting_groups} groups with conflicting labels dropped ({r.conflicting_images} "
                f"images); {r.duplicate_copies_removed} surplus copies "
                f"removed; kept {r.kept}. Before: {_splits(r.before)}; after: {_splits(r.after)}"]
    return []


def _splits(counts: dict) -> str:
    return ", ".join(f"{s} {counts.get(s, 0)}" for s in SPLITS)


def _cache_report(folder: Path) -> list[str]:
    try:
        cache = FeatureCache(folder)
    except CacheError as exc:
        return [f"cache: none ({exc})"]
    rows = cache.index
    lines = [f"cache {folder}: spec {cache.spec_id}, {len(rows)} items"]
    for m in MODALITIES:
        present = [r for r in rows if r[f"{m}_present"]]
        if present:
            lengths = [r[f"{m}_len"] for r in present]
            cut = f", {lengths.count(TEXT_MAX_TOKENS)} cut at {TEXT_MAX_TOKENS} tokens" if m == "text" else ""
            lines.append(f"  {m}: present in {len(present)}/{len(rows)} ({len(present) / len(rows):.1%}), "
                         f"steps per item mean {mean(lengths):.1f}, max {max(lengths)}{cut}")
    if cache.meta["corpus"] == "fer2013":
        lines.append("  face found per split: " + ", ".join(
            f"{s} {_rate([r for r in rows if r['split'] == s])}" for s in SPLITS))
        lines.append("  face found per class: " + ", ".join(
            f"{c} {_rate([r for r in rows if r['label_class'] == c])}"
            for c in sorted({r["label_class"] for r in rows})))
    failed = sum(r["notices"].startswith("unusable media") for r in rows)
    lines.append(f"  items whose media could not be decoded: {failed}")
    for run in cache.meta["extraction_runs"]:
        lines.append(f"  run {run['finished']}: {run['items_extracted']} extracted, "
                     f"{run['items_skipped_as_done']} skipped as done, {run['wall_s']} s wall, "
                     f"{run['workers']} worker(s) on {run['cpu_count']} CPUs")
    return lines


def _rate(rows) -> str:
    hits = sum(r["visual_present"] for r in rows)
    return f"{hits / len(rows):.1%}" if rows else "-"


if __name__ == "__main__":
    sys.exit(main())
