"""Extract: WARC/WET/ARC, JSONL and Parquet inputs -> documents with text, URL, domain and language.

    spark-submit jobs/extract.py --conf conf/default.yaml --input 'data/*.warc.gz' --output out/run1
    python -m jobs.extract --input samples/sample.warc.gz --output out/demo

Writes <output>/extract/ (kept documents), <output>/rejected/extract/ (every other record, with
drop_reason), <output>/stats/extract.json and <output>/config.yaml.
"""
from __future__ import annotations

import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.stage_job import stage_main
from jobs.stage_stats import outcome_stats, write_stats
from pipeline.config import RunConfig
from pipeline.extract.stage import extract_batches
from pipeline.io import check_local_inputs, join
from pipeline.schema import EXTRACT_SCHEMA
from pipeline.spark import (expand_inputs, input_sizes, map_batches, paths_frame,
                            persist_on_disk, write_parquet)

STAGE = "extract"


def run_extract(spark: SparkSession, config: RunConfig) -> dict:
    started = time.time()
    paths = expand_inputs(spark, config.input)
    print(f"[extract] {len(paths)} input file(s), extractor={config.extract.extractor}", flush=True)
    files = paths_frame(spark, paths, input_sizes(spark, paths))
    rows = persist_on_disk(map_batches(files, extract_batches, EXTRACT_SCHEMA, config=config))
    kept_path = join(config.output, STAGE)
    rejected_path = join(config.output, "rejected", STAGE)
    try:
        write_parquet(rows.where(F.col("drop_reason").isNull()).drop("drop_reason", "drop_detail"), kept_path)
        write_parquet(rows.where(F.col("drop_reason").isNotNull()), rejected_path)
    finally:
        rows.unpersist()
    stats = {"stage": STAGE, "input_files": len(paths), **outcome_stats(spark, kept_path, rejected_path),
             "seconds": round(time.time() - started, 2), "outputs": {"kept": kept_path, "rejected": rejected_path}}
    # Not inside extract/: Spark and pyarrow would try to read a stats.json there as Parquet.
    write_stats(join(config.output, "stats", f"{STAGE}.json"), stats)
    return stats


def main(argv: list[str] | None = None) -> int:
    # --input is the config's `input` here (raw files, not a previous stage's output).
    return stage_main(STAGE, __doc__, lambda spark, config, _inputs: run_extract(spark, config), argv,
                      check=lambda config: check_local_inputs(config.input), unit="records")


if __name__ == "__main__":
    sys.exit(main())
