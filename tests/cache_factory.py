"""A small feature cache the tests build themselves, so that the error-analysis flow (run a model over
a split, sort by error, open a sample in the Live panels) is tested everywhere, not only where a
git-ignored cache from ../shared happens to exist.

One corpus folder, "mosi", with a test split of sentences written here (labels on MOSI's -3..3
scale), text features from the real text encoder, in the cache format the app reads.
"""

from __future__ import annotations

from pathlib import Path

SENTENCES = [
    ("i loved it, it was wonderful", 2.6), ("what a great film, the acting was brilliant", 2.2),
    ("this is the best thing i have seen all year", 3.0), ("i liked it a lot, it made me smile", 1.8),
    ("it was fine i guess", 0.2), ("the ending was neither good nor bad", 0.0),
    ("i hated it, it was awful", -2.8), ("what a terrible film, the acting was horrible", -2.4),
    ("a painful movie, a complete waste of time", -3.0), ("disappointing, i was so angry with it", -1.6),
    ("it was okay but far too long", -0.6), ("nothing special, a little boring", -1.0),
]


def build_text_cache(root: Path, corpus: str = "mosi") -> Path:
    """`root/corpus` holding SENTENCES as its test split; returns `root` (the app's cache root)."""
    from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
    from msa_demo.features.spec import FEATURE_DIMS, FEATURE_SPEC_ID
    from msa_demo.features.text import TextFeaturizer

    folder = Path(root) / corpus
    folder.mkdir(parents=True, exist_ok=True)
    encoded = TextFeaturizer().encode_batch([text for text, _ in SENTENCES])
    rows, features = [], []
    for i, ((text, label), text_features) in enumerate(zip(SENTENCES, encoded)):
        rows.append({"id": f"s{i:02d}", "split": "test", "group": f"g{i // 4}", "label": label, "label_class": "",
                     "label_detail": "", "text": text, "text_source": "given", "source": "", "face_fraction": 0.0,
                     "voiced_fraction": 0.0, "duration": 0.0, "notices": ""})
        features.append({"text": text_features})
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, FEATURE_SPEC_ID, corpus)
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": FEATURE_SPEC_ID, "corpus": corpus,
                               "complete": True, "splits": {"train": 0, "valid": 0, "test": len(rows)},
                               "media_root": ""})
    return Path(root)
