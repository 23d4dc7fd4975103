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
from decontam.ngrams import NgramSpec, batch_ngrams

OCCURRENCE_SCHEMA = pa.schema([
    pa.field("id", pa.string()),
    pa.field("ngram", pa.int64()),          # the uint64 hash, viewed as int64 (Spark has no unsigned type)
    pa.field("benchmark", pa.int32()),      # index into the index's benchmark names
    pa.field("start", pa.int64()),          # character span of the n-gram in the document's text
    pa.field("end", pa.int64()),
])
CUT_SEPARATOR = "\n\n"


_FILTERS: dict[tuple, np.ndarray] = {}


def _arrays(index) -> tuple[np.ndarray, np.ndarray]:
    """The (hashes, benchmarks) arrays, from a Spark broadcast (loaded once per Python worker) or as given."""
    return index.value if hasattr(index, "value") else index


def _bitmap(hashes: np.ndarray) -> tuple[np.ndarray, int]:
    """A one-hash Bloom filter of the index (about 16 bits per n-gram, 8 KB to 256 MB), built once
    per worker: almost every document n-gram is rejected by one memory access, and only the rest pay
    for the binary search. Returns the bit array (as bytes) and the shift that picks a bit."""
    key = (len(hashes), int(hashes[0]) if len(hashes) else 0, int(hashes[-1]) if len(hashes) else 0)
    bits = int(min(max(1 << 16, 1 << int(np.ceil(np.log2(max(len(hashes), 1) * 16)))), 1 << 31))
    shift = 64 - bits.bit_length() + 1
    if key not in _FILTERS:
        _FILTERS.clear()
        table = np.zeros(bits // 8, dtype=np.uint8)
        slots = hashes >> np.uint64(shift)
        np.bitwise_or.at(table, (slots >> np.uint64(3)).astype(np.int64),
                         (np.uint8(1) << (slots & np.uint64(7)).astype(np.uint8)))
        _FILTERS[key] = table
    return _FILTERS[key], shift


def _candidates(grams: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Positions of `grams` found in the index: the bitmap first, then a binary search of the few left."""
    if len(grams) == 0 or len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    table, shift = _bitmap(hashes)
    slots = grams >> np.uint64(shift)
    maybe = np.flatnonzero(table[(slots >> np.uint64(3)).astype(np.int64)] & (np.uint8(1) << (slots & np.uint64(7)).astype(np.uint8)))
    return maybe[lookup(grams[maybe], hashes)]


def find_matches(batches: Iterable[pa.RecordBatch], *, index, spec: NgramSpec) -> Iterator[pa.RecordBatch]:
    hashes, benchmarks = _arrays(index)
    for batch in batches:
        ids = batch.column("id").to_pylist()
        grams, docs, starts, ends = batch_ngrams(batch.column("text").to_pylist(), spec)
        found = _candidates(grams, hashes)
        # An n-gram can belong to several benchmarks: one row per (occurrence, benchmark).
        lo = np.searchsorted(hashes, grams[found], side="left")
        hi = np.searchsorted(hashes, grams[found], side="right")
        repeat = hi - lo
        at = np.repeat(found, repeat)
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
