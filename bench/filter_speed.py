"""Filter benchmark: our Gopher, C4 and FineWeb filters vs datatrove's, same documents, same run.

datatrove lives only in a separate benchmark environment (never a project dependency):

    python3 -m venv /tmp/benchenv
    /tmp/benchenv/bin/pip install -e . 'datatrove==0.10.1' spacy
    /tmp/benchenv/bin/python bench/filter_speed.py [DATA] [--min-docs 5000] [--batch 1000]

datatrove 0.10.1's filters need no NLTK data: its English word and sentence splitting is
spaCy's blank "en" pipeline plus the rule-based sentencizer (spacy.blank needs no model
download), so `spacy` is the only extra. Every filter runs with language "eng" (datatrove's
default): its zh/ja/th tokenizers need jieba, SudachiPy or PyThaiNLP.

DATA defaults to ../shared/data beside the repository. Documents: `text` of
DATA/cc-text/dolma/*.jsonl.gz (lang en), the gold `articleBody` texts of
DATA/html/scrapinghub-article-extraction-benchmark/ground-truth.json (lang en, or ja/zh when
mostly written without spaces) and the UDHR in a few languages (DATA/lang/udhr/txt), tiled until
there are at least --min-docs. Each family runs, on one CPU (sched_setaffinity): ours over all
documents in batches of --batch (score + keep, the pipeline's work); datatrove's `filter()` per
document over the first --datatrove-copies copies of the unique set (it is 10-50x slower: all
of them would take too long; whole copies keep the same mix of documents). Agreement: share of
documents where both keep or both drop, at equal thresholds (both sides' defaults: the paper
values); `agreement_en` over the documents labelled en, where no deliberate difference
(per-language stop words, character segmentation) applies.
Last line: one JSON object; `ratio` = ours docs/s / datatrove docs/s.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import math
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from filters.base import Batch, FilterConfigError, TextModifier, ThresholdTable  # noqa: E402
from filters.registry import get_filter  # noqa: E402
from pipeline.text import spaceless_ratio  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
UDHR = {"eng": "en", "fra": "fr", "deu_1996": "de", "spa": "es", "rus": "ru", "cmn_hans": "zh", "jpn": "ja"}
# family -> (our filters, in pipeline order; datatrove class name)
FAMILIES = {
    "gopher_quality": (["gopher_quality_v1"], "GopherQualityFilter"),
    "gopher_repetition": (["gopher_repetition_v1"], "GopherRepetitionFilter"),
    "c4": (["c4_lines_v1", "c4_v1"], "C4QualityFilter"),
    "fineweb": (["fineweb_v1"], "FineWebQualityFilter"),
}
_KANA = re.compile(r"[\u3040-\u30ff]")
SETUP = ("python3 -m venv /tmp/benchenv && /tmp/benchenv/bin/pip install -e {root} 'datatrove==0.10.1' spacy\n"
         "then: /tmp/benchenv/bin/python bench/filter_speed.py")


def load_documents(data: Path) -> list[tuple[str, str]]:
    """(text, lang) of every source document, in a fixed order."""
    docs = []
    for path in sorted(glob.glob(str(data / "cc-text" / "dolma" / "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            docs += [(json.loads(line)["text"], "en") for line in fh if line.strip()]
    gold = data / "html" / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if gold.is_file():
        for item in json.loads(gold.read_text(encoding="utf-8")).values():
            text = item.get("articleBody") or ""
            lang = ("ja" if _KANA.search(text) else "zh") if spaceless_ratio(text) > 0.3 else "en"
            docs.append((text, lang))
    for code, lang in UDHR.items():
        path = data / "lang" / "udhr" / "txt" / f"{code}.txt"
        if path.is_file():
            docs.append((path.read_text(encoding="utf-8"), lang))
    return docs


def ours_family(names: list[str]):
    """(run(texts, langs) -> keep mask) for our filters of a family, or None if one is missing."""
    try:
        chain = [get_filter(name)({}) for name in names]
    except FilterConfigError:
        return None
    tables = [ThresholdTable(f.Thresholds) for f in chain]

    def run(texts, langs):
        keep = np.ones(len(texts), dtype=bool)
        for f, table in zip(chain, tables):
            batch = Batch(texts, langs)
            if isinstance(f, TextModifier):
                texts, scores = f.apply(batch)
            else:
                scores = f.score(batch)
            keep &= f.keep(scores, langs, table)[0]
        return keep
    return run


def time_ours(run, texts, langs, batch_size):
    start = time.perf_counter()
    keep = [run(texts[i:i + batch_size], langs[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
    return time.perf_counter() - start, np.concatenate(keep)


def time_datatrove(step, texts):
    from datatrove.data import Document

    keep = np.empty(len(texts), dtype=bool)
    start = time.perf_counter()
    for i, text in enumerate(texts):
        result = step.filter(Document(text=text, id=str(i)))
        keep[i] = result[0] if isinstance(result, tuple) else bool(result)
    return time.perf_counter() - start, keep


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--min-docs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--datatrove-copies", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        import spacy  # noqa: F401
        from datatrove.pipeline import filters as dt_filters
    except ImportError as err:
        print(f"bench/filter_speed.py: {err.name} is not installed in {sys.executable}.\n"
              f"datatrove is benchmark-only; create its environment:\n{SETUP.format(root=ROOT)}", file=sys.stderr)
        return 2
    data = Path(args.data)
    unique = load_documents(data)
    if not unique:
        print(f"bench/filter_speed.py: no documents under {data} (expected cc-text/dolma/*.jsonl.gz, ...)",
              file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    copies = math.ceil(args.min_docs / len(unique))
    texts = [t for t, _ in unique] * copies
    langs = [lang for _, lang in unique] * copies
    dt_docs = min(len(texts), len(unique) * max(1, args.datatrove_copies))
    english = np.array([lang == "en" for lang in langs[:dt_docs]])
    print(f"{len(texts)} documents ({len(unique)} unique x {copies}; {int(english[:len(unique)].sum())} en), "
          f"{sum(map(len, texts)) / len(texts):.0f} characters on average, one CPU; "
          f"datatrove on the first {dt_docs}")

    families, skipped = {}, []
    for family, (names, dt_name) in FAMILIES.items():
        run = ours_family(names)
        if run is None:
            skipped.append(f"{family}: {', '.join(names)} not registered yet")
            print(f"  {family:18s} skipped: {skipped[-1]}")
            continue
        step = getattr(dt_filters, dt_name)()
        run(texts[:20], langs[:20])                       # warm-up: lazy word lists, spaCy pipeline
        time_datatrove(step, texts[:20])
        ours_s, ours_keep = time_ours(run, texts, langs, args.batch)
        dt_s, dt_keep = time_datatrove(step, texts[:dt_docs])
        agree = ours_keep[:dt_docs] == dt_keep
        ours_rate, dt_rate = len(texts) / ours_s, dt_docs / dt_s
        families[family] = {
            "ours_docs_per_s": round(ours_rate, 1), "datatrove_docs_per_s": round(dt_rate, 1),
            "ratio": round(ours_rate / dt_rate, 2), "agreement": round(float(agree.mean()), 4),
            "agreement_en": round(float(agree[english].mean()), 4),
            "kept_ours": round(float(ours_keep[:dt_docs].mean()), 4), "kept_datatrove": round(float(dt_keep.mean()), 4),
            "docs": [len(texts), dt_docs], "seconds": [round(ours_s, 3), round(dt_s, 3)]}
        f = families[family]
        print(f"  {family:18s} ours {f['ours_docs_per_s']:9.1f} docs/s  "
              f"datatrove {f['datatrove_docs_per_s']:8.1f} docs/s  x{f['ratio']:<6}  "
              f"agreement {f['agreement']:.4f} (en {f['agreement_en']:.4f})  "
              f"kept {f['kept_ours']:.3f} / {f['kept_datatrove']:.3f}")
        for i in np.flatnonzero(~agree[:len(unique)])[:5]:
            print(f"    differs: doc {i} ({langs[i]}) ours keep={ours_keep[i]} datatrove keep={dt_keep[i]}: "
                  f"{texts[i][:70]!r}")
    if not families:
        print("bench/filter_speed.py: none of our filters is registered", file=sys.stderr)
        return 1
    # every family on each document, one after the other: seconds per document add up
    ours_rate = 1 / sum(1 / f["ours_docs_per_s"] for f in families.values())
    dt_rate = 1 / sum(1 / f["datatrove_docs_per_s"] for f in families.values())
    summary = {"docs": len(texts), "unique_docs": len(unique), "batch": args.batch, "families": families,
               "skipped": skipped, "ours_docs_per_s": round(ours_rate, 1),
               "datatrove_docs_per_s": round(dt_rate, 1), "ratio": round(ours_rate / dt_rate, 2),
               "agreement": round(float(np.mean([f["agreement"] for f in families.values()])), 4),
               "agreement_en": round(float(np.mean([f["agreement_en"] for f in families.values()])), 4)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
