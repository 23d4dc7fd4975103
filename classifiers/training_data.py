"""Labelled training sets for the classifiers, built three ways (classifiers/training.py's recipes).

- labelled files: a text column and a label column (quality hq/lq, or domains code/math/...);
- reference vs crawl (DCLM and Llama 3 style): positives are a reference set the user supplies
  (DCLM: OpenHermes 2.5 and ELI5 answers; Llama 3: pages Wikipedia cites), negatives a seeded
  sample of the crawl output, as many as positives (balanced) unless told otherwise;
- teacher -> student: an annotation file holding text and a teacher's score (an LLM judge, as
  FineWeb-Edu's Llama-3-70B annotations, or the bundled trainer's perplexity, see
  jobs/perplexity_teacher.py); scores become hq/lq by a threshold or a top percent, and
  the scores travel along so the student's ranking can be compared with the teacher's.

Files are Parquet or JSONL (.jsonl/.json/.ndjson, optionally .gz), or directories of Parquet
parts (a stage's output). Crawl negatives are streamed batch by batch and chosen by the
smallest seeded hashes, so the sample is the same whatever the file order and memory stays
bounded by the sample size. No pyspark here.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pyarrow as pa

from pipeline.config import ConfigError
from pipeline.io import InputError

POSITIVE, NEGATIVE = "hq", "lq"
_JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class LabelledSet:
    texts: list[str]
    labels: list[str]
    scores: list[float] | None = None      # the teacher's scores, aligned with texts
    dropped: int = 0                       # rows without text (or label / score)
    provenance: dict = field(default_factory=dict)


def from_labelled(paths: list[str], text_column: str, label_column: str) -> LabelledSet:
    texts, labels, dropped = [], [], 0
    for path in paths:
        for batch in iter_batches(path, [text_column, label_column]):
            for text, label in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                if text is None or label is None:
                    dropped += 1
                    continue
                texts.append(_text(text, path, text_column))
                labels.append(label_str(label))
    return LabelledSet(texts, labels, dropped=dropped,
                       provenance={"recipe": "labelled", "input": list(paths), "text_column": text_column,
                                   "label_column": label_column})


def from_reference(positives: list[str], negatives: list[str], text_column: str, *, seed: int,
                   negatives_per_positive: float = 1.0) -> LabelledSet:
    """Every reference text as hq; round(n * negatives_per_positive) crawl texts as lq, chosen by
    the smallest seeded hashes of their text among those not also in the reference set."""
    if negatives_per_positive <= 0:
        raise ConfigError(f"--negatives-per-positive must be > 0, got {negatives_per_positive}")
    pos = [_text(t, path, text_column) for path in positives for batch in iter_batches(path, [text_column])
           for t in batch.column(0).to_pylist() if t]
    if not pos:
        raise ConfigError(f"no reference texts in column {text_column!r} of {', '.join(positives)}")
    reference = set(pos)
    wanted = round(len(pos) * negatives_per_positive)
    sampled, seen = _smallest_hashes(negatives, text_column, wanted, seed, exclude=reference)
    if len(sampled) < wanted:
        print(f"[train_classifier] warning: the crawl sample has {len(sampled)} usable texts, fewer than the "
              f"{wanted} wanted; the training set is unbalanced", flush=True)
    return LabelledSet(pos + sampled, [POSITIVE] * len(pos) + [NEGATIVE] * len(sampled),
                       provenance={"recipe": "reference_vs_crawl", "positives": list(positives),
                                   "negatives": list(negatives), "negatives_seen": seen,
                                   "negatives_per_positive": negatives_per_positive, "sample_seed": seed})


def from_teacher(paths: list[str], text_column: str, score_column: str, *, min_score: float | None = None,
                 top_percent: float | None = None) -> LabelledSet:
    """hq where the teacher's score >= min_score (or is in the top `top_percent` percent)."""
    if (min_score is None) == (top_percent is None):
        raise ConfigError("teacher labels need exactly one of --teacher-min-score or --teacher-top-percent")
    if top_percent is not None and not 0 < top_percent < 100:
        raise ConfigError(f"--teacher-top-percent must be between 0 and 100 (exclusive), got {top_percent}")
    texts, scores, dropped = [], [], 0
    for path in paths:
        for batch in iter_batches(path, [text_column, score_column]):
            for text, score in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                if not text or score is None or (isinstance(score, float) and np.isnan(score)):
                    dropped += 1
                    continue
                if isinstance(score, bool) or not isinstance(score, (int, float)):
                    raise ConfigError(f"{path}: column {score_column!r} holds {type(score).__name__} values, "
                                      "not numbers")
                texts.append(_text(text, path, text_column))
                scores.append(float(score))
    if not texts:
        raise ConfigError(f"no scored texts in {', '.join(paths)}")
    cut = min_score if min_score is not None else float(np.percentile(scores, 100 - top_percent, method="higher"))
    labels = [POSITIVE if s >= cut else NEGATIVE for s in scores]
    return LabelledSet(texts, labels, scores=scores, dropped=dropped,
                       provenance={"recipe": "teacher_student", "input": list(paths), "score_column": score_column,
                                   "teacher_min_score": cut, "teacher_top_percent": top_percent})


def iter_batches(path: str, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Record batches holding `columns`, in order, from a Parquet or JSONL file or a Parquet directory."""
    import pyarrow.dataset as ds

    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    name = path.lower()
    try:
        if os.path.isdir(path) or name.endswith(_PARQUET_SUFFIXES):
            dataset = ds.dataset(path, format="parquet", exclude_invalid_files=True)
            _require(path, dataset.schema.names, columns)
            yield from dataset.to_batches(columns=columns)
        elif name.endswith(_JSON_SUFFIXES):
            import pyarrow.json as pj

            table = pj.read_json(path)
            _require(path, table.column_names, columns)
            yield from table.select(columns).to_batches()
        else:
            raise InputError(f"{path}: unknown format; expected .parquet, .jsonl[.gz] or a Parquet directory")
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: unreadable ({str(err).splitlines()[0][:200]})") from err


def label_str(label) -> str:
    if isinstance(label, bool):
        return str(label).lower()
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _require(path: str, names: list[str], columns: list[str]) -> None:
    for column in columns:
        if column not in names:
            raise ConfigError(f"{path}: no column {column!r} (columns: {', '.join(names)})")


def _text(value, path: str, column: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: column {column!r} holds {type(value).__name__} values, not text")
    return value


def _digest(text: str, seed: int) -> int:
    data = seed.to_bytes(8, "little", signed=True) + text.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _smallest_hashes(paths: list[str], column: str, wanted: int, seed: int, exclude: set[str]
                     ) -> tuple[list[str], int]:
    """The `wanted` texts with the smallest seeded hashes (ties impossible in practice), and how
    many rows were read. Keeps at most 2 * wanted candidates in memory."""
    candidates: list[tuple[int, str]] = []
    seen = 0
    for path in paths:
        for batch in iter_batches(path, [column]):
            for text in batch.column(0).to_pylist():
                seen += 1
                if not text or text in exclude:
                    continue
                candidates.append((_digest(text, seed), _text(text, path, column)))
                if len(candidates) >= 2 * max(wanted, 1):
                    candidates = sorted(candidates)[:wanted]
    return [text for _, text in sorted(candidates)[:wanted]], seen
