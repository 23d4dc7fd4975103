"""`curate calibrate-filters`: per-language filter thresholds fitted on reference text, no Spark.

    curate calibrate-filters reference.jsonl [more.parquet ...] --keep 0.95 --output conf/calibrated.yaml
    curate calibrate-filters ref.jsonl --conf conf/default.yaml --langs de,fr --min-docs 50 --tighten

Reference files: JSONL (.jsonl, .jsonl.gz) or Parquet with `text` and `lang` (known-good pages
in each language). Every rule of the configured filters (filter.filters, filter.thresholds) is
fitted per language with at least --min-docs documents so that the rule alone keeps --keep of
the reference; by default a rule is only loosened (filters/calibration.py). The output is a
profile: `base:` the config it started from and `filter.thresholds` with the fitted values laid
over that config's table, in the config's format ({filter: {lang: {rule: value}}}); run it with
`curate run OUTPUT` (write it beside that config, e.g. conf/, so its relative paths resolve
the same). Without --output the YAML goes to stdout. Each change is reported on stderr.
"""
from __future__ import annotations

import os
import sys

import yaml

from filters.calibration import calibrate
from jobs.score_file import read_rows
from pipeline.cli import DEFAULT_CONF, run_main, tool_parser
from pipeline.config import load_config
from pipeline.io import InputError


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser("calibrate_filters", __doc__)
    parser.add_argument("files", metavar="FILE", nargs="+", help="reference JSONL or Parquet files (text, lang)")
    parser.add_argument("--conf", metavar="FILE",
                        help=f"run config whose filters are calibrated (default: {DEFAULT_CONF} when present)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                        help="override one config key")
    parser.add_argument("--keep", type=float, default=0.95, help="share of each language's reference a rule keeps")
    parser.add_argument("--min-docs", type=int, default=20, help="fewest documents a language needs to be fitted")
    parser.add_argument("--langs", metavar="LANGS", help="comma-separated languages to fit (default: all)")
    parser.add_argument("--tighten", action="store_true", help="also tighten rules that keep more than --keep")
    parser.add_argument("--output", metavar="FILE", help="write the YAML profile here (default: stdout)")

    def job() -> int:
        args = parser.parse_args(argv)
        if not 0 < args.keep <= 1:
            parser.error("--keep must be in (0, 1]")
        for path in args.files:
            if not os.path.isfile(path):
                raise InputError(f"input not found: {path}")
        conf = args.conf or (DEFAULT_CONF if os.path.isfile(DEFAULT_CONF) else None)
        config = load_config(conf, args.overrides, stage_files=False)
        documents = [(row.get("text") or "", row.get("lang")) for path in args.files for row in read_rows(path)]
        langs = [lang.strip() for lang in args.langs.split(",")] if args.langs else None
        result = calibrate(documents, config.filter, keep=args.keep, min_docs=args.min_docs,
                           tighten=args.tighten, langs=langs)
        profile = {"filter": {"thresholds": result.merged_into(config.filter)}}
        if conf:
            profile = {"base": os.path.abspath(conf), **profile}
        text = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        else:
            sys.stdout.write(text)
        for change in result.changes:
            print(change.line(), file=sys.stderr)
        few = list(result.skipped_langs.items())
        skipped = ", ".join(f"{lang} ({n})" for lang, n in few[:20])
        skipped += f" and {len(few) - 20} more" if len(few) > 20 else ""
        for lang, n in result.emptied.items():
            print(f"{lang}: {n} document(s) left out, empty after the text modifiers", file=sys.stderr)
        print(f"{len(documents)} reference document(s); fitted {', '.join(result.docs_per_lang) or 'no language'}"
              f" at keep={args.keep}; {len(result.changes)} threshold(s) changed"
              + (f"; too few documents: {skipped}" if skipped else ""), file=sys.stderr)
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
