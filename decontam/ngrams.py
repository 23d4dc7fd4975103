"""Normalised n-grams as 64-bit hashes, with the character span each one covers, a batch at a time.

Normalisation as the decontamination papers do it (GPT-3 appendix C, Llama 3 §5.1.4): lowercase,
punctuation and symbols dropped, whitespace collapsed; that is, the n-grams run over the text's
word tokens (maximal runs of `\\w` characters), so case, punctuation and spacing never hide a
match. Text written mostly in scripts without spaces (Chinese, Japanese, Thai...) is cut into
characters instead, and its n-grams are `char_n` characters long. Evaluation examples and
documents go through this one function, so they always agree on the tokens.

Python only joins the batch's texts; lowercasing (one character to one, so offsets stay the
text's), tokenising and hashing are vectorised over the whole batch with numpy and per-code-point
tables. A token's hash is a polynomial hash of its characters
and an n-gram's a polynomial hash of its tokens' hashes, both taken from prefix sums and normalised
to their start (mod 2^64), then mixed: a function of the n-gram's text only, never of its position
or batch. Spans are character offsets into the original text, so a match can be cut out of it.
Memory: about 60 bytes per character of the batch; feed batches of bounded size (Arrow's).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from pipeline.text import spaceless_ratio

_U64 = np.uint64
SPACELESS_RATIO = 0.3        # above this share of space-less script characters, n-grams are characters
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


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code point, built once per process (about half a second): its lowercase (when that is one
    character: offsets stay the text's), whether it is a word character (Python's `\\w`:
    alphanumerics and '_'), and whether its script is written without spaces (all in the BMP)."""
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
    spaceless = np.fromiter((spaceless_ratio(chr(c)) > 0 for c in range(0x10000)), dtype=bool, count=0x10000)
    return lower, word, np.concatenate([spaceless, np.zeros(0x110000 - 0x10000, dtype=bool)])


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB93FE53B8A63)
    return h ^ (h >> _U64(33))


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


def batch_ngrams(texts: Sequence[str], spec: NgramSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, text index, span start, span end) of every n-gram of every text, in text order; a
    text with fewer than n tokens has none."""
    lower, is_word, is_spaceless = _tables()
    texts = [t or "" for t in texts]
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    raw = np.frombuffer((_SEP.join(texts) + _SEP).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = lower[raw]
    word = is_word[raw]
    # Texts written mostly without spaces: found from one count per text, and only a batch that
    # holds a space-less character at all pays for a per-character mask.
    marks = is_spaceless[raw]
    spaceless = np.zeros(len(texts), dtype=bool)
    previous = np.concatenate(([False], word[:-1]))
    following = np.concatenate((word[1:], [False]))
    starts, ends = word & ~previous, word & ~following
    if marks.any():
        counts = np.add.reduceat(marks.astype(np.int64), offsets[:-1]) if len(texts) else np.zeros(0, np.int64)
        spaceless = (counts > SPACELESS_RATIO * (lengths - 1)) & (lengths > 1)
        if spaceless.any():
            per_char = np.repeat(spaceless, lengths)
            starts |= word & per_char
            ends |= word & per_char
    starts = np.flatnonzero(starts)
    ends = np.flatnonzero(ends) + 1
    empty = np.zeros(0, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros(0, dtype=_U64), empty, empty, empty
    # Token hashes: a polynomial over the characters, from one prefix sum, normalised to the token's start.
    values = codes.astype(_U64) + _U64(1)
    prefix = np.zeros(len(codes) + 1, dtype=_U64)
    np.cumsum(values * _powers(_BASE, len(codes)), out=prefix[1:])
    token = _fmix64((prefix[ends] - prefix[starts]) * _powers(_BASE_INV, len(codes))[starts])
    # N-grams: windows of n tokens inside one text, hashed the same way over the token hashes.
    doc = np.searchsorted(offsets, starts, side="right") - 1
    counts = np.bincount(doc, minlength=len(texts))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n = np.where(spaceless, spec.char_n, spec.word_n)
    position = np.arange(len(starts)) - first[doc]
    valid = np.flatnonzero(position + n[doc] <= counts[doc])
    tprefix = np.zeros(len(token) + 1, dtype=_U64)
    np.cumsum(token * _powers(_TOKEN_BASE, len(token)), out=tprefix[1:])
    last = valid + n[doc[valid]]
    grams = _fmix64((tprefix[last] - tprefix[valid]) * _powers(_TOKEN_BASE_INV, len(token))[valid])
    docs = doc[valid]
    return grams, docs, starts[valid] - offsets[docs], ends[last - 1] - offsets[docs]


def ngram_hashes(text: str, spec: NgramSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, span starts, span ends) of one text's n-grams: its slice of batch_ngrams."""
    hashes, _, starts, ends = batch_ngrams([text], spec)
    return hashes, starts, ends
