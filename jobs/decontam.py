"""Decontam: remove documents (or the spans of them) that contain evaluation-benchmark text.

    spark-submit jobs/decontam.py --conf conf/x.yaml --output out/run1 --set decontam.eval_sets=evals/
    python -m jobs.decontam --input out/run1/classify --output out/run1 \\
        --set decontam.eval_sets=evals/ --set decontam.action=cut

Reads the previous stage's output (<output>/classify) or --input Parquet documents. The evaluation
sets are a folder of JSONL, Parquet or .txt files, one benchmark per file or subfolder. Writes
<output>/decontam/ (kept, with decontam__matches and decontam__cut_chars), <output>/rejected/decontam/
(drop_reason decontam_<benchmark>) and <output>/stats/decontam.json (per benchmark: documents and
n-grams matched, the contamination rate, sample matches). The stage's code is decontam/.
"""
from __future__ import annotations

import sys

import jobs  # noqa: F401  first: under `spark-submit jobs/decontam.py` it stops this file shadowing `decontam`
from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("decontam", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
