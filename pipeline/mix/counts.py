"""Token counts per bucket for the mix job (jobs/mix.py --run), read from a run's outputs.

manifest_counts: exact (lang, source) totals of <run>/shards/{train,valid}/manifest.json, and the
chars-per-token and manifest readers the report shares. The estimate from a run's documents (a Spark
aggregation) is counts_spark.py.
"""
from __future__ import annotations

import json
from pipeline import storage
from pipeline.io import join
from pipeline.mix.weights import Bucket, MixError

DEFAULT_CHARS_PER_TOKEN = 4.0


def read_json(path: str) -> dict | None:
    """A small JSON file of a run, local or on an object store; None when missing or not JSON."""
    try:
        return json.loads(storage.read_bytes(path))
    except (FileNotFoundError, ValueError):
        return None


def manifests(run: str) -> dict[str, dict]:
    out = {}
    for split in ("train", "valid"):
        data = read_json(join(run, "shards", split, "manifest.json"))
        if isinstance(data, dict):
            out[split] = data
    return out


def chars_per_token(run: str) -> dict[str, float]:
    tok = read_json(join(run, "stats", "tokenize.json")) or {}
    return {k: float(v) for k, v in (tok.get("chars_per_token_by_lang") or {}).items() if v}


def manifest_counts(run: str) -> list[Bucket]:
    """Exact tokens per (lang, source) from the shard manifests, divided by the weight they were made
    with (train) to recover the unique tokens; valid holds at most one copy."""
    found = manifests(run)
    if not found:
        raise MixError(f"{run}: no shards/train or shards/valid manifest.json; run the tokenize stage first")
    totals: dict[str, float] = {}
    for split, m in found.items():
        applied = (m.get("mix") or {}).get("applied") or {}
        for key, entry in (m.get("totals") or {}).items():
            weight = float(applied.get(key, 1.0)) if split == "train" else 1.0
            unique = entry["tokens"] * entry.get("unique_documents", 1) / max(entry.get("documents", 1), 1) \
                if weight >= 1 else entry["tokens"] / weight if weight > 0 else 0
            totals[key] = totals.get(key, 0.0) + unique
    out = []
    for key, tokens in sorted(totals.items()):
        lang, _, source = key.partition("/")
        out.append(Bucket(lang, source, None, int(round(tokens))))
    return out
