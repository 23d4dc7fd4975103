"""The command line every job shares: --conf, --input, --output, --set, --help.

Usage errors and config errors print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from pipeline import demo
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.io import InputError

EXIT_USAGE = 2
DEFAULT_CONF = "conf/default.yaml"
# `--verbose` sets it for pipeline.spark.build_session: Spark's console progress bars and INFO logs.
VERBOSE_ENV = "CURATE_VERBOSE"

_EPILOG = """\
The same options work under spark-submit:
  spark-submit [--master URL] jobs/{name}.py --conf conf/default.yaml --input 's3a://bucket/crawl/*.warc.gz' --output s3a://bucket/out
Config keys can be overridden without editing the file, e.g. --set extract.extractor=resiliparse --set spark.master=local[2]
"""


_RAW_INPUT_HELP = ("input files, directories or globs (WARC/WET/ARC, JSONL[.gz|.zst], Parquet; "
                   "local paths or Hadoop URIs); overrides the config's `input`")


def tool_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """The parser of a tool that takes no run config (mix, mix_search, report): the first paragraph
    of its docstring as the description, the rest as the epilog."""
    description, _, epilog = doc.partition("\n\n")
    return argparse.ArgumentParser(prog=f"python -m jobs.{name}", description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser(name: str, description: str, input_help: str = _RAW_INPUT_HELP,
                 conf_help: str = f"YAML run config (default: {DEFAULT_CONF} when present, else built-in defaults)"
                 ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m jobs.{name}", description=description, epilog=_EPILOG.format(name=name),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conf", metavar="FILE", help=conf_help)
    parser.add_argument("--input", metavar="GLOB", nargs="+", help=input_help)
    parser.add_argument("--output", metavar="DIR", help="output directory or URI; overrides the config's `output`")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                        help="override one config key (dotted), repeatable; a relative path is "
                             "relative to the working directory")
    parser.add_argument("--verbose", action="store_true",
                        help="Spark's console progress bars and INFO logs (default: one progress line per stage)")
    return parser


def parse_config(parser: argparse.ArgumentParser, argv: list[str] | None) -> RunConfig:
    return parse_args_and_config(parser, argv)[1]


def default_conf(demo_fallback: bool = False) -> str | None:
    """The config used without --conf: conf/default.yaml in the working directory when present;
    else, with demo_fallback (`curate run`, `curate demo-models`), the demo config that came with the
    code (a wheel's packaged copy, or the checkout's), said on one line on stderr; else None, the
    built-in defaults."""
    if os.path.isfile(DEFAULT_CONF):
        return DEFAULT_CONF
    packaged = demo.demo_config() if demo_fallback else None
    if packaged is None:
        return None
    print(f"note: no {DEFAULT_CONF} in {os.getcwd()}: using the demo config {packaged}", file=sys.stderr)
    return str(packaged)


def parse_args_and_config(parser: argparse.ArgumentParser, argv: list[str] | None, *,
                          stage_files: bool = True, running: list[str] | None = None,
                          demo_fallback: bool = False) -> tuple[argparse.Namespace, RunConfig]:
    """The parsed options and the config they resolve to (file, then --input/--output, then --set).
    stage_files: check the model and tokenizer files of every configured stage; running: the stages
    whose required (???) keys must be given (default: the configured ones; load_config);
    demo_fallback: without --conf, the demo config when the working directory has none (default_conf)."""
    args = parser.parse_args(argv)
    if getattr(args, "verbose", False):
        os.environ[VERBOSE_ENV] = "1"
    conf_path = args.conf or default_conf(demo_fallback)
    overrides = list(args.overrides)
    if args.input:
        overrides.append(f"input={_yaml_list(args.input)}")
    if args.output:
        overrides.append(f"output={_yaml_scalar(args.output)}")
    return args, load_config(conf_path, overrides, stage_files=stage_files, running=running)


def run_main(main: Callable[[], int]) -> int:
    """Run a job's main, turning user errors into one line and exit status 2."""
    try:
        return main()
    except (ConfigError, InputError) as err:
        print(f"error: {' '.join(str(err).splitlines())}", file=sys.stderr)   # one line, always
        return EXIT_USAGE


def _yaml_scalar(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(_yaml_scalar(v) for v in values) + "]"
