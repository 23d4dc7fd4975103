"""What every stage's driver does around its own rule, written once.

`execute` runs one stage from the table (pipeline/stages.py) on its inputs (by default the output
of the stage before it) and writes its stats file last (that file, with its run key, marks the stage complete: pipeline/resume.py).
`commit_outcome` is the epilogue of a document stage: every input row once, with a null
drop_reason when kept, split into <out>/<stage>/ and <out>/rejected/<stage>/, and the counts
aggregated from what was written (exact under task retries, unlike accumulators).
`read_documents` reads a stage's input documents.
"""
from __future__ import annotations

import json
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import outputs, stages, storage
from pipeline.config import RunConfig
from pipeline.io import InputError, write_text
from pipeline.progress_spark import progress
from pipeline.spark import path_matches, persist_on_disk, write_parquet


def execute(spark: SparkSession, config: RunConfig, name: str, inputs: list[str] | None = None,
            run_key: str | None = None) -> dict:
    """Run stage `name` on `inputs` (None: its default, pipeline.stages.default_inputs); its stats."""
    stage = stages.get(name)
    started = time.time()
    if inputs is None:
        inputs = stages.default_inputs(config, name)
    if stage.resumable:
        # The stats file marks the stage complete: gone while it runs, so an interrupted rerun is never
        # taken for complete (on object stores a commit is a copy, not an atomic rename).
        storage.delete(outputs.stats_file(config.output, name), storage.storage_options(config.spark.conf))
    with progress(spark, name):       # one line: tasks done/total, elapsed, ETA (pipeline/progress_spark.py)
        stats = {"stage": name, **stage.load()(spark, config, inputs)}
    stats["seconds"] = round(time.time() - started, 2)
    if run_key is not None:
        stats["run_key"] = run_key
    if stage.resumable:
        write_text(outputs.stats_file(config.output, name), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def commit_outcome(spark: SparkSession, config: RunConfig, stage: str, decided: DataFrame, *,
                   kept_drops: tuple[str, ...] = ("drop_reason",), persist: bool = True) -> dict:
    """Write the kept and the rejected rows of `decided`; the outcome counts and the two paths.

    `kept_drops` are the decision columns the kept output does without; `persist` computes
    `decided` once for the two writes (off where the caller already holds what it reads)."""
    kept_path, rejected_path = outputs.kept(config.output, stage), outputs.rejected(config.output, stage)
    if persist:
        decided = persist_on_disk(decided)
    try:
        write_parquet(decided.where(F.col("drop_reason").isNull()).drop(*kept_drops), kept_path)
        write_parquet(decided.where(F.col("drop_reason").isNotNull()), rejected_path)
    finally:
        if persist:
            decided.unpersist()
    return {**outcome_stats(spark, kept_path, rejected_path), "outputs": {"kept": kept_path, "rejected": rejected_path}}


def outcome_stats(spark: SparkSession, kept_path: str, rejected_path: str) -> dict:
    """Records in, kept, rejected by reason, and the kept documents' languages and characters: both
    outputs aggregated in one action (a union of the two small aggregations) on the columns it reads,
    named (no schema inference): every Spark job has its fixed cost, a good part of a small stage."""
    # The columns read, named: Spark infers a Parquet schema with a job of its own (a footer read).
    kept = (spark.read.schema("lang string, text string").parquet(kept_path).groupBy(F.col("lang").alias("key"))
            .agg(F.count(F.lit(1)).alias("docs"), F.coalesce(F.sum(F.length("text")), F.lit(0)).alias("chars"))
            .select(F.lit(True).alias("kept"), "key", "docs", "chars"))
    rejected = (spark.read.schema("drop_reason string").parquet(rejected_path).groupBy(F.col("drop_reason").alias("key"))
                .agg(F.count(F.lit(1)).alias("docs"))
                .select(F.lit(False).alias("kept"), "key", "docs", F.lit(0).cast("long").alias("chars")))
    rows = kept.unionByName(rejected).collect()   # one row per language and per reason: small
    by_lang = dict(sorted(((row["key"] or "null"), row["docs"]) for row in rows if row["kept"]))
    by_reason = dict(sorted(((row["key"] or "null"), row["docs"]) for row in rows if not row["kept"]))
    return {
        "records_in": sum(by_lang.values()) + sum(by_reason.values()),
        "kept": sum(by_lang.values()),
        "rejected": sum(by_reason.values()),
        "rejected_by_reason": by_reason,
        "kept_chars": sum(row["chars"] for row in rows if row["kept"]),
        "kept_by_lang": by_lang,
    }


def read_documents(spark: SparkSession, inputs: list[str]) -> DataFrame:
    """The Parquet documents a stage reads; a missing input is one line naming it, not a Java trace.
    (Outputs are committed whole, by rename: one that exists is complete.)"""
    for path in inputs:
        if not path_matches(spark, path):
            raise InputError(f"input not found: {path} (run the stage that writes it first, or give --input)")
    return spark.read.parquet(*inputs)
