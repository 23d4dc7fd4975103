"""Stage statistics derived by aggregating what a stage wrote (exact under task retries)."""
from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.io import write_text


def outcome_stats(spark: SparkSession, kept_path: str, rejected_path: str) -> dict:
    """Records in, kept, rejected by reason, and the kept documents' languages and characters:
    one aggregation per output (each a Spark job with its own fixed cost)."""
    kept = (spark.read.parquet(kept_path).groupBy("lang")
            .agg(F.count(F.lit(1)).alias("docs"), F.coalesce(F.sum(F.length("text")), F.lit(0)).alias("chars"))
            .collect())   # one row per language: small
    by_reason = _counts(spark.read.parquet(rejected_path), "drop_reason")
    by_lang = dict(sorted(((row["lang"] or "null"), row["docs"]) for row in kept))
    return {
        "records_in": sum(by_lang.values()) + sum(by_reason.values()),
        "kept": sum(by_lang.values()),
        "rejected": sum(by_reason.values()),
        "rejected_by_reason": by_reason,
        "kept_chars": sum(row["chars"] for row in kept),
        "kept_by_lang": by_lang,
    }


def write_stats(path: str, stats: dict) -> None:
    write_text(path, json.dumps(stats, indent=2, sort_keys=True) + "\n")


def _counts(frame: DataFrame, column: str) -> dict[str, int]:
    rows = frame.groupBy(column).count().collect()  # one row per distinct value: small
    return dict(sorted(((r[column] or "null"), r["count"]) for r in rows))
