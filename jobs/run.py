"""Run every stage configured in `stages`, in order, on one Spark session.

    python -m jobs.run --conf conf/default.yaml
    spark-submit jobs/run.py --conf conf/default.yaml --output s3a://bucket/out

Ends with a short summary per stage and the paths of what it wrote. A rerun skips the stages
that are complete with the same config and inputs (jobs/stage_resume.py): after an interruption
it resumes at the first incomplete stage; --force reruns everything.
"""
from __future__ import annotations

import sys
import time

from jobs.classify import run_classify
from jobs.dedup import run_dedup
from jobs.extract import run_extract
from jobs.filter import run_filter, validate_filters
from jobs.report import make_report
from jobs.tokens import run_tokenize
from jobs.stage_resume import completed_stats, stage_keys
from jobs.stage_stats import write_stats
from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import dump_yaml
from pipeline.io import check_local_inputs, join, write_text
from pipeline.spark import build_session

STAGES = {"extract": run_extract, "filter": run_filter, "dedup": run_dedup, "classify": run_classify,
          "tokenize": run_tokenize}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("run", __doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true",
                        help="rerun every stage (default: skip stages already complete with the same config)")

    def job() -> int:
        args, config = parse_args_and_config(parser, argv)
        check_local_inputs(config.input)  # fail fast, before starting a JVM
        if "filter" in config.stages:
            validate_filters(config)
        started = time.time()
        spark = build_session(config.spark, app_name="curate-run")
        resolved = join(config.output, "config.yaml")
        write_text(resolved, dump_yaml(config))
        stages = [stage for stage in config.stages if stage != "report"]
        keys = stage_keys(config, stages)
        results = [(stage, _run_stage(spark, config, stage, keys[stage], args.force)) for stage in stages]
        report = make_report(spark, config.output) if "report" in config.stages else None
        print(_summary(results, resolved, time.time() - started,
                       report and join(config.output, "report", "index.html")))
        return 0

    return run_main(job)


def _run_stage(spark, config, stage: str, key: str, force: bool) -> dict:
    """The stage's stats: stored ones when it is complete under the same key, else from a run."""
    done = None if force else completed_stats(spark, config, stage, key)
    if done is not None:
        print(f"[{stage}] complete with the same config and inputs: skipped (--force reruns it)", flush=True)
        return {**done, "skipped": True}
    stats = STAGES[stage](spark, config)
    stats["run_key"] = key
    write_stats(join(config.output, "stats", f"{stage}.json"), stats)   # last: marks the stage complete
    return stats


def _summary(results: list[tuple[str, dict]], resolved: str, seconds: float, report: str | None = None) -> str:
    lines = ["", "=== curate run summary ==="]
    for stage, stats in results:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats["rejected_by_reason"].items(), key=lambda kv: -kv[1]))
        lines.append(f"{stage:>8}: {stats['records_in']} in -> {stats['kept']} kept, {stats['rejected']} rejected"
                     + (f" ({reasons})" if reasons else "") + (" [skipped: complete]" if stats.get("skipped") else ""))
        langs = sorted(stats.get("kept_by_lang", {}).items(), key=lambda kv: -kv[1])
        if langs:
            lines.append(f"{'':>8}  languages: " + ", ".join(f"{k} {v}" for k, v in langs[:12]))
        for name, path in stats["outputs"].items():
            lines.append(f"{'':>8}  {name}: {path}")
    lines.append(f"  config: {resolved}")
    if report:
        lines.append(f"  report: {report}")
    lines.append(f"  total: {seconds:.1f}s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
