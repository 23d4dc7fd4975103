"""Corpus statistics for the report: Spark aggregations over a run's outputs.

Only aggregates come back to the driver (one row per language, source, bin or top-N domain); no
document is collected. Inputs are the Parquet outputs of a run (<run>/<stage>/) and the small JSON
files beside them (<run>/stats/*.json, <run>/shards/*/manifest.json). The mix job's token counts, with
the chars per token and manifest readers the report shares, are pipeline/mix/counts.py.
"""
from __future__ import annotations

import math
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline import outputs, stages, storage
from pipeline.io import join
# chars_per_token and manifests: also read by build.py (S.chars_per_token, S.manifests)
from pipeline.mix.counts import DEFAULT_CHARS_PER_TOKEN, chars_per_token, manifests, read_json  # noqa: F401

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def stage_stats(run: str) -> dict[str, dict]:
    """<run>/stats/<stage>.json for every stage that wrote one, in pipeline order."""
    order = list(stages.NAMES)
    found = {}
    directory = outputs.stats_dir(run)
    names = sorted(path.rsplit("/", 1)[-1] for path, _ in storage.list_files(directory))
    for name in sorted((n[:-5] for n in names if n.endswith(".json")),
                       key=lambda s: (order.index(s) if s in order else len(order), s)):
        data = read_json(join(directory, f"{name}.json"))
        if isinstance(data, dict):
            found[name] = data
    return found


def final_documents_path(run: str) -> str | None:
    """The last document stage with a complete output (_SUCCESS)."""
    return outputs.final_documents_path(run, stages.DOCUMENT_STAGES)


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
