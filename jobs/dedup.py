"""Dedup: URL, exact, MinHash-LSH near-duplicate, line-level and semantic deduplication.

    spark-submit jobs/dedup.py --conf conf/default.yaml --output out/run1
    python -m jobs.dedup --input out/run1/filter --output out/run1 --set dedup.steps=[url,exact,minhash]

Reads the previous stage's output (<output>/filter) or --input Parquet documents. Steps run in
the order url -> exact -> minhash -> lines -> semantic (dedup.steps picks a subset). Inside a
duplicate group the keep policy chooses: highest quality score when there is one, else most
recent, else smallest id. Writes <output>/dedup/ (kept), <output>/rejected/dedup/ (drop_reason
and duplicate_of, the id of the kept document) and <output>/stats/dedup.json. The stage's code
is dedup/ (stage_spark.py and one module per step).
"""
from __future__ import annotations

import sys

import jobs  # noqa: F401  first: under `spark-submit jobs/dedup.py` it stops this file shadowing `dedup`
from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("dedup", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
