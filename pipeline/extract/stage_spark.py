"""The extract stage's driver side: list the input files, plan the tasks, extract, commit.

Reads WARC/WET/ARC, JSONL and Parquet files (the config's `input`). Writes <output>/extract/
(kept documents) and <output>/rejected/extract/ (every other record, with drop_reason). The
per-file work is pipeline/extract/stage.py; the command is jobs/extract.py.

With extract.early_drops, later stages of the run that can decide without the text (the filter's
domain blocklists: pipeline/stages.py `drops_early`) hand their check to the extract tasks as a
broadcast, and a record it flags is rejected with that stage's reason before its HTML is parsed.

A file that cannot be read fails its task (Spark retries it up to spark.task.maxFailures times),
then the job, with the file named: unreadable is never counted as rejected. `io_retries` in the
stats counts the transient storage errors the executors retried (pipeline/storage.py).
"""
from __future__ import annotations

from pyspark.sql import SparkSession

from pipeline import stages
from pipeline.config import RunConfig
from pipeline.extract.stage import extract_batches
from pipeline.io import InputError
from pipeline.schema import EXTRACT_SCHEMA
from pipeline.spark import expand_inputs, map_batches, paths_frame
from pipeline.stage_spark import commit_outcome

STAGE = "extract"


def run_extract(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    listed = expand_inputs(spark, inputs)
    paths, sizes = [path for path, _ in listed], [size for _, size in listed]
    print(f"[extract] {len(paths)} input file(s), {sum(sizes) / 1e9:.2f} GB, "
          f"extractor={config.extract.extractor}", flush=True)
    files = paths_frame(spark, paths, sizes)
    # Retries of successful tasks only (Spark drops a failed task's updates); at least, not exact,
    # should a persisted partition be recomputed.
    retries = spark.sparkContext.accumulator(0)
    early = _early_drops(spark, config)
    try:
        rows = map_batches(files, extract_batches, EXTRACT_SCHEMA, config=config, retries=retries, early=early)
        outcome = commit_outcome(spark, config, STAGE, rows, kept_drops=("drop_reason", "drop_detail"))
    finally:
        for broadcast in early:
            broadcast.unpersist()
    if outcome["records_in"] == 0:
        # Files that hold no record at all are not a corpus: fail rather than report an empty success.
        raise InputError(f"extract: the {len(paths)} input file(s) gave no records at all "
                         f"(first: {paths[0]}); are they empty?")
    return {"input_files": len(paths), "input_bytes": sum(sizes), "io_retries": retries.value, **outcome}


def _early_drops(spark: SparkSession, config: RunConfig) -> list:
    """Broadcasts of the later stages' early-drop checks (extract.early_drops), one per stage that has one."""
    found = []
    for later in stages.dropping_early(config, STAGE):
        check = later.early_drop(spark, config)
        if check is not None:
            print(f"[extract] dropping before extraction what {later.name} would drop: {check.reason} "
                  f"({len(check)} listed)", flush=True)
            found.append(spark.sparkContext.broadcast(check))
    return found
