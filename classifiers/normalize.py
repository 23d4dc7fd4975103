"""The one text normalisation every classifier sees, at training and at inference.

A model is only as good as the match between the text it was trained on and the text it scores,
so training (jobs/train_classifier.py) and scoring call this same code, and the model's sidecar
records NORMALIZATION_VERSION; loading a model made under another version fails. Changing what
this computes means a new version string.

Steps, in order (deterministic, no locale or model):
1. keep the first `max_chars` characters, cut back to the last whitespace when there is one so
   that no word is cut in half (bounds the cost of huge documents);
2. lone surrogates become U+FFFD; NFKC (full-width letters, ligatures and compatibility digits
   become their plain forms), skipped for text already in NFKC;
3. lowercase;
4. control characters and line breaks (newline, NEL, U+2028/9) become spaces: fastText's
   `predict` refuses newlines and splits words on ASCII whitespace only;
5. every character that is not a letter, digit, combining mark, underscore or space becomes its
   own token, as fastText's reference preprocessing does ("end." -> "end .", "don't" ->
   "don ' t"); combining marks stay inside their word (Devanagari vowel signs, Thai tone marks);
6. no leading or trailing space. Runs of spaces are left: both backends split on them.

Steps 3-6 are per-code-point rules, so they run as two lookup tables over the batch's code points
(one numpy array; built once per process from pyarrow's own kernels on every code point, so that
they keep the meaning of the pyarrow (RE2) kernels they replace: utf8_lower, the break and
punctuation classes below, utf8_trim_whitespace). The per-document Python `re` of
classifier_norm_v1 cost six times fastText's own `predict`; the pyarrow kernels of the first v2
still cost as much as `predict` (the punctuation regex most of it); the tables cost under half of
that (bench/classify.py: ~50 us for a 4.8 KB text, fastText's predict ~120 us).
"""
from __future__ import annotations

import functools
import unicodedata
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NORMALIZATION_VERSION = "classifier_norm_v2"
MAX_CHARS = 20_000

_BREAKS = r"[\x00-\x1f\x7f\x85\x{2028}\x{2029}]"
_PUNCT = r"[^\p{L}\p{N}\p{M}_\s\p{Z}]"
_CODE_POINTS = 0x110000
# Per code point, after lowercasing and breaks to spaces: punctuation (a token of its own), and
# whitespace (trimmed at the ends).
_IS_PUNCT, _IS_SPACE = 1, 2
# Characters per run of steps 3-6: the arrays of a run stay in the CPU caches (twice as long and the
# run costs twice as much per character).
_RUN_CHARS = 1 << 18


def normalize_texts(texts: Sequence[str] | pa.Array, max_chars: int = MAX_CHARS) -> list[str]:
    """Every text normalised (module docstring); None counts as the empty text."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts = texts.to_pylist()
    prepared = [_prepare(text or "", max_chars) for text in texts]
    out: list[str] = []
    start, chars = 0, 0
    for end, text in enumerate(prepared, 1):      # runs of texts that fit in the CPU caches
        chars += len(text)
        if chars >= _RUN_CHARS or end == len(prepared):
            out += _lower_and_split(prepared[start:end])
            start, chars = end, 0
    return out


def _lower_and_split(prepared: list[str]) -> list[str]:
    """Steps 3-6 on texts already cut and in NFKC."""
    sizes = np.fromiter(map(len, prepared), np.int64, len(prepared))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    # surrogatepass: a lone surrogate stays one code point, which the table makes U+FFFD
    points = np.frombuffer("".join(prepared).encode("utf-32-le", "surrogatepass"), np.uint32)
    mapped_table, kind_table = _tables()
    kind = kind_table.take(points)         # take: a third of the time of indexing with an array
    punct = (kind & _IS_PUNCT).astype(np.intp)
    position = np.arange(len(points)) + 2 * np.cumsum(punct) - punct      # " c " for punctuation c
    out = np.full(len(points) + 2 * int(punct.sum()), 0x20, np.uint32)
    out[position] = mapped_table.take(points)
    text = out.tobytes().decode("utf-32-le")
    # Trimming: each document runs from its first to its last character that is not whitespace.
    solid = np.flatnonzero((kind & _IS_SPACE) == 0)
    first = np.searchsorted(solid, bounds[:-1])
    last = np.searchsorted(solid, bounds[1:]) - 1
    spans = [(int(position[solid[a]]), int(position[solid[b]]) + 1) if a <= b else (0, 0)
             for a, b in zip(first.tolist(), last.tolist())]
    return [text[a:b] for a, b in spans]


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(mapped, kind) per code point: what steps 2-4 make of it (lone surrogates U+FFFD, lowercase,
    breaks a space) and, for that, _IS_PUNCT | _IS_SPACE. From pyarrow's kernels applied to every
    code point (about a second, once per process: classifiers/scoring.py builds them before it
    forks its sandbox child)."""
    code_points = np.arange(_CODE_POINTS, dtype=np.uint32)
    valid = code_points[(code_points < 0xD800) | (code_points > 0xDFFF)]
    chars = _as_arrow(valid)
    lowered = pc.utf8_lower(chars)
    lowered_points = np.frombuffer(lowered.buffers()[2].to_pybytes().decode("utf-8").encode("utf-32-le"), np.uint32)
    if len(lowered_points) != len(valid):
        raise RuntimeError("pyarrow's utf8_lower no longer maps one code point to one")
    lowered_points = lowered_points.copy()
    lowered_points[_matches(lowered, _BREAKS)] = 0x20
    mapped = np.full(_CODE_POINTS, 0xFFFD, np.uint32)
    mapped[valid] = lowered_points
    punct = np.zeros(_CODE_POINTS, bool)
    punct[valid] = _matches(chars, _PUNCT)
    space = np.zeros(_CODE_POINTS, bool)
    space[valid] = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(chars)), 0).to_numpy(zero_copy_only=False)
    kind = (punct[mapped] * _IS_PUNCT | space[mapped] * _IS_SPACE).astype(np.uint8)
    mapped.flags.writeable = kind.flags.writeable = False
    return mapped, kind


def _as_arrow(code_points: np.ndarray) -> pa.StringArray:
    """One single-character string per code point, built from buffers (no Python strings)."""
    data = code_points.tobytes().decode("utf-32-le").encode("utf-8")
    widths = 1 + (code_points >= 0x80).astype(np.int32) + (code_points >= 0x800) + (code_points >= 0x10000)
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(code_points), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _matches(chars: pa.StringArray, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(chars, pattern).to_numpy(zero_copy_only=False)


def normalize_for_classifier(text: str, max_chars: int = MAX_CHARS) -> str:
    """One text normalised; batches should call normalize_texts."""
    return normalize_texts([text], max_chars)[0]


def _prepare(text: str, max_chars: int) -> str:
    text = _cut(text, max_chars)
    if unicodedata.is_normalized("NFKC", text):
        return text
    # NFKC never reorders or composes across a newline (a starter that nothing composes with), so
    # the lines that are not in NFKC are normalised alone: a page with one full-width character
    # costs one line's normalisation, not the whole page's.
    return "\n".join(line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
                     for line in text.split("\n"))


def _cut(text: str, max_chars: int) -> str:
    """The first max_chars characters, ending before the last whitespace in them when a word
    would otherwise be cut (the character after the cut is not whitespace)."""
    if len(text) <= max_chars:
        return text
    if text[max_chars].isspace():
        return text[:max_chars]
    head = text[:max_chars]
    end = len(head) - 1
    while end > 0 and not head[end].isspace():
        end -= 1
    return head[:end] if end > 0 else head
