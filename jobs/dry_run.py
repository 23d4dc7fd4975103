"""`curate run --dry-run`: the plan of a run, without starting a JVM.

    curate run conf/default.yaml --dry-run
    python -m jobs.dry_run --conf conf/default.yaml --output out/run1

The configured stages in flow order, each stage's input and output paths, and whether a rerun
would skip it: complete under the same run key (pipeline/resume.py), which `dry_run` reads from
the stats file with pipeline.storage (no Spark: `completed_stats` asks Hadoop), its outputs present.
"""
from __future__ import annotations

import json
import sys

import jobs  # noqa: F401  (run as a script: takes jobs/ off sys.path before the stage table loads)
from pipeline import outputs, stages, storage
from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import RunConfig
from pipeline.io import read_text
from pipeline.resume import stage_keys


def stage_outputs(config: RunConfig, name: str) -> dict[str, str]:
    """The paths stage `name` writes under config.output (pipeline/outputs.py)."""
    run, stage = config.output, stages.get(name)
    found: dict[str, str] = {}
    if stage.documents:
        found.update(kept=outputs.kept(run, name), rejected=outputs.rejected(run, name))
    if name == "filter":
        found["filter_scores"] = outputs.filter_scores(run)
    if name == "tokenize":
        found["shards"] = outputs.shards(run)
    if name == "report":
        found["report"] = outputs.report_dir(run)
    if stage.resumable:
        found["stats"] = outputs.stats_file(run, name)
    return found


def plan(config: RunConfig, force: bool = False) -> list[dict]:
    """One entry per configured stage, in flow order: name, inputs, outputs, and `action` (run or skip)
    with its reason."""
    options = storage.storage_options(config.spark.conf)
    names = list(config.stages)
    keys = stage_keys(config, [n for n in names if stages.get(n).resumable])
    steps = []
    for name in names:
        action, why = "run", "not resumable (always runs)" if name not in keys else "no complete run"
        if name in keys:
            if force:
                why = "--force"
            else:
                done = _stored_stats(config, name, options)
                if done is None:
                    why = "no stats file (never completed, or interrupted)"
                elif done.get("run_key") != keys[name]:
                    why = "complete under another config or inputs (run key differs)"
                elif not all(storage.exists(p, options) for p in done.get("outputs", {}).values()):
                    why = "an output of its last run is missing"
                else:
                    action, why = "skip", "complete with the same config and inputs"
        steps.append({"stage": name, "inputs": stages.default_inputs(config, name),
                      "outputs": stage_outputs(config, name), "action": action, "why": why,
                      "run_key": keys.get(name)})
    return steps


def _stored_stats(config: RunConfig, name: str, options) -> dict | None:
    path = outputs.stats_file(config.output, name)
    if not storage.exists(path, options):
        return None
    try:
        return json.loads(read_text(path, options) or "")
    except ValueError:
        return None


def render(steps: list[dict], config: RunConfig) -> str:
    lines = [f"plan of a run into {config.output} (dry run: nothing started, nothing written)"]
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step['stage']}: {step['action'].upper()} ({step['why']})")
        lines.append(f"     {'input:':<15}{', '.join(step['inputs']) if step['inputs'] else '(the run directory)'}")
        for what, path in step["outputs"].items():
            lines.append(f"     {what + ':':<15}{path}")
    skipped = [s["stage"] for s in steps if s["action"] == "skip"]
    lines.append(f"a rerun skips: {', '.join(skipped) if skipped else 'nothing'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("dry_run", __doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="plan as `curate run --force` would: every stage runs")

    def job() -> int:
        args, config = parse_args_and_config(parser, argv)
        print(render(plan(config, force=args.force), config))
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
