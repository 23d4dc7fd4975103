"""Filter: heuristic quality, NSFW and PII filters over extracted documents; scores first, then decisions.

    spark-submit jobs/filter.py --conf conf/default.yaml --output out/run1
    python -m jobs.filter --input out/run1/extract --output out/run1 --set filter.select_only=true

Reads the previous stage's output (<output>/extract) or --input Parquet documents. Writes
<output>/filter_scores/ (every document with its score columns, persisted before any decision),
<output>/filter/ (kept), <output>/rejected/filter/ (drop_reason = <filter>_<rule>) and
<output>/stats/filter.json. With filter.select_only=true it reuses filter_scores and applies the
current thresholds only. The stage's code is filters/ (stage_spark.py, stage.py, one file per filter).
"""
from __future__ import annotations

import sys

from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("filter", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
