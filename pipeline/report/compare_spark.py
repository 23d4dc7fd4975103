"""Two runs side by side, in Spark: every document's fate in each run (kept, or the stage and reason
that dropped it), how many moved from one fate to another, and a seeded sample of those that moved.

A document is matched across runs by its id (a hash of source, URL and record id: stable when both
runs read the same input). Its fate in a run is the earliest stage that rejected it
(`<run>/rejected/<stage>/`), else "kept" when it is in the run's last document output. Only
aggregates (one row per pair of fates) and the sampled rows reach the driver.
"""
from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from pipeline import outputs, stages
from pipeline.report.samples_spark import read
from pipeline.report.thresholds_spark import seeded_order

KEPT = "kept"
PER_CHANGE = 10


def fates(spark: SparkSession, run: str) -> DataFrame | None:
    """id, url, lang, stage, reason: one row per document of the run."""
    parts = []
    names = list(stages.NAMES)
    for rank, stage in enumerate(names):
        frame = read(spark, outputs.rejected(run, stage))
        if frame is not None and {"id", "drop_reason"} <= set(frame.columns):
            parts.append(_narrow(frame, rank, F.lit(stage), F.col("drop_reason")))
    final = outputs.final_documents_path(run, stages.DOCUMENT_STAGES)
    if final:
        parts.append(_narrow(spark.read.parquet(final), len(names), F.lit(KEPT), F.lit(None).cast("string")))
    if not parts:
        return None
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    first = F.min(F.struct("_rank", "stage", "reason", "url", "lang"))
    return union.groupBy("id").agg(first.alias("f")).select("id", "f.stage", "f.reason", "f.url", "f.lang")


def _narrow(frame: DataFrame, rank: int, stage, reason) -> DataFrame:
    has = set(frame.columns)
    return frame.select("id", F.lit(rank).alias("_rank"), stage.alias("stage"), reason.alias("reason"),
                        (F.col("url") if "url" in has else F.lit(None).cast("string")).alias("url"),
                        (F.col("lang") if "lang" in has else F.lit(None).cast("string")).alias("lang"))


def fate_changes(spark: SparkSession, run_a: str, run_b: str, seed: int = 0, per_change: int = PER_CHANGE
                 ) -> dict[str, Any]:
    """{"transitions": [{a, b, documents}], "samples": [{id, url, lang, a: {stage, reason}, b: {...}}],
    "only_in_a", "only_in_b", "same"}: fates compared per document."""
    fa, fb = fates(spark, run_a), fates(spark, run_b)
    if fa is None or fb is None:
        return {"transitions": [], "samples": [], "available": False}
    a = fa.select("id", F.col("stage").alias("a_stage"), F.col("reason").alias("a_reason"),
                  F.col("url").alias("a_url"), F.col("lang").alias("a_lang"))
    b = fb.select("id", F.col("stage").alias("b_stage"), F.col("reason").alias("b_reason"),
                  F.col("url").alias("b_url"), F.col("lang").alias("b_lang"))
    joined = a.join(b, "id", "full_outer")
    fate_a = _label(F.col("a_stage"), F.col("a_reason"))
    fate_b = _label(F.col("b_stage"), F.col("b_reason"))
    moved = joined.select("id", F.coalesce("b_url", "a_url").alias("url"), F.coalesce("b_lang", "a_lang").alias("lang"),
                          "a_stage", "a_reason", "b_stage", "b_reason", fate_a.alias("fa"), fate_b.alias("fb"))
    counts = moved.groupBy("fa", "fb").count().collect()   # one row per pair of fates
    transitions = sorted(({"a": r["fa"], "b": r["fb"], "documents": r["count"]} for r in counts),
                         key=lambda t: (t["a"] == t["b"], -t["documents"], t["a"], t["b"]))
    pick = Window.partitionBy("fa", "fb").orderBy(seeded_order(seed, "id"), "id")
    rows = (moved.where(F.col("fa") != F.col("fb")).withColumn("_r", F.row_number().over(pick))
                 .where(F.col("_r") <= per_change).collect())
    samples = [{"id": r["id"], "url": r["url"], "lang": r["lang"],
                "a": {"stage": r["a_stage"], "reason": r["a_reason"], "fate": r["fa"]},
                "b": {"stage": r["b_stage"], "reason": r["b_reason"], "fate": r["fb"]}}
               for r in sorted(rows, key=lambda r: (r["fa"], r["fb"], r["_r"]))]
    changed = sum(t["documents"] for t in transitions if t["a"] != t["b"])
    return {"available": True, "transitions": transitions, "samples": samples, "changed": changed,
            "documents": sum(t["documents"] for t in transitions), "seed": seed}


def _label(stage, reason):
    """"kept", "<stage>: <reason>", or "absent" (not in that run)."""
    return (F.when(stage.isNull(), F.lit("absent"))
             .when(stage == KEPT, F.lit(KEPT))
             .otherwise(F.concat(stage, F.lit(": "), F.coalesce(reason, F.lit("?")))))
