"""`curate`: one command for every job (installed by setup.cfg's console_scripts).

    curate run conf/default.yaml [--force] [--set key=value ...]   # the whole configured pipeline
    curate extract --conf conf/default.yaml --input 'crawl/*.warc.gz' --output out/run1
    curate train-classifier --input labelled.jsonl --output models/quality
    curate run conf/default.yaml --dry-run    # the plan: stages, paths, what a rerun skips
    curate demo-models && curate run          # the demo from any directory (its packaged config)
    curate filters                            # every filter, its thresholds and defaults
    curate score-file --filters gopher_quality_v1,c4_v1 docs.jsonl
    curate --version

`curate run CONF` is `python -m jobs.run --conf CONF`; every other command hands its arguments to
the job's own parser (`curate <command> --help`). On a cluster, submit `jobs/run.py` itself with
spark-submit (README "Clusters").
"""
from __future__ import annotations

import importlib
import sys

from pipeline.stages import STAGES

# The stages come from the one stage table; the tools that are not stages follow.
COMMANDS = {
    "run": ("jobs.run", "every configured stage, in order, resuming after an interruption"),
    **{stage.name: (stage.command, stage.summary) for stage in STAGES},
    "mix": ("jobs.mix", "language / source mix weights"),
    "mix-search": ("jobs.mix_search", "proxy-model mixture search"),
    "train-classifier": ("jobs.train_classifier", "train a fastText or scikit-learn classifier"),
    "demo-models": ("jobs.demo_models", "train the demo config's two classifiers (what `make models` does)"),
    "perplexity-teacher": ("jobs.perplexity_teacher", "LM perplexity scores, a teacher for train-classifier"),
    "train-tokenizer": ("jobs.train_tokenizer", "train a byte-level BPE tokenizer"),
    "filters": ("jobs.filters_list", "every filter: version, thresholds and defaults, citation"),
    "score-file": ("jobs.score_file", "filter scores and decisions for one JSONL/Parquet file, no Spark"),
    "calibrate-filters": ("jobs.calibrate_filters", "per-language filter thresholds fitted on reference text, no Spark"),
    "shards": ("pipeline.tokens.shards", "verify token shards, export them to Megatron"),
    "train": ("trainer.train", "train the decoder on token shards"),
    "export": ("trainer.export", "export a checkpoint (and its tokenizer) for Hugging Face"),
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        print(f"curate {version()}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"error: unknown command '{command}'\n\n{usage()}", file=sys.stderr)
        return 2
    if command == "run" and rest and not rest[0].startswith("-"):
        rest = ["--conf", rest[0], *rest[1:]]     # curate run conf/x.yaml
    return importlib.import_module(COMMANDS[command][0]).main(rest)


def version() -> str:
    """The installed package's version (setup.cfg), or `unknown` when run from a checkout never installed."""
    from importlib.metadata import PackageNotFoundError, version as package_version

    try:
        return package_version("curate")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [__doc__.split("\n\n")[0], "", "usage: curate <command> [arguments]  (curate <command> --help)",
             "       curate --version", ""]
    lines += [f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
