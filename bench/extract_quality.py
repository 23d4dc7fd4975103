"""Extraction quality and speed per extractor: token P/R/F1 against gold article bodies, pages/s per core.

    python bench/extract_quality.py [--gold DIR] [--warc DIR] [--reps 3]

Extractors, each the pipeline's own backend called bare (no sandbox, no Spark) on one core:
  trafilatura       the default trafilatura config (comments off, tables on): the quality reference
  trafilatura_fast  the same with fast=True (no readability/jusText comparison)
  resiliparse       extract.extractor=resiliparse
  ours              extract.extractor=fast (pipeline/extract/fast_html.py, trafilatura where unsure)

Gold: the Scrapinghub article-extraction benchmark (181 pages, `articleBody` per id in
ground-truth.json). Scored as that benchmark does at the token level: lower-cased \\w+ tokens,
multiset precision/recall/F1 per page, averaged over pages. Pages split in two halves by the
sha1 of their id: `dev` (the half fast_html's rules were developed on) and `test` (held out).

Speed: CPU seconds (process_time) over the gold pages and the WARC pages (--warc; real pages, no
gold), best of --reps, extractors interleaved. The machine may be shared: only ratios from one
run mean anything. Last line: one JSON object; `extract_speedup` = ours / trafilatura in pages/s
per core on the gold and WARC pages together.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_GOLD = ROOT.parent / "shared" / "data" / "html" / "scrapinghub-article-extraction-benchmark"
HTML_TYPES = ("text/html", "application/xhtml+xml")
DEFAULT_WARC = ROOT.parent / "shared" / "data" / "warc"
EXTRACTORS = ("trafilatura", "trafilatura_fast", "resiliparse", "ours")
TOKEN = re.compile(r"\w+")


def load_gold(gold_dir: Path) -> list[tuple[str, str, str]]:
    """(id, html, article body) per gold page, sorted by id."""
    from pipeline.extract.charset import decode_html

    truth = json.loads((gold_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        path = gold_dir / "html" / f"{page_id}.html.gz"
        payload = gzip.decompress(path.read_bytes()) if path.exists() else \
            (gold_dir / "html" / f"{page_id}.html").read_bytes()
        pages.append((page_id, decode_html(payload)[0], truth[page_id]["articleBody"]))
    return pages


def html_pages(path: str):
    """Raw HTML 200 responses of one WARC, as bench/extract.py's bare loop reads them (a damaged
    file: the pages before the damage)."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        try:
            for record in ArchiveIterator(fh, arc2warc=True):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                if record.http_headers.get_statuscode() == "200" and mime in HTML_TYPES:
                    yield record.content_stream().read()
        except Exception:
            return


def warc_pages(warc_dir: Path) -> list[str]:
    """Decoded HTML 200 responses of every WARC under warc_dir."""
    from pipeline.extract.charset import decode_html

    paths = sorted(p for p in glob.glob(str(warc_dir / "**" / "*.warc*"), recursive=True)
                   if p.endswith((".warc", ".warc.gz")))
    return [decode_html(payload)[0] for path in paths for payload in html_pages(path)]


def half(page_id: str) -> str:
    return "dev" if int(hashlib.sha1(page_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def token_prf(gold: str, predicted: str | None) -> tuple[float, float, float]:
    """Multiset precision, recall and F1 of lower-cased word tokens; an empty prediction scores 0."""
    truth, guess = Counter(TOKEN.findall(gold.lower())), Counter(TOKEN.findall((predicted or "").lower()))
    if not truth and not guess:
        return 1.0, 1.0, 1.0
    common = sum((truth & guess).values())
    precision = common / sum(guess.values()) if guess else 0.0
    recall = common / sum(truth.values()) if truth else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if common else 0.0)


def make(name: str) -> Callable[[str], str | None]:
    """The pipeline's backend for `name`, called bare."""
    from pipeline.config import ExtractConfig, TrafilaturaConfig
    from pipeline.extract.extractors import BACKENDS

    config = {"trafilatura": ExtractConfig(extractor="trafilatura"),
              "trafilatura_fast": ExtractConfig(extractor="trafilatura", trafilatura=TrafilaturaConfig(fast=True)),
              "resiliparse": ExtractConfig(extractor="resiliparse"),
              "ours": ExtractConfig(extractor="fast")}[name]
    backend = BACKENDS[config.extractor](config)
    return lambda html: backend(html, None)


def cpu_seconds(extract: Callable[[str], str | None], pages: list[str]) -> float:
    started = time.process_time()
    for html in pages:
        extract(html)
    return time.process_time() - started


def measure(gold_dir: Path, warc_dir: Path | None, reps: int = 3, log=print) -> dict[str, float | int]:
    """Quality on the gold pages and speed on gold (+ WARC) pages for every extractor; flat figures."""
    from pipeline.extract.fast_html import extract_main_text

    gold = load_gold(gold_dir)
    warc = warc_pages(warc_dir) if warc_dir is not None and warc_dir.is_dir() else []
    extractors = {name: make(name) for name in EXTRACTORS}
    figures: dict[str, float | int] = {"gold_pages": len(gold), "warc_pages": len(warc)}
    for name, extract in extractors.items():
        scores = {page_id: token_prf(body, extract(html)) for page_id, html, body in gold}
        for part in ("dev", "test", "all"):
            rows = [s for page_id, s in scores.items() if part == "all" or half(page_id) == part]
            p, r, f = (sum(row[i] for row in rows) / len(rows) for i in range(3))
            suffix = "" if part == "all" else f"_{part}"
            figures.update({f"p_{name}{suffix}": round(p, 4), f"r_{name}{suffix}": round(r, 4),
                            f"f1_{name}{suffix}": round(f, 4)})
        log(f"{name:17s} P/R/F1 dev {figures[f'p_{name}_dev']:.4f}/{figures[f'r_{name}_dev']:.4f}/"
            f"{figures[f'f1_{name}_dev']:.4f}  test {figures[f'p_{name}_test']:.4f}/"
            f"{figures[f'r_{name}_test']:.4f}/{figures[f'f1_{name}_test']:.4f}  all {figures[f'f1_{name}']:.4f}")
    sets = {"gold": [html for _, html, _ in gold], "warc": warc}
    best = {(name, kind): float("inf") for name in extractors for kind in sets}
    for _ in range(reps):                       # interleaved: a busy spell on the machine hits all alike
        for name, extract in extractors.items():
            for kind, pages in sets.items():
                if pages:
                    best[name, kind] = min(best[name, kind], cpu_seconds(extract, pages))
    for name in extractors:
        seconds = sum(best[name, kind] for kind, pages in sets.items() if pages)
        figures[f"{name}_pages_per_s"] = round((len(gold) + len(warc)) / seconds, 1)
        for kind, pages in sets.items():
            if pages:
                figures[f"{name}_{kind}_pages_per_s"] = round(len(pages) / best[name, kind], 1)
        log(f"{name:17s} {figures[f'{name}_pages_per_s']:7.1f} pages/s/core (gold "
            f"{figures[f'{name}_gold_pages_per_s']:.1f}" + (f", warc {figures[f'{name}_warc_pages_per_s']:.1f}"
                                                            if warc else "") + ")")
    figures["extract_speedup"] = round(figures["ours_pages_per_s"] / figures["trafilatura_pages_per_s"], 2)
    figures["extract_speedup_gold"] = round(figures["ours_gold_pages_per_s"]
                                            / figures["trafilatura_gold_pages_per_s"], 2)
    if warc:
        figures["extract_speedup_warc"] = round(figures["ours_warc_pages_per_s"]
                                                / figures["trafilatura_warc_pages_per_s"], 2)
    unsure = sum(extract_main_text(html) is None for pages in sets.values() for html in pages)
    figures["ours_fallback_share"] = round(unsure / (len(gold) + len(warc)), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", default=str(DEFAULT_GOLD), help="folder with html/ and ground-truth.json")
    parser.add_argument("--warc", default=str(DEFAULT_WARC), help="WARC folder for the speed of real pages")
    parser.add_argument("--reps", type=int, default=3, help="timed passes per extractor; the best counts")
    args = parser.parse_args()
    if not (Path(args.gold) / "ground-truth.json").is_file():
        sys.exit(f"error: no ground-truth.json in {args.gold} (pass --gold, the article-extraction benchmark folder)")
    print(json.dumps(measure(Path(args.gold), Path(args.warc), args.reps)))


if __name__ == "__main__":
    main()
