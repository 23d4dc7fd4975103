"""Corpus statistics for the report and the mix job: Spark aggregations over a run's outputs.

Only aggregates come back to the driver (one row per language, source, bin or top-N domain); no
document is collected. Inputs are the Parquet outputs of a run (<run>/<stage>/) and the small JSON
files beside them (<run>/stats/*.json, <run>/shards/*/manifest.json).
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.mix.weights import Bucket

DOC_STAGES = ("extract", "filter", "dedup", "classify")   # stages whose output is documents, in order
DEFAULT_CHARS_PER_TOKEN = 4.0
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def stage_stats(run: str) -> dict[str, dict]:
    """<run>/stats/<stage>.json for every stage that wrote one, in pipeline order."""
    order = list(DOC_STAGES) + ["tokenize"]
    found = {}
    directory = os.path.join(run, "stats")
    names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    for name in sorted((n[:-5] for n in names if n.endswith(".json")),
                       key=lambda s: (order.index(s) if s in order else len(order), s)):
        data = read_json(os.path.join(directory, f"{name}.json"))
        if isinstance(data, dict):
            found[name] = data
    return found


def final_documents_path(run: str) -> str | None:
    """The last document stage with a complete output (_SUCCESS)."""
    for stage in reversed(DOC_STAGES):
        path = os.path.join(run, stage)
        if os.path.exists(os.path.join(path, "_SUCCESS")):
            return path
    return None


def manifests(run: str) -> dict[str, dict]:
    out = {}
    for split in ("train", "valid"):
        data = read_json(os.path.join(run, "shards", split, "manifest.json"))
        if isinstance(data, dict):
            out[split] = data
    return out


def chars_per_token(run: str) -> dict[str, float]:
    tok = read_json(os.path.join(run, "stats", "tokenize.json")) or {}
    return {k: float(v) for k, v in (tok.get("chars_per_token_by_lang") or {}).items() if v}


# --- counts for the mix job -------------------------------------------------------------------------

def document_token_counts(spark: SparkSession, run: str) -> tuple[list[Bucket], list[str]]:
    """Tokens per (lang, source, domain__label) estimated from characters; returns buckets and notes."""
    path = final_documents_path(run)
    if path is None:
        from pipeline.mix.weights import MixError
        raise MixError(f"{run}: no complete document output ({', '.join(DOC_STAGES)} with _SUCCESS); "
                       "run the pipeline first or give --counts")
    docs = spark.read.parquet(path)
    keys = ["lang", "source"] + (["domain__label"] if "domain__label" in docs.columns else [])
    rows = docs.groupBy(*keys).agg(F.sum(F.length("text")).alias("chars")).collect()  # one row per bucket
    cpt = chars_per_token(run)
    notes = []
    missing = sorted({r["lang"] or "null" for r in rows} - set(cpt))
    if missing:
        notes.append(f"no measured chars/token for {missing} (no tokenize stats): assumed {DEFAULT_CHARS_PER_TOKEN}")
    buckets = []
    for r in rows:
        lang = r["lang"] or "und"
        tokens = int(round((r["chars"] or 0) / cpt.get(lang, DEFAULT_CHARS_PER_TOKEN)))
        buckets.append(Bucket(lang, r["source"] or "unknown", r["domain__label"] if "domain__label" in keys else None,
                              tokens))
    notes.append(f"token counts estimated from characters of {path}")
    return sorted(buckets, key=lambda b: (b.lang, b.source, b.domain or "")), notes


def manifest_counts(run: str) -> list[Bucket]:
    """Exact tokens per (lang, source) from the shard manifests, divided by the weight they were made
    with (train) to recover the unique tokens; valid holds at most one copy."""
    found = manifests(run)
    if not found:
        from pipeline.mix.weights import MixError
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


# --- aggregations for the report --------------------------------------------------------------------

def histogram(frame: DataFrame, column, bins: int = 20, log10: bool = False) -> dict[str, Any]:
    """Equal-width bins over [min, max] of a numeric column (or of log10(1 + x)); null skipped.
    Two Spark jobs: the range, then the counts per bin."""
    value = F.col(column) if isinstance(column, str) else column
    if log10:
        value = F.log10(value + F.lit(1.0))
    values = frame.select(value.cast("double").alias("v")).where(F.col("v").isNotNull() & ~F.isnan("v"))
    lo, hi, n = values.agg(F.min("v"), F.max("v"), F.count(F.lit(1))).first()
    if not n:
        return {"edges": [], "counts": [], "log10": log10, "count": 0}
    width = (hi - lo) / bins if hi > lo else 1.0
    index = F.least(F.floor((F.col("v") - F.lit(lo)) / F.lit(width)), F.lit(bins - 1)).cast("int")
    per_bin = {r["b"]: r["count"] for r in values.groupBy(index.alias("b")).count().collect()}  # <= bins rows
    edges = [lo + i * width for i in range(bins + 1)]
    if log10:
        edges = [10 ** e - 1 for e in edges]
    return {"edges": [round(e, 6) for e in edges], "counts": [per_bin.get(i, 0) for i in range(bins)],
            "log10": log10, "count": n}


def language_table(docs: DataFrame, cpt: dict[str, float]) -> list[dict]:
    has_score = "lang_score" in docs.columns
    aggs = [F.count(F.lit(1)).alias("documents"), F.coalesce(F.sum(F.length("text")), F.lit(0)).alias("chars")]
    if has_score:
        aggs += [F.avg("lang_score").alias("mean"),
                 F.percentile_approx("lang_score", list(QUANTILES), 10000).alias("q")]
    rows = docs.groupBy("lang").agg(*aggs).collect()  # one row per language
    total_docs = sum(r["documents"] for r in rows) or 1
    tokens = {(r["lang"] or "null"): r["chars"] / cpt.get(r["lang"] or "null", DEFAULT_CHARS_PER_TOKEN) for r in rows}
    total_tokens = sum(tokens.values()) or 1
    out = []
    for r in sorted(rows, key=lambda r: (-r["documents"], r["lang"] or "")):
        lang = r["lang"] or "null"
        entry = {"lang": lang, "documents": r["documents"], "chars": r["chars"],
                 "tokens_est": int(round(tokens[lang])), "doc_share": round(r["documents"] / total_docs, 6),
                 "token_share": round(tokens[lang] / total_tokens, 6),
                 "chars_per_token": cpt.get(lang)}
        if has_score:
            entry["lang_score"] = {"mean": _r(r["mean"]),
                                   **{f"q{int(q * 100):02d}": _r(v) for q, v in zip(QUANTILES, r["q"] or [])}}
        out.append(entry)
    return out


def group_table(docs: DataFrame, column: str, top: int | None = None) -> list[dict]:
    """Documents and characters per value of a column, largest first (top N only when given)."""
    grouped = (docs.groupBy(column).agg(F.count(F.lit(1)).alias("documents"),
                                        F.coalesce(F.sum(F.length("text")), F.lit(0)).alias("chars"))
               .orderBy(F.desc("documents"), F.asc(column)))
    rows = (grouped.limit(top) if top else grouped).collect()
    return [{column: r[column] if r[column] is not None else "null", "documents": r["documents"],
             "chars": r["chars"]} for r in rows]


def score_columns(docs: DataFrame) -> list[str]:
    numeric = {"double", "float", "int", "bigint", "smallint"}
    return sorted(c for c, t in docs.dtypes if c.endswith("__score") and t in numeric)


def _r(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6)
