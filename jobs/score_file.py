"""`curate score-file`: run filters over one JSONL or Parquet file, without Spark; scores and
decisions out as JSON lines.

    curate score-file --filters gopher_quality_v1,c4_v1 docs.jsonl
    curate score-file --filters fineweb_v1 --conf conf/default.yaml --output scored.jsonl docs.parquet

Each input row needs `text`; `lang` (thresholds per language), `url`, `domain` and `id` are used
when present. Every output line: the row's id (or its line number), `kept`, `drop_reason` (the first
rule it failed, `<filter>_<rule>` as the filter stage writes it), `scores` ({column: value}, null
where a score does not apply) and, when a modifier in the chain rewrote it, the new `text`. Filter
options and thresholds come from --conf (filter.options, filter.thresholds), else the defaults
(`curate filters` lists them); the filters run in the order given.
"""
from __future__ import annotations

import dataclasses
import gzip
import io
import json
import math
import sys
from typing import Iterator

import pyarrow.parquet as pq

from filters.stage import build_chain
from pipeline.cli import DEFAULT_CONF, run_main, tool_parser
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.io import InputError

BATCH_ROWS = 512


def read_rows(path: str) -> Iterator[dict]:
    """The rows of a JSONL (.jsonl, .json, .jsonl.gz) or Parquet file, as dicts."""
    if path.endswith(".parquet"):
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            yield from batch.to_pylist()
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as err:
                    raise InputError(f"{path}:{number}: not a JSON line ({err})") from None


def score_rows(rows: list[dict], chain) -> list[dict]:
    """Scores and decisions for `rows` (dicts with `text`), every filter of `chain` in order."""
    documents = [(row.get("text") or "", row.get("lang"), row.get("url"), row.get("domain")) for row in rows]
    scored, kept, reasons = chain.decide_documents(documents)
    names = chain.score_names()
    out = []
    for i, (row, (text, values)) in enumerate(zip(rows, scored)):
        record = {"id": row.get("id"), "kept": bool(kept[i]), "drop_reason": reasons[i],
                  "scores": {name: _number(value) for name, value in zip(names, values)}}
        if text != documents[i][0]:
            record["text"] = text
        out.append(record)
    return out


def _number(value: float):
    value = float(value)          # the score columns are float64, as the filter stage writes them
    return None if math.isnan(value) or math.isinf(value) else value


def score_file(path: str, config: RunConfig, names: list[str], out: io.TextIOBase) -> tuple[int, int]:
    """Write a JSON line per row of `path` to `out`; (rows, kept)."""
    chain = build_chain(dataclasses.replace(config.filter, filters=names))
    total = kept = 0
    batch: list[dict] = []

    def flush():
        nonlocal total, kept
        for index, record in enumerate(score_rows(batch, chain)):
            if record["id"] is None:
                record["id"] = total + index + 1     # the row number, from 1
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            kept += record["kept"]
        total += len(batch)
        batch.clear()

    for row in read_rows(path):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f"{path}: every row needs a string `text` (row {total + len(batch) + 1})")
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            flush()
    if batch:
        flush()
    return total, kept


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser("score_file", __doc__)
    parser.add_argument("file", metavar="FILE", help="a JSONL (.jsonl, .jsonl.gz) or Parquet file of documents")
    parser.add_argument("--filters", required=True, metavar="NAMES",
                        help="comma-separated filter names, in run order (curate filters lists them)")
    parser.add_argument("--output", metavar="FILE", help="write the JSON lines here (default: stdout)")
    parser.add_argument("--conf", metavar="FILE",
                        help=f"run config for filter options and thresholds (default: {DEFAULT_CONF} when present)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                        help="override one config key, e.g. --set filter.thresholds.c4_v1.default.min_sentences=3")

    def job() -> int:
        import os

        args = parser.parse_args(argv)
        names = [name.strip() for name in args.filters.split(",") if name.strip()]
        if not names:
            raise ConfigError("--filters names no filter")
        if not os.path.isfile(args.file):
            raise InputError(f"input not found: {args.file}")
        conf = args.conf or (DEFAULT_CONF if os.path.isfile(DEFAULT_CONF) else None)
        config = load_config(conf, args.overrides, stage_files=False)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                total, kept = score_file(args.file, config, names, out)
        else:
            total, kept = score_file(args.file, config, names, sys.stdout)
        print(f"{total} document(s), {kept} kept, {total - kept} dropped by {', '.join(names)}", file=sys.stderr)
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
