"""Extract: WARC/WET/ARC, JSONL and Parquet inputs -> documents with text, URL, domain and language.

    spark-submit jobs/extract.py --conf conf/default.yaml --input 'data/*.warc.gz' --output out/run1
    python -m jobs.extract --input samples/sample.warc.gz --output out/demo

Writes <output>/extract/ (kept documents), <output>/rejected/extract/ (every other record, with
drop_reason), <output>/stats/extract.json and <output>/config.yaml. The stage's code is
pipeline/extract/ (stage_spark.py on the driver, stage.py on the executors).
"""
from __future__ import annotations

import sys

from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("extract", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
