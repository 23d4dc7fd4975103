"""Report: a run's statistics -> <run>/report/report.json, <run>/report/index.html and a summary.

    python -m jobs.report --run out/demo
    python -m jobs.report --run out/demo --samples 50 --seed 7 --sample-langs ja,th
    python -m jobs.report --compare out/run_a out/run_b
    spark-submit jobs/report.py --run /shared/out/run1

Reads <run>/stats/*.json (the funnel, dedup rates and cluster sizes, chars per token, thresholds
derived by the stages), <run>/config.yaml (the filter thresholds), the last complete document output
(languages, sources, domains, histograms), <run>/filter_scores and the classify outputs (every score
against its limits, per language, with what-if counts), <run>/rejected/<stage>/ (the drop explorer:
counts by language and source and a seeded sample per reason), and the dedup outputs (duplicate
groups, lines removed). Only aggregates and sampled rows reach the driver.
The page is self-contained: plotly.js and the data are inline; nothing is fetched when it is viewed.
--compare writes <RUN_B>/report/compare.html (or --out) with both funnels, the drops by reason, the
language shares and the documents whose fate changed, and prints the text comparison (building a
report for each run that has none, or with --rebuild). The output may be local or on an object store.
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
    p.add_argument("--out", metavar="DIR", help="report directory (default: <run>/report; with --compare "
                                                "<RUN_B>/report)")
    p.add_argument("--top-domains", type=int, default=25, help="rows in the top-domains table (default 25)")
    p.add_argument("--samples", type=int, default=20, help="sampled documents per drop reason (default 20; "
                                                           "half as many again per reason and language)")
    p.add_argument("--sample-langs", metavar="LANG,...", default="",
                   help="languages whose drops are sampled apart besides the 8 largest (e.g. ja,th)")
    p.add_argument("--seed", type=int, default=18, help="sampling seed (default 18): the same seed draws the "
                                                        "same documents")
    p.add_argument("--rebuild", action="store_true", help="with --compare: rebuild reports that already exist")
    p.add_argument("--master", default="local[*]", help="Spark master (default local[*]; spark-submit's wins)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.samples < 1:
        print("error: --samples must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    runs = args.compare or [args.run]
    from pipeline import storage
    from pipeline.mix.counts import read_json

    for run in runs:
        if not storage.exists(run):
            print(f"error: run directory not found: {run}", file=sys.stderr)
            return EXIT_USAGE
    from pipeline.config import SparkConfig
    from pipeline.io import join
    from pipeline.report.build_spark import REPORT_VERSION
    from pipeline.report.render import compare
    from pipeline.report.stage_spark import make_comparison, make_report
    from pipeline.spark import build_session

    spark = None

    def session():
        nonlocal spark
        spark = spark or build_session(SparkConfig(master=args.master), app_name="curate-report")
        return spark

    reports = []
    for run in runs:
        existing = read_json(join(run, "report", "report.json")) if args.compare and not args.rebuild else None
        if existing is not None and existing.get("version") == REPORT_VERSION:
            reports.append(existing)
            continue
        reports.append(make_report(session(), run, None if args.compare else args.out, args.top_domains,
                                   seed=args.seed, samples=args.samples,
                                   sample_langs=[l.strip() for l in args.sample_langs.split(",") if l.strip()]))
    if args.compare:
        print(compare(*reports))
        out = args.out or join(runs[1], "report")
        json_path, html_path = make_comparison(session(), reports[0], reports[1], out, seed=args.seed)
        print(f"comparison: {html_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
