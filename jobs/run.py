"""Run every stage configured in `stages`, in flow order, on one Spark session.

    python -m jobs.run --conf conf/default.yaml
    spark-submit jobs/run.py --conf conf/cluster.yaml --input 's3a://bucket/crawl/*.warc.gz' --output s3a://bucket/out \
        --set 'classify.models={quality: s3a://bucket/models/quality}' --set tokenize.tokenizer=s3a://bucket/tokenizer.model

Each stage reads the output of the stage before it in this run's `stages` (pipeline/stages.py).
Every stage's checks run before the first one starts, and before Spark starts: inputs read,
--output takes a probe write, the models and the tokenizer load (pipeline/preflight.py). Ends with
a short summary per stage and the paths of what it wrote. A rerun skips the stages that are
complete with the same config and inputs (pipeline/resume.py): after an interruption it resumes at
the first incomplete stage; --force reruns everything.
"""
from __future__ import annotations

import sys
import time

from jobs import dry_run
from jobs.stage_job import check_deferred, preflight, resolved_yaml, size_shuffle
from pipeline import outputs, stages
from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import RunConfig
from pipeline.io import write_text
from pipeline.resume import completed_stats, stage_keys
from pipeline.spark import build_session
from pipeline.stage_spark import execute


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("run", __doc__.split("\n\n")[0], conf_help=(
        "YAML run config (default: conf/default.yaml when present, else the demo config installed with "
        "the package: `curate demo-models` trains its classifiers)"))
    parser.add_argument("--force", action="store_true",
                        help="rerun every stage (default: skip stages already complete with the same config)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (stages in order, their inputs and outputs, which a rerun skips) "
                             "and exit without starting Spark")

    def job() -> int:
        args, config = parse_args_and_config(parser, argv, demo_fallback=True)
        if args.dry_run:
            print(dry_run.render(dry_run.plan(config, force=args.force), config))
            return 0
        started = time.time()
        results = run_stages(config, force=args.force)
        print(_summary(results, outputs.resolved_config(config.output), time.time() - started))
        return 0

    return run_main(job)


def run_stages(config: RunConfig, force: bool = False) -> list[tuple[str, dict]]:
    """Every configured stage in flow order on one session: (stage, stats) each, skipped stages'
    stored stats marked `skipped`. Raises ConfigError / InputError before Spark starts."""
    # Fail fast, before starting a JVM: every stage's check (models load, the tokenizer loads,
    # inputs read), the output probe, then what only Hadoop can check (jobs/stage_job.py).
    deferred = preflight(config, list(config.stages))
    spark = build_session(config.spark, app_name="curate-run")
    check_deferred(spark, deferred)
    write_text(outputs.resolved_config(config.output), resolved_yaml(config))
    resumable = [name for name in config.stages if stages.get(name).resumable]
    keys = stage_keys(config, resumable)
    results = []
    for name in config.stages:
        size_shuffle(spark, config, name, stages.default_inputs(config, name))
        stats = (_run_resumable(spark, config, name, keys[name], force) if name in keys
                 else execute(spark, config, name, running=list(config.stages)))
        results.append((name, stats))
    return results


def _run_resumable(spark, config, name: str, key: str, force: bool) -> dict:
    """The stage's stats: stored ones when it is complete under the same key, else from a run."""
    done = None if force else completed_stats(spark, config, name, key)
    if done is not None:
        print(f"[{name}] complete with the same config and inputs: skipped (--force reruns it)", flush=True)
        return {**done, "skipped": True}
    return execute(spark, config, name, run_key=key, running=list(config.stages))


def _summary(results: list[tuple[str, dict]], resolved: str, seconds: float) -> str:
    lines = ["", "=== curate run summary ==="]
    report = None
    for stage, stats in results:
        if "records_in" not in stats:       # the report: no documents of its own
            report = stats["outputs"]["report"]
            continue
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats["rejected_by_reason"].items(), key=lambda kv: -kv[1]))
        lines.append(f"{stage:>8}: {stats['records_in']} in -> {stats['kept']} kept, {stats['rejected']} rejected"
                     + (f" ({reasons})" if reasons else "") + (" [skipped: complete]" if stats.get("skipped") else ""))
        seconds_ = stats.get("seconds")
        if seconds_ is not None:       # wall time, and input documents per second
            rate = f", {stats['records_in'] / seconds_:,.0f} documents/s" if seconds_ > 0 else ""
            lines.append(f"{'':>8}  time: {seconds_:.1f}s{rate}" + (" (when it ran)" if stats.get("skipped") else ""))
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
