"""The command line every stage job shares: parse, check before the JVM starts, build the
session, write the resolved config, run the stage, print a one-line outcome."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import SparkSession

from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import RunConfig, dump_yaml
from pipeline.io import join, write_text
from pipeline.spark import build_session

StageRun = Callable[[SparkSession, RunConfig, "list[str] | None"], dict]


def stage_main(stage: str, doc: str, run: StageRun, argv: list[str] | None, *, input_help: str | None = None,
               check: Callable[[RunConfig], None] | None = None, unit: str = "documents") -> int:
    """`run(spark, config, input_paths)` gets the --input paths, or None when the stage should
    read its default (the previous stage's output); `check` fails fast on the config (exit 2)."""
    parser = build_parser(stage, doc.split("\n\n")[0], **({"input_help": input_help} if input_help else {}))

    def job() -> int:
        # One stage runs: the files of the other configured stages (the demo's models) need not exist.
        args, config = parse_args_and_config(parser, argv, stage_files=False)
        if check:
            check(config)
        spark = build_session(config.spark, app_name=f"curate-{stage}")
        write_text(join(config.output, "config.yaml"), dump_yaml(config))
        stats = run(spark, config, config.input if args.input else None)
        print(f"[{stage}] {stats['records_in']} {unit}: {stats['kept']} kept, {stats['rejected']} rejected "
              f"{stats['rejected_by_reason']} -> {stats['outputs']['kept']}")
        return 0

    return run_main(job)
