"""Time limits benchmark: documents/s with and without the hard per-document limits, same run.

    python bench/time_limits.py [DATA] [--extractor trafilatura|resiliparse|fast] [--min-pages 400]
                                [--repeats 3] [--no-filter]

The limits run each document in a sandbox child process (pipeline/sandbox.py) that is killed
when a document passes its limit; this measures what that costs on normal pages.

DATA defaults to ../shared/data beside the repository. Pages: the HTML files of
DATA/html/scrapinghub-article-extraction-benchmark/html/ and the HTML responses of
DATA/warc/**/*.warc.gz, decoded as the extract stage decodes them, tiled until there are at
least --min-pages. Everything runs on one CPU (sched_setaffinity, which the sandbox child
inherits), the two variants interleaved, best of --repeats.

- extract (the JSON's top-level keys): `without` = Extractor.extract_inline on every page, in
  this process (the work alone, no limit); `with` = Extractor.many on batches of 256 pages, the
  extract stage's path (the sandbox child, one round trip per 64 pages). Also `per_page_docs_per_s`:
  one round trip per page (Extractor(html, url)), for comparison.
- filter (the `filter` key; --no-filter skips it): the default filter chain on the extracted
  texts, batches of 256: `without` = every filter on the whole batch in this process (the chain
  as it ran before the limits); `with` = filters.stage.score_batches (each document through the
  chain in the sandbox child, 64 documents per round trip).

Rates are by wall clock (docs_per_s_*) and by CPU time (cpu_docs_per_s_*: this process's plus
the sandbox child's, from /proc; steadier on a machine others load too).
Last line: one JSON object; `overhead` = docs_per_s_without / docs_per_s_with - 1 (cpu_overhead
the same by CPU time).
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data"
BATCH = 256


def load_pages(data: Path) -> list[tuple[str, str | None]]:
    from pipeline.extract.charset import decode_html
    from pipeline.extract.warc import iter_warc

    pages = []
    for path in sorted(glob.glob(str(data / "html" / "*" / "html" / "*.html.gz"))):
        with gzip.open(path, "rb") as fh:
            pages.append((decode_html(fh.read())[0], None))
    for path in sorted(glob.glob(str(data / "warc" / "**" / "*.warc.gz"), recursive=True)):
        with open(path, "rb") as fh:
            for record in iter_warc(fh, path, 5_000_000):
                if record.html and not record.reason:
                    pages.append((decode_html(record.html, record.charset_hint)[0], record.url))
    return pages


def child_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a (running, unwaited) child process, from /proc."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(run, sandbox=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and of the sandbox's child) of one run."""
    pid = sandbox.child_pid if sandbox is not None else None
    wall, cpu, child = time.perf_counter(), time.process_time(), child_cpu_seconds(pid)
    run()
    assert sandbox is None or sandbox.child_pid == pid, "the child was replaced: a page timed out"
    return time.perf_counter() - wall, time.process_time() - cpu + child_cpu_seconds(pid) - child


def rates(variants: dict, count: int, repeats: int) -> dict:
    """{name: (best docs/s by wall clock, best docs/s by CPU time)}, the variants interleaved
    so that the machine's load falls on each alike."""
    best = {name: [float("inf"), float("inf")] for name in variants}
    for _ in range(repeats):
        for name, (run, sandbox) in variants.items():
            wall, cpu = measure(run, sandbox)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    return {name: (count / wall, count / cpu) for name, (wall, cpu) in best.items()}


def summary(found: dict, with_: str, without: str) -> dict:
    (wall_with, cpu_with), (wall_without, cpu_without) = found[with_], found[without]
    return {"docs_per_s_with": round(wall_with, 1), "docs_per_s_without": round(wall_without, 1),
            "overhead": round(wall_without / wall_with - 1, 4),
            "cpu_docs_per_s_with": round(cpu_with, 1), "cpu_docs_per_s_without": round(cpu_without, 1),
            "cpu_overhead": round(cpu_without / cpu_with - 1, 4)}


def batches(items: list, size: int = BATCH):
    return [items[i:i + size] for i in range(0, len(items), size)]


def bench_extract(pages, extractor_name: str, repeats: int) -> dict:
    from pipeline.config import ExtractConfig
    from pipeline.extract.extractors import make_extractor

    extractor = make_extractor(ExtractConfig(extractor=extractor_name))
    extractor.many(pages[:8])                  # fork the child, warm both sides
    inline = lambda: [extractor.extract_inline(html, url) for html, url in pages]  # noqa: E731
    chunked = lambda: [r for b in batches(pages) for r in extractor.many(b)]       # noqa: E731
    per_page = lambda: [extractor(html, url) for html, url in pages]               # noqa: E731
    reference = inline()
    assert reference == chunked() == per_page(), "sandboxed extraction differs"
    found = rates({"without": (inline, None), "with": (chunked, extractor.sandbox),
                   "per_page": (per_page, extractor.sandbox)}, len(pages), repeats)
    extractor.close()
    per_page_rates = summary(found, "per_page", "without")
    return {**summary(found, "with", "without"), "per_page_docs_per_s": per_page_rates["docs_per_s_with"],
            "per_page_overhead": per_page_rates["overhead"],
            "per_page_cpu_overhead": per_page_rates["cpu_overhead"]}, [r.text for r in reference]


def bench_filter(texts: list[str], repeats: int) -> dict:
    import numpy as np
    import pyarrow as pa

    from filters.base import Batch, TextModifier
    from filters.stage import build_chain, score_batches
    from pipeline.config import RunConfig

    config = RunConfig(input=["bench"])
    extra = {"token_outlier_v1": {"distribution": np.ones(1 << 16)}}
    chain = build_chain(config.filter, extra)
    docs = [t for t in texts if t]
    arrow = [pa.RecordBatch.from_pydict({"text": b, "lang": ["en"] * len(b), "url": [None] * len(b),
                                         "domain": [None] * len(b)}) for b in batches(docs)]

    def direct():
        for b in batches(docs):
            current = b
            for f in chain.filters:
                view = Batch(current, ["en"] * len(b), [None] * len(b), [None] * len(b))
                if isinstance(f, TextModifier):
                    current, _ = f.apply(view)
                else:
                    f.score(view)

    sandboxed = lambda: list(score_batches(arrow, config, extra))   # noqa: E731
    sandboxed()                                # fork the child
    from filters.stage import _SANDBOXES

    found = rates({"without": (direct, None), "with": (sandboxed, next(iter(_SANDBOXES.values())))},
                  len(docs), repeats)
    return {"docs": len(docs), **summary(found, "with", "without")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--extractor", default="trafilatura", choices=["trafilatura", "resiliparse", "fast"])
    parser.add_argument("--min-pages", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-filter", action="store_true")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    unique = load_pages(Path(args.data))
    if not unique:
        parser.error(f"no pages under {args.data}")
    pages = (unique * (args.min_pages // len(unique) + 1))[:max(args.min_pages, len(unique))]
    print(f"[time_limits] {len(pages)} pages ({len(unique)} unique), {args.extractor}, one CPU", flush=True)
    result, texts = bench_extract(pages, args.extractor, args.repeats)
    result = {"stage": "extract", "extractor": args.extractor, "pages": len(pages), **result}
    print(f"[time_limits] extract: {json.dumps(result)}", flush=True)
    if not args.no_filter:
        result["filter"] = bench_filter(texts, args.repeats)
        print(f"[time_limits] filter: {json.dumps(result['filter'])}", flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
