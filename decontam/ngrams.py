"""Normalised n-grams as 64-bit hashes, with the character span each one covers, a batch at a time.

Normalisation as the decontamination papers do it (GPT-3 appendix C, Llama 3 §5.1.4): lowercase,
punctuation and symbols dropped, whitespace collapsed; that is, the n-grams run over the text's
word tokens (maximal runs of `\\w` characters), so case, punctuation and spacing never hide a
match. Text written mostly in scripts without spaces (Chinese, Japanese, Thai...) is cut into
characters instead, and its n-grams are `char_n` characters long. Evaluation examples and
documents go through this one function, so they always agree on the tokens.

Python only joins the texts; lowercasing (one character to one, so offsets stay the text's),
tokenising and hashing are vectorised over runs of texts with numpy and one per-code-point table.
A token's hash is a polynomial hash of its characters, mixed, and an n-gram's a polynomial hash of
its tokens' hashes, both taken from prefix sums and normalised to their start (mod 2^64): a function
of the n-gram's text only, never of its position or batch. Spans are character offsets into the
original text, so a match can be cut out of it.
Memory: about 60 bytes per character of a run of CHUNK_CHARS (8 MB), whatever the batch's size.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Sequence

import numpy as np

from pipeline.text import spaceless_ratio

_U64 = np.uint64
SPACELESS_RATIO = 0.3        # above this share of space-less script characters, n-grams are characters
CHUNK_CHARS = 1 << 17        # characters hashed at once: 1 MB per array of 64-bit values, in cache
_SEP = "\x00"                # between texts of a batch: not a word character
_BASE = 0x100000001B3        # odd: invertible modulo 2^64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_TOKEN_BASE = 0x9E3779B97F4A7C15 | 1
_TOKEN_BASE_INV = pow(_TOKEN_BASE, -1, 1 << 64)


@dataclass(frozen=True)
class NgramSpec:
    word_n: int = 13          # tokens per n-gram for space-separated scripts
    char_n: int = 20          # characters per n-gram for scripts without spaces

    def __post_init__(self):
        if self.word_n < 1 or self.char_n < 1:
            raise ValueError("n-gram sizes must be >= 1")


_SPACELESS_BIT = _U64(1 << 33)  # in a code point's table entry: its script is written without spaces
_WORD_BIT = _U64(1 << 34)       # ... it is a word character (the highest bit: one comparison finds it)


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, int]:
    """Per code point, built once per process (about half a second): its lowercase (when that is one
    character: offsets stay the text's) plus one, ORed with _WORD_BIT for a word character (Python's
    `\\w`: alphanumerics and '_') and _SPACELESS_BIT for a script written without spaces (all in
    the BMP); and the lowest such code point. One table is one gather per character (three were
    a third of the time), and a token's hash may include the flags: they are its characters' own."""
    lower = np.arange(0x110000, dtype=np.uint32)
    word = np.zeros(0x110000, dtype=bool)
    for code in range(0x110000):
        char = chr(code)
        if char.isalnum():
            word[code] = True
        folded = char.lower()
        if folded != char and len(folded) == 1:
            lower[code] = ord(folded)
    word[ord("_")] = True
    spaceless = np.zeros(0x110000, dtype=bool)
    spaceless[:0x10000] = np.fromiter((spaceless_ratio(chr(c)) > 0 for c in range(0x10000)), dtype=bool, count=0x10000)
    table = (lower.astype(_U64) + _U64(1)) | np.where(word, _WORD_BIT, _U64(0)) | np.where(spaceless, _SPACELESS_BIT, _U64(0))
    return table, int(np.flatnonzero(spaceless)[0])


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, in place on `h` (a fresh array), which it returns."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB93FE53B8A63)
    h ^= h >> _U64(33)
    return h


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, count: int) -> np.ndarray:
    """base^0 .. base^(count-1) modulo 2^64 (numpy's uint64 products wrap, which is the modulus),
    cached per process and grown by doubling: batches reuse them."""
    table = _POWERS.get(base)
    if table is None or len(table) < count:
        size = max(count, 2 * len(table) if table is not None else 1 << 16)
        table = np.full(size, base, dtype=_U64)
        table[0] = 1
        _POWERS[base] = table = np.cumprod(table, dtype=_U64)
    return table[:count]


def _prefix_sums(values: np.ndarray, base: int) -> np.ndarray:
    """[0, v0, v0 + v1*base, ...]: the polynomial prefix sums of `values` (overwritten)."""
    np.multiply(values, _powers(base, len(values)), out=values)
    prefix = np.empty(len(values) + 1, dtype=_U64)
    prefix[0] = 0
    np.cumsum(values, out=prefix[1:])
    return prefix


@dataclass(frozen=True)
class NgramRun:
    """The n-grams of a run of texts: their hashes and texts, and spans on demand (the few wanted)."""
    hashes: np.ndarray          # uint64, one per n-gram, in text order
    docs: np.ndarray            # the text of each, as an index into the run
    begin: int                  # the run's first text, as an index into all the texts given
    first: np.ndarray           # each n-gram's first token
    last: np.ndarray            # one past its last token
    token_starts: np.ndarray    # each token's span in the run's joined text
    token_ends: np.ndarray
    offsets: np.ndarray         # each text's start in the joined text

    def rows(self, keep=slice(None)) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hashes, text index among all texts, span start, span end) of the n-grams at `keep`."""
        docs = self.docs[keep]
        return (self.hashes[keep], docs + self.begin, self.token_starts[self.first[keep]] - self.offsets[docs],
                self.token_ends[self.last[keep] - 1] - self.offsets[docs])


def batch_ngrams(texts: Sequence[str], spec: NgramSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, text index, span start, span end) of every n-gram of every text, in text order; a
    text with fewer than n tokens has none."""
    parts = [run.rows() for run in iter_ngrams(texts, spec)] or [_run([], spec, 0).rows()]
    return parts[0] if len(parts) == 1 else tuple(np.concatenate(column) for column in zip(*parts))


def iter_ngrams(texts: Sequence[str], spec: NgramSpec) -> Iterator[NgramRun]:
    """The n-grams of runs of about CHUNK_CHARS characters of texts. Spark's Arrow batches hold up to
    10,000 documents: arrays of a whole batch would take 60 bytes a character (1.5 GB for 25 M
    characters), run slower out of the CPU's caches, and fault in fresh pages."""
    begin, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text or "") + 1
        if size >= CHUNK_CHARS or i == len(texts) - 1:
            yield _run([t or "" for t in texts[begin:i + 1]], spec, begin)
            begin, size = i + 1, 0


def _run(texts: list[str], spec: NgramSpec, begin: int) -> NgramRun:
    table, first_spaceless = _table()
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Code points as intp: numpy's gather converts any other index type first, at twice the cost.
    raw = np.frombuffer((_SEP.join(texts) + _SEP).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.intp)
    values = table.take(raw)
    word = values >= _WORD_BIT
    # Texts written mostly without spaces: found from one count per text, and only a batch that
    # holds a space-less character at all pays for a per-character mask.
    spaceless = np.zeros(len(texts), dtype=bool)
    if len(raw) and raw.max() >= first_spaceless:
        marks = (values & _SPACELESS_BIT).astype(bool)
        counts = np.add.reduceat(marks.astype(np.int64), offsets[:-1]) if len(texts) else np.zeros(0, np.int64)
        spaceless = (counts > SPACELESS_RATIO * (lengths - 1)) & (lengths > 1)
    # (flatnonzero on booleans: on int8 it is 5x slower.)
    if spaceless.any():   # each word character of those texts is a token
        previous = np.concatenate(([False], word[:-1]))
        following = np.concatenate((word[1:], [False]))
        per_char = word & np.repeat(spaceless, lengths)
        starts = np.flatnonzero(word & ~previous | per_char)
        ends = np.flatnonzero(word & ~following | per_char) + 1
    else:                 # tokens start and end where `word` changes: alternately, as the last character is _SEP
        padded = np.concatenate(([False], word))
        changes = np.flatnonzero(padded[1:] != padded[:-1])
        starts, ends = changes[0::2], changes[1::2]
    # Token hashes: a polynomial over the characters, from one prefix sum, normalised to the token's start.
    prefix = _prefix_sums(values, _BASE)
    token = _fmix64((prefix[ends] - prefix[starts]) * _powers(_BASE_INV, len(raw))[starts])
    # N-grams: windows of n tokens inside one text (from each text's first token and count, not a
    # search per token), hashed the same way over the token hashes.
    first = np.searchsorted(starts, offsets[:-1])
    counts = np.diff(np.append(first, len(starts)))
    n = np.where(spaceless, spec.char_n, spec.word_n)
    per_text = np.maximum(counts - n + 1, 0)
    docs = np.repeat(np.arange(len(texts)), per_text)
    valid = np.arange(len(docs)) + np.repeat(first - (np.cumsum(per_text) - per_text), per_text)
    last = valid + n[docs]
    # (Not mixed again: a bijection cannot part colliding n-grams, and every bit of the sum already
    # depends on the mixed token hashes.)
    tprefix = _prefix_sums(token, _TOKEN_BASE)
    grams = (tprefix[last] - tprefix[valid]) * _powers(_TOKEN_BASE_INV, len(starts))[valid]
    return NgramRun(grams, docs, begin, valid, last, starts, ends, offsets)


def ngram_hashes(text: str, spec: NgramSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, span starts, span ends) of one text's n-grams: its slice of batch_ngrams."""
    hashes, _, starts, ends = batch_ngrams([text], spec)
    return hashes, starts, ends
