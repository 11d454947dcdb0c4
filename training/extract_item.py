"""Inside one extraction worker: its own FeaturePipeline, built once, and one shard at a time.

Every item goes through `FeaturePipeline.extract`, exactly as an upload in the app does: a file path
(clip or audio), the bytes of a still (FER2013, from inside its zip), or typed text alone. A file
that cannot be decoded costs that item its media, never the run: the item is kept with the media
modalities off and the reason in `notices`.
"""

from __future__ import annotations

import os
from pathlib import Path

from msa_demo.corpora.base import ZIP_MEMBER, CorpusItem, read_zip_media
from msa_demo.corpora.cache import write_shard
from msa_demo.errors import MediaError
from msa_demo.features.types import ModalityFeatures

_pipeline = None  # this process's FeaturePipeline


def init_worker(whisper_model: str | None = None, pipeline=None, threads: int | None = None) -> None:
    """Build (or adopt) this process's pipeline and load every model now, not on the first item."""
    global _pipeline
    if threads:
        import torch

        torch.set_num_threads(threads)
    if pipeline is None and _pipeline is None:
        from msa_demo.pipeline import FeaturePipeline

        pipeline = FeaturePipeline(**({"whisper_model": whisper_model} if whisper_model else {}))
        pipeline.warm_up(asr=False)  # Whisper loads only if some clip has no transcript
    if pipeline is not None:
        _pipeline = pipeline


def extract_shard(path: str, items: list[CorpusItem], job: dict) -> int:
    """Extract `items` and write them as the shard at `path`; returns how many items failed."""
    rows, features, failed = extract_items(items, job)
    write_shard(Path(path), rows, features, job["dims"], job["spec_id"], job["corpus"])
    return failed


def extract_items(items: list[CorpusItem], job: dict) -> tuple[list[dict], list[dict], int]:
    """(index rows, features, failed count) for one shard's items, in this process's pipeline; the
    caller writes the shard (here, or the driver of a Ray cluster: training/ray_extract.py)."""
    rows, features, failed = [], [], 0
    batched = _encode_text_batch(items, job["text_batch"])
    for i, item in enumerate(items):
        if i in batched:
            feats, row = {"text": batched[i]}, base_row(item, "", "given" if item.text else "none")
        else:
            feats, row, ok = extract_item(item, job["media_root"])
            failed += not ok
        rows.append(row)
        features.append(feats)
    return rows, features, failed


def extract_item(item: CorpusItem, media_root: str) -> tuple[dict[str, ModalityFeatures], dict, bool]:
    """(features by modality, index row, succeeded) for one item, through the live pipeline."""
    transcript = item.text or None
    source = _relative(item.media, media_root)
    try:
        if item.augment or item.scramble:
            bundle = _pipeline.extract(None, transcript=transcript, audio_samples=_augmented_voice(item))
        elif item.media is None:
            bundle = _pipeline.extract(None, transcript=transcript)
        elif ZIP_MEMBER in item.media:
            bundle = _pipeline.extract(None, transcript=transcript, image_bytes=read_zip_media(item.media))
        else:
            bundle = _pipeline.extract(item.media, transcript=transcript)
    except MediaError as exc:
        row = base_row(item, source, "none")
        row["notices"] = f"unusable media: {exc}"
        return {}, row, False
    spoken = bundle.transcript
    row = base_row(item, source, {"user": "given"}.get(spoken.source, spoken.source))
    row.update(text=spoken.text, face_fraction=round(bundle.face_fraction, 4),
               voiced_fraction=round(bundle.voiced_fraction, 4), duration=round(bundle.duration, 3),
               notices=" | ".join(bundle.notices))
    return {"text": bundle.text, "audio": _raw_voice(bundle), "visual": bundle.visual}, row, True


def _raw_voice(bundle) -> ModalityFeatures:
    """The voice as the cache keeps it: raw, before the speaker's median is taken off (a reader
    chooses whose: msa_demo/corpora/cache.py)."""
    voice, audio = bundle.voice, bundle.audio
    if voice is None or not audio.present:
        return audio
    return ModalityFeatures(voice.raw, audio.mask, audio.times, audio.present)


def _augmented_voice(item: CorpusItem):
    """The item's audio as a seeded variant (the seed is derived from the item id, so a rerun or
    another machine makes the same variant): shuffled first when `scramble`, then through the
    room-and-microphone chain when `augment` (a shuffled test item, augment 0, is only shuffled)."""
    import hashlib

    from msa_demo.media import load_media

    from .voice_augment import augment, scramble_content

    audio = load_media(item.media, audio_only=True).audio
    seed = int.from_bytes(hashlib.blake2b(item.id.encode(), digest_size=8).digest(), "little")
    if item.scramble:
        audio = scramble_content(audio, seed)
    return augment(audio, seed) if item.augment else audio


def base_row(item: CorpusItem, source: str, text_source: str) -> dict:
    """The index row fields every item has, before extraction adds what it measured."""
    return dict(id=item.id, split=item.split, group=item.group, label=item.label,
                label_class=item.label_class, label_detail=item.label_detail, text=item.text or "",
                text_source=text_source, source=source,
                face_fraction=0.0, voiced_fraction=0.0, duration=0.0, notices="")


def _encode_text_batch(items: list[CorpusItem], batch: int) -> dict[int, ModalityFeatures]:
    """{position: text features} for the text-only items, encoded `batch` at a time.

    Empty when batch <= 1: those items then go one by one through `extract`, as typed text does live.
    """
    featurizer = _pipeline.text_featurizer() if batch > 1 else None
    positions = [i for i, item in enumerate(items) if item.media is None]
    if featurizer is None or not positions:
        return {}
    encoded = featurizer.encode_batch([items[i].text or "" for i in positions], batch_size=batch)
    return dict(zip(positions, encoded))


def _relative(media: str | None, root: str) -> str:
    if media is None:
        return ""
    try:
        return os.path.relpath(media, root)
    except ValueError:  # another drive (Windows): keep it absolute
        return media
