"""`python -m training.extract --corpus NAME --root PATH --out DIR`: a corpus -> a feature cache.

Every item goes through `FeaturePipeline.extract`, the path the live app takes, so cached features
are the features the app computes on an upload. Known transcripts are passed in (Whisper is skipped);
Whisper runs only for user clips without one. Items are cut into shards in the reader's order; each
worker process builds its pipeline once and writes whole shards, so a rerun skips finished shards
and an interrupted run resumes. MMSA pickles are converted in-process (no extractor runs).

Examples (from the repository root, ../shared beside it):
    python -m training.extract --corpus ravdess --root ../shared --out cache/ravdess --workers 2
    python -m training.extract --corpus videos --root ~/Raw --labels ~/MOSI-label.csv --out cache/mine
    python -m training.extract --corpus mmsa --root ~/MOSI/Processed/aligned_50.pkl --out cache/mmsa
    python -m training.extract --corpus ravdess --root ../shared --out cache/ravdess --workers 8 --ray auto
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path

from msa_demo.corpora import READERS, CorpusError, CorpusItem, CorpusReader, open_corpus
from msa_demo.corpora.cache import CACHE_FORMAT, CacheError, read_meta, shard_name, shard_rows, \
    shard_spec, write_index, write_shard
from msa_demo.corpora.labels import CLASS_VALENCE, NEUTRAL_BAND

from .extract_item import base_row, extract_shard, init_worker


DEFAULT_SHARED = Path(os.environ.get("MSA_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def use_shared_face_model(shared: str | Path = DEFAULT_SHARED) -> None:
    """MediaPipe's model from ../shared (hash-checked on load) unless MSA_FACE_MODEL names one."""
    face_model = Path(shared) / "models" / "face_landmarker.task"
    if face_model.is_file():
        os.environ.setdefault("MSA_FACE_MODEL", str(face_model))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_shared_face_model()
    try:
        reader = open_corpus(args.corpus, args.root, labels=args.labels, licence=args.licence)
        summary = extract_corpus(reader, Path(args.out), workers=args.workers, limit=args.limit,
                                 shard_size=args.shard_size, whisper_model=args.whisper_model,
                                 text_batch=args.text_batch, augment=args.augment, scramble=args.scramble,
                                 ray_address=args.ray)
    except (CorpusError, CacheError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in reader.notes:
        print(f"note: {note}", file=sys.stderr)
    print(_one_line(summary))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.extract", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[8:]))
    parser.add_argument("--corpus", required=True, choices=sorted(READERS))
    parser.add_argument("--root", required=True, help="the corpus's file or folder, or ../shared")
    parser.add_argument("--labels", help="videos only: the MOSI-format label CSV (default ROOT/labels.csv)")
    parser.add_argument("--out", required=True, help="cache folder (created; rerun to resume)")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (0: in this process)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items (a quick subset)")
    parser.add_argument("--shard-size", type=int, default=None, help="items per shard (default per corpus)")
    parser.add_argument("--text-batch", type=int, default=1,
                        help="encode text-only items N at a time: faster, but padding changes the features "
                             "by ~1e-5, so the default 1 matches the live app bit for bit")
    parser.add_argument("--whisper-model", default=None, help="for clips without a transcript (default base)")
    parser.add_argument("--augment", type=int, default=0,
                        help="k seeded waveform variants of each training item's voice (default 0)")
    parser.add_argument("--scramble", type=int, default=0,
                        help="s more variants, their speech shuffled in word-sized pieces first (default 0)")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="extract on Ray: --workers actors, each with its own pipeline; no ADDRESS "
                             "starts Ray on this machine, else a cluster address (auto, HOST:6379, "
                             "ray://HOST:10001); needs requirements-cluster.txt")
    parser.add_argument("--licence", default=None,
                        help="videos/mmsa: the licence of your corpus, kept in meta.json")
    return parser


def extract_corpus(reader: CorpusReader, out: Path, workers: int = 2, limit: int | None = None,
                   shard_size: int | None = None, whisper_model: str | None = None, text_batch: int = 1,
                   pipeline=None, progress: bool = True, augment: int = 0, scramble: int = 0,
                   ray_address: str | None = None) -> dict:
    """Extract (or finish extracting) `reader` into `out`; returns the cache's meta, this run last.

    `pipeline`: an existing FeaturePipeline to use in this process (tests); else `workers` processes.
    `augment`: k seeded waveform variants of every training item's voice, cached beside it;
    `scramble`: s more, their speech shuffled in pieces first (`with_voice_variants`).
    `ray_address`: extract on Ray ("local" starts it here; training/ray_extract.py), same shards.
    """
    started = time.perf_counter()
    items = list(reader.items())
    if limit is not None:
        items = items[:limit]
    if "audio" in reader.modalities:
        items = with_voice_variants(items, augment, scramble)
    if not items:
        raise CorpusError(f"{reader.name}: no items to extract")
    spec_id = reader.spec_id
    _check_out_folder(out, reader, spec_id)
    size = shard_size or reader.shard_size
    plan = [items[i:i + size] for i in range(0, len(items), size)]
    todo = [(k, chunk) for k, chunk in enumerate(plan) if not _finished(out / shard_name(k), chunk, spec_id)]
    skipped = len(items) - sum(len(chunk) for _, chunk in todo)
    media_root = reader.root if reader.root.is_dir() else reader.root.parent
    job = dict(spec_id=spec_id, corpus=reader.name, dims=reader.feature_dims, media_root=str(media_root),
               text_batch=text_batch)

    bar = _progress_bar(len(items), skipped, reader.name, progress)
    failed = 0
    if reader.precomputed:
        for k, chunk in todo:
            failed += _precomputed_shard(reader, out / shard_name(k), chunk, job)
            bar.update(len(chunk))
    elif ray_address is not None and todo:
        from .ray_extract import extract_on_ray

        failed += extract_on_ray(todo, out, job, workers, whisper_model, bar, ray_address)
    elif pipeline is not None or workers <= 0:
        init_worker(whisper_model, pipeline=pipeline)
        for k, chunk in todo:
            failed += extract_shard(str(out / shard_name(k)), chunk, job)
            bar.update(len(chunk))
    else:
        failed += _in_workers(todo, out, job, workers, whisper_model, bar)
    bar.close()

    rows = [row for k in range(len(plan)) for row in shard_rows(out / shard_name(k)) or []]
    meta = _meta(reader, out, spec_id, size, len(plan), rows, media_root)
    meta["extraction_runs"].append({
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 1), "items_extracted": len(items) - skipped,
        "items_skipped_as_done": skipped, "items_failed": failed,
        "workers": workers if pipeline is None else 0, "ray": ray_address,
        "cpu_count": os.cpu_count(), "limit": limit, "text_batch": text_batch,
        "augment": augment, "scramble": scramble,
    })
    write_index(out, rows, meta)
    return meta


def with_voice_variants(items: list[CorpusItem], k: int, scrambled: int = 0) -> list[CorpusItem]:
    """`items`, then k variants of each training item that has media (ids `<id>~aug<j>`), then
    `scrambled` more whose speech is first shuffled in pieces (ids `<id>~scr<j>`); validation and
    test items are never augmented. The order keeps an existing cache's shards: adding scrambled
    variants to a cache extracts only the new ones."""
    from dataclasses import replace

    training = [item for item in items if item.split == "train" and item.media]
    variants = [replace(item, id=f"{item.id}~aug{j}", augment=j)
                for item in training for j in range(1, k + 1)]
    variants += [replace(item, id=f"{item.id}~scr{j}", augment=k + j, scramble=True)
                 for item in training for j in range(1, scrambled + 1)]
    return items + variants


def _check_out_folder(out: Path, reader: CorpusReader, spec_id: str) -> None:
    meta = read_meta(out)
    if meta is not None and (meta.get("corpus"), meta.get("feature_spec_id")) != (reader.name, spec_id):
        raise CacheError(f"{out} already holds a '{meta.get('corpus')}' cache of spec "
                         f"{meta.get('feature_spec_id')}; this run is '{reader.name}' with spec {spec_id}: "
                         "choose another --out or delete it")
    out.mkdir(parents=True, exist_ok=True)


def _finished(path: Path, chunk: list[CorpusItem], spec_id: str) -> bool:
    """A shard is done when it exists, has our spec and holds exactly the planned items."""
    if not path.is_file() or shard_spec(path) != spec_id:
        return False
    rows = shard_rows(path)
    return rows is not None and [r["id"] for r in rows] == [item.id for item in chunk]


def _in_workers(todo, out: Path, job: dict, workers: int, whisper_model: str | None, bar) -> int:
    import multiprocessing

    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging, in every worker
    threads = max(1, (os.cpu_count() or 1) // workers)
    failed = 0
    # spawn: each worker starts clean and loads its own models (fork after torch threads can hang)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=init_worker, initargs=(whisper_model, None, threads)) as pool:
        futures = {pool.submit(extract_shard, str(out / shard_name(k)), chunk, job): len(chunk)
                   for k, chunk in todo}
        for future in as_completed(futures):
            failed += future.result()
            bar.update(futures[future])
    return failed


def _precomputed_shard(reader: CorpusReader, path: Path, chunk: list[CorpusItem], job: dict) -> int:
    rows, features = [], []
    for item in chunk:
        features.append(reader.features(item))  # type: ignore[attr-defined]
        rows.append(base_row(item, "", "given" if item.text else "none"))
    write_shard(path, rows, features, job["dims"], job["spec_id"], job["corpus"])
    return 0


def _meta(reader: CorpusReader, out: Path, spec_id: str, shard_size: int, shards: int, rows: list[dict],
          media_root: Path) -> dict:
    previous = read_meta(out) or {}
    splits: dict[str, int] = {}
    for row in rows:
        splits[row["split"]] = splits.get(row["split"], 0) + 1
    return {
        "format": CACHE_FORMAT, "feature_spec_id": spec_id, "feature_dims": reader.feature_dims,
        "live_media": reader.live_media, **reader.describe(), "media_root": str(media_root),
        "label_mapping": {"module": "msa_demo.corpora.labels", "class_valence": CLASS_VALENCE,
                          "neutral_band": NEUTRAL_BAND},
        "items": len(rows), "splits": splits, "shard_size": shard_size, "shards": shards, "complete": True,
        "extraction_runs": previous.get("extraction_runs", []),
    }


def _progress_bar(total: int, done: int, name: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc=f"extract {name}", unit="item", disable=not enabled,
                dynamic_ncols=True, mininterval=2.0)


def _one_line(meta: dict) -> str:
    run = meta["extraction_runs"][-1]
    return (f"{meta['corpus']}: {meta['items']} items {meta['splits']} -> cache of spec "
            f"{meta['feature_spec_id']}; "
            f"this run extracted {run['items_extracted']} ({run['items_skipped_as_done']} already done, "
            f"{run['items_failed']} failed) in {run['wall_s']} s with {run['workers']} worker(s)")


if __name__ == "__main__":
    sys.exit(main())
