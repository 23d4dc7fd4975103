"""The extract stage's driver side: list the input files, plan the tasks, extract, commit.

Reads WARC/WET/ARC, JSONL and Parquet files (the config's `input`). Writes <output>/extract/
(kept documents) and <output>/rejected/extract/ (every other record, with drop_reason). The
per-file work is pipeline/extract/stage.py; the command is jobs/extract.py.
"""
from __future__ import annotations

from pyspark.sql import SparkSession

from pipeline.config import RunConfig
from pipeline.extract.stage import extract_batches
from pipeline.schema import EXTRACT_SCHEMA
from pipeline.spark import expand_inputs, input_sizes, map_batches, paths_frame
from pipeline.stage_spark import commit_outcome

STAGE = "extract"


def run_extract(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    paths = expand_inputs(spark, inputs)
    print(f"[extract] {len(paths)} input file(s), extractor={config.extract.extractor}", flush=True)
    files = paths_frame(spark, paths, input_sizes(spark, paths))
    rows = map_batches(files, extract_batches, EXTRACT_SCHEMA, config=config)
    return {"input_files": len(paths),
            **commit_outcome(spark, config, STAGE, rows, kept_drops=("drop_reason", "drop_detail"))}
