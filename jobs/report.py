"""Report: a run's statistics -> <run>/report/report.json, <run>/report/index.html and a summary.

    python -m jobs.report --run out/demo
    python -m jobs.report --compare out/run_a out/run_b
    spark-submit jobs/report.py --run /shared/out/run1

Reads <run>/stats/*.json (the funnel, dedup rates and cluster sizes, chars per token), the last
complete document output (<run>/classify, else dedup, filter, extract) aggregated with Spark
(languages with lang_score quantiles, sources, top domains, domain labels, histograms of document
length and of every *__score column; nothing but aggregates reaches the driver) and
<run>/shards/{train,valid}/manifest.json (tokens per shard, totals per bucket, the mix applied).
The page is self-contained: charts are inline SVG, nothing is fetched when it is viewed.
--compare prints two runs side by side (building a report for each that has none, or with --rebuild).
The output must be a local or mounted path.
"""
from __future__ import annotations

import argparse
import sys

from pipeline.cli import EXIT_USAGE, tool_parser


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser("report", __doc__)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--run", metavar="DIR", help="run directory (a pipeline --output)")
    what.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="two run directories side by side")
    p.add_argument("--out", metavar="DIR", help="report directory (default: <run>/report)")
    p.add_argument("--top-domains", type=int, default=25, help="rows in the top-domains table (default 25)")
    p.add_argument("--rebuild", action="store_true", help="with --compare: rebuild reports that already exist")
    p.add_argument("--master", default="local[*]", help="Spark master (default local[*]; spark-submit's wins)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = args.compare or [args.run]
    from pipeline import storage
    from pipeline.mix.counts import read_json

    for run in runs:
        if not storage.exists(run):
            print(f"error: run directory not found: {run}", file=sys.stderr)
            return EXIT_USAGE
    from pipeline.config import SparkConfig
    from pipeline.report.render import compare
    from pipeline.report.stage_spark import make_report
    from pipeline.spark import build_session

    spark = None
    reports = []
    for run in runs:
        existing = read_json(f"{run.rstrip('/')}/report/report.json") if args.compare and not args.rebuild else None
        if existing is not None:
            reports.append(existing)
            continue
        spark = spark or build_session(SparkConfig(master=args.master), app_name="curate-report")
        reports.append(make_report(spark, run, None if args.compare else args.out, args.top_domains))
    if args.compare:
        print(compare(*reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
