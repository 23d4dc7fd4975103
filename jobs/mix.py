"""Mix: token counts per (language, source, domain) -> a mix file for tokenize.mix_file.

    python -m jobs.mix --run out/demo --method temperature --temperature 3 --budget 1e9 --name t3
    python -m jobs.mix --counts counts.yaml --spec conf/mixes/llama3_targets_spec.yaml --out mix.yaml
    spark-submit jobs/mix.py --run s3a://bucket/out --method unimax --max-epochs 4 --budget 2e12 --name unimax

Counts (pipeline/mix/counts.py) come from one of
  --counts FILE   JSON/YAML: {"<lang>/<source>": tokens}, {"<lang>/<source>": {"<domain>": tokens}}
                  or a list of {lang, source, domain, tokens} records (optionally under `counts:`);
  --run DIR       a run directory: a Spark aggregation of <run>/decontam (else dedup, classify, filter) by
                  (lang, source, domain__label when present), characters turned into tokens with the
                  tokenize stage's chars_per_token_by_lang (<run>/stats/tokenize.json; else 4.0, with
                  a warning); with --from-manifest, the exact per-(lang, source) token totals of
                  <run>/shards/{train,valid}/manifest.json divided by the mix weight they were made with.
Methods (pipeline/mix/weights.py): natural, temperature (p ∝ n^(1/T)), unimax (uniform over languages with a
per-language epoch cap, leftover redistributed), targets (group shares from a --spec file, optional
temperature inside each group); --min-lang-share and --max-epochs --redistribute combine with any.
Writes conf/mixes/<name>.yaml (or --out PATH): top-level `mix:` of weights = effective epochs
(target tokens / available tokens) per "<lang>/<source>", then the plan (shares, target tokens, epochs
per bucket, warnings). Prints the plan; warns when a bucket repeats past --max-epochs (default 4).
"""
from __future__ import annotations

import argparse
import os
import sys

from pipeline.cli import EXIT_USAGE, tool_parser
from pipeline.mix.weights import (METHODS, MixError, dump_mix, format_table, load_counts, load_spec, plan)


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser("mix", __doc__)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--counts", metavar="FILE", help="token counts file (JSON or YAML), see below")
    src.add_argument("--run", metavar="DIR", help="a pipeline run directory to count tokens in (Spark)")
    p.add_argument("--from-manifest", action="store_true",
                   help="with --run: exact (lang, source) totals from the shard manifests instead of the documents")
    p.add_argument("--spec", metavar="FILE", help="mix spec YAML (method, temperature, max_epochs, groups, "
                   "min_lang_share, redistribute, budget_tokens); command-line options override its keys")
    p.add_argument("--method", choices=METHODS, help="default: natural (or the spec's)")
    p.add_argument("--temperature", type=float, metavar="T", help="temperature method: p ∝ n^(1/T)")
    p.add_argument("--max-epochs", type=float, metavar="E",
                   help="epoch cap per bucket (unimax: per language); warn past it (default 4)")
    p.add_argument("--redistribute", action="store_true",
                   help="clip buckets at --max-epochs and give the excess to the others")
    p.add_argument("--min-lang-share", action="append", default=[], metavar="LANG=SHARE",
                   help="floor on a language's share ('*=0.01' for every language), repeatable")
    p.add_argument("--budget", type=float, metavar="TOKENS",
                   help="total training tokens to plan for (default: all available tokens, one pass)")
    p.add_argument("--name", help="write conf/mixes/<name>.yaml")
    p.add_argument("--out", metavar="PATH", help="write the mix file here instead")
    p.add_argument("--master", default="local[*]", help="Spark master for --run (default local[*])")
    return p


def spec_from_args(args: argparse.Namespace) -> dict:
    spec = load_spec(args.spec) if args.spec else {}
    for key, value in (("method", args.method), ("temperature", args.temperature),
                       ("max_epochs", args.max_epochs)):
        if value is not None:
            spec[key] = value
    if args.redistribute:
        spec["redistribute"] = True
    if args.min_lang_share:
        floors = dict(spec.get("min_lang_share") or {})
        for item in args.min_lang_share:
            lang, sep, share = item.partition("=")
            if not sep:
                raise MixError(f"--min-lang-share '{item}': expected LANG=SHARE, e.g. sw=0.01")
            floors[lang] = float(share)
        spec["min_lang_share"] = floors
    spec.setdefault("method", "natural")
    if args.budget is not None:
        spec["budget_tokens"] = args.budget
    return spec


def counts_from_run(run: str, from_manifest: bool, master: str) -> tuple[list, list[str]]:
    if from_manifest:
        from pipeline.mix.counts import manifest_counts
        return manifest_counts(run), []
    from pipeline.config import SparkConfig
    from pipeline.mix.counts_spark import document_token_counts
    from pipeline.spark import build_session

    spark = build_session(SparkConfig(master=master), app_name="curate-mix")
    return document_token_counts(spark, run)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        spec = spec_from_args(args)
        notes: list[str] = []
        if args.counts:
            buckets = load_counts(args.counts)
        else:
            buckets, notes = counts_from_run(args.run, args.from_manifest, args.master)
        budget = spec.pop("budget_tokens", None)
        result = plan(buckets, spec, budget)
        result["warnings"] = notes + result["warnings"]
    except MixError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(format_table(result))
    path = args.out or (os.path.join("conf", "mixes", f"{args.name}.yaml") if args.name else None)
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        source = f"--counts {args.counts}" if args.counts else f"--run {args.run}"
        with open(path, "w", encoding="utf-8") as out:
            out.write(dump_mix(result, header=f"written by jobs/mix.py from {source}"))
        print(f"mix file: {path}  (use: --set tokenize.mix_file={path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
