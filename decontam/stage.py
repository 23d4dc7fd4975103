"""The decontam stage's executor side, on Arrow batches (no pyspark): find evaluation n-grams in
documents, and cut matched spans out of a document's text.

`find_matches` scans documents against the broadcast index (sorted hashes: one vectorised binary
search per batch, O(n log m), never a comparison of pairs) and yields one row per occurrence:
(id, ngram, benchmark, start, end). Matches are rare, so these rows are few. `cut_batches` removes
each matched span with a margin, as GPT-3 did, and keeps the pieces long enough to stand alone.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from decontam.evalsets import lookup
from decontam.ngrams import NgramSpec, iter_ngrams

OCCURRENCE_SCHEMA = pa.schema([
    pa.field("id", pa.string()),
    pa.field("ngram", pa.int64()),          # the uint64 hash, viewed as int64 (Spark has no unsigned type)
    pa.field("benchmark", pa.int32()),      # index into the index's benchmark names
    pa.field("start", pa.int64()),          # character span of the n-gram in the document's text
    pa.field("end", pa.int64()),
])
CUT_SEPARATOR = "\n\n"


_FILTERS: dict[tuple, tuple[np.ndarray, np.uint64]] = {}


def _arrays(index) -> tuple[np.ndarray, np.ndarray]:
    """The (hashes, benchmarks) arrays, from a Spark broadcast (loaded once per Python worker) or as given."""
    return index.value if hasattr(index, "value") else index


def _bloom(hashes: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """A blocked Bloom filter of the (sorted) index, built once per worker: about 16 bits per n-gram
    (8 KB to 256 MB) in 64-bit words; an n-gram sets two bits (picked by its lowest twelve bits) of
    one word (picked by its top bits). A document n-gram is tested with one memory access, and only
    the 0.5-2% that pass pay for a binary search (one bit per n-gram let 6% through, twice the search
    time of the whole test). Returns the words and the shift that picks one."""
    key = (len(hashes), int(hashes[0]) if len(hashes) else 0, int(hashes[-1]) if len(hashes) else 0)
    if key not in _FILTERS:
        _FILTERS.clear()
        words = int(min(max(1 << 10, 1 << int(np.ceil(np.log2(max(len(hashes), 1) / 4)))), 1 << 25))
        shift = np.uint64(64 - (words.bit_length() - 1))
        table = np.zeros(words, dtype=np.uint64)
        if len(hashes):
            slots = (hashes >> shift).astype(np.intp)      # sorted, as the hashes are
            heads = np.flatnonzero(np.concatenate(([True], slots[1:] != slots[:-1])))
            table[slots[heads]] = np.bitwise_or.reduceat(_bits(hashes), heads)
        _FILTERS[key] = (table, shift)
    return _FILTERS[key]


_TWO_BITS = np.array([(1 << (low & 63)) | (1 << (low >> 6)) for low in range(4096)], dtype=np.uint64)


def _bits(hashes: np.ndarray) -> np.ndarray:
    """The two bits of its word that each hash sets: a table of the 4,096 pairs (one gather, in L1)."""
    return _TWO_BITS.take((hashes & np.uint64(4095)).astype(np.intp))


def _candidates(grams: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Positions of `grams` found in the index: the Bloom filter first, then a binary search of the few left."""
    if len(grams) == 0 or len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    table, shift = _bloom(hashes)
    bits = _bits(grams)
    maybe = np.flatnonzero((table.take((grams >> shift).astype(np.intp)) & bits) == bits)
    return maybe[lookup(grams[maybe], hashes)]


def find_matches(batches: Iterable[pa.RecordBatch], *, index, spec: NgramSpec) -> Iterator[pa.RecordBatch]:
    hashes, benchmarks = _arrays(index)
    for batch in batches:
        ids = batch.column("id").to_pylist()
        # Only each run's found rows are kept: a batch's n-grams are never all held at once.
        runs = [run.rows(_candidates(run.hashes, hashes)) for run in iter_ngrams(batch.column("text").to_pylist(), spec)]
        if not runs:
            continue
        grams, docs, starts, ends = (np.concatenate(column) for column in zip(*runs))
        # An n-gram can belong to several benchmarks: one row per (occurrence, benchmark).
        lo = np.searchsorted(hashes, grams, side="left")
        hi = np.searchsorted(hashes, grams, side="right")
        repeat = hi - lo
        at = np.repeat(np.arange(len(grams)), repeat)
        entry = np.repeat(lo - np.cumsum(repeat) + repeat, repeat) + np.arange(repeat.sum())
        yield pa.record_batch([
            pa.array([ids[d] for d in docs[at]], pa.string()),
            pa.array(grams[at].view(np.int64), pa.int64()),
            pa.array(benchmarks[entry], pa.int32()),
            pa.array(starts[at], pa.int64()),
            pa.array(ends[at], pa.int64()),
        ], schema=OCCURRENCE_SCHEMA)


def cut_text(text: str, spans: list[tuple[int, int]], margin: int, min_piece_chars: int,
             max_pieces: int) -> tuple[str | None, int]:
    """(the text without the spans, each widened by `margin` characters, keeping only pieces of at
    least `min_piece_chars`; characters removed). None when nothing is left or the document falls
    into more than `max_pieces` pieces (GPT-3 dropped those: what remains is mostly fragments)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        start, end = max(0, start - margin), min(len(text), end + margin)
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, cursor = [], 0
    for start, end in merged:
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    kept = [piece.strip() for piece in pieces if len(piece.strip()) >= min_piece_chars]
    if not kept or len(kept) > max_pieces:
        return None, len(text)
    return CUT_SEPARATOR.join(kept), len(text) - sum(map(len, kept))


def cut_batches(batches: Iterable[pa.RecordBatch], *, output_schema: pa.Schema, margin: int, min_piece_chars: int,
                max_pieces: int) -> Iterator[pa.RecordBatch]:
    """Documents with their matched `spans` and `reason` in; `output_schema`'s columns out: the text cut,
    `decontam__cut_chars`, and `drop_reason` = `reason` where nothing usable is left."""
    for batch in batches:
        table = pa.Table.from_batches([batch])
        texts, cuts, reasons = [], [], []
        for text, spans, reason in zip(table.column("text").to_pylist(), table.column("spans").to_pylist(),
                                       table.column("reason").to_pylist()):
            result, removed = cut_text(text or "", [(s["start"], s["end"]) for s in spans or []], margin,
                                       min_piece_chars, max_pieces)
            texts.append(result if result is not None else text)
            cuts.append(removed)
            reasons.append(None if result is not None else reason)
        replaced = {"text": pa.array(texts, pa.string()), "decontam__cut_chars": pa.array(cuts, pa.int64()),
                    "drop_reason": pa.array(reasons, pa.string())}
        yield pa.record_batch([replaced[f.name] if f.name in replaced else table.column(f.name).combine_chunks()
                               for f in output_schema], schema=output_schema)
