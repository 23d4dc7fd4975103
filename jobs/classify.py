"""Classify: score documents with trained quality and domain classifiers, then apply thresholds.

    spark-submit jobs/classify.py --conf conf/x.yaml --output out/run1 \
        --set 'classify.models={quality: models/quality}' \
        --set 'classify.thresholds={quality: {default: {keep_top_percent: 30}, de: {min_score: 0.4}}}'

Reads the previous stage's output (<output>/filter) or --input Parquet documents. Every model in
classify.models scores every document: `<name>__score` for a binary model, `<name>__<label>` per
label and `<name>__label` for a multi-class one. Thresholds (binary models) keep documents by
absolute score (min_score) or keep the top X% per language (keep_top_percent). Writes
<output>/classify/ (kept, with scores), <output>/rejected/classify/ (drop_reason <name>_min_score)
and <output>/stats/classify.json. In a whole run (jobs/run.py) the models score the filter's kept
documents as the filter decides (classify.score_ahead), and this stage only decides. The stage's code is classifiers/ (stage_spark.py, scoring.py).
"""
from __future__ import annotations

import sys

from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("classify", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
