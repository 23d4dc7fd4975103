"""The command line every stage job shares: parse, check before the JVM starts, build the
session, write the resolved config, run the stage, print a one-line outcome."""
from __future__ import annotations

from pipeline import outputs, stages
from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import dump_yaml
from pipeline.io import write_text
from pipeline.spark import build_session
from pipeline.stage_spark import execute


def stage_main(name: str, doc: str, argv: list[str] | None) -> int:
    """`python -m jobs.<command>` for stage `name`: --input names what it reads, else it reads the
    output of the stage before it (pipeline.stages.default_inputs)."""
    stage = stages.get(name)
    previous = stages.previous_in_table(name)
    input_help = {} if name == "extract" else {"input_help": (
        f"Parquet documents (default: the output of the stage before {name} in the config's `stages`, "
        f"e.g. <output>/{previous})")}
    parser = build_parser(stage.command.removeprefix("jobs."), doc.split("\n\n")[0], **input_help)

    def job() -> int:
        # One stage runs: the files of the other configured stages (the demo's models) need not exist.
        args, config = parse_args_and_config(parser, argv, stage_files=False)
        stage.check_config(config)
        spark = build_session(config.spark, app_name=f"curate-{name}")
        write_text(outputs.resolved_config(config.output), dump_yaml(config))
        stats = execute(spark, config, name, config.input if args.input else None)
        print(f"[{name}] {stats['records_in']} {stage.unit}: {stats['kept']} kept, {stats['rejected']} rejected "
              f"{stats['rejected_by_reason']} -> {stats['outputs']['kept']}")
        return 0

    return run_main(job)
