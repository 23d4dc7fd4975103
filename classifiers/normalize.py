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

Steps 3-6 run as pyarrow (RE2) kernels, or one bytes.translate, over the whole batch: the
per-document Python `re` of classifier_norm_v1 cost six times fastText's own `predict`, which made
scoring, not the model, the bottleneck of the classify job.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

import pyarrow as pa
import pyarrow.compute as pc

NORMALIZATION_VERSION = "classifier_norm_v2"
MAX_CHARS = 20_000

_BREAKS = r"[\x00-\x1f\x7f\x85\x{2028}\x{2029}]"
_PUNCT = r"[^\p{L}\p{N}\p{M}_\s\p{Z}]"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_BREAKS_TO_SPACE = bytes(0x20 if byte < 0x20 or byte == 0x7F else byte for byte in range(256))
_WIDE_BREAKS = ("\x85", "\u2028", "\u2029")


def normalize_texts(texts: Sequence[str] | pa.Array, max_chars: int = MAX_CHARS) -> list[str]:
    """Every text normalised (module docstring); None counts as the empty text."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts = texts.to_pylist()
    prepared = [_prepare(text or "", max_chars) for text in texts]
    wide_breaks = any(break_ in text for text in prepared for break_ in _WIDE_BREAKS)
    try:
        prepared = pa.array(prepared, pa.string())
    except (pa.ArrowException, UnicodeEncodeError):   # a lone surrogate somewhere: U+FFFD instead
        prepared = pa.array([_valid_utf8(text) for text in prepared], pa.string())
    prepared = _breaks_to_spaces(pc.utf8_lower(prepared), wide_breaks)
    prepared = pc.replace_substring_regex(prepared, _PUNCT, r" \0 ")
    return pc.utf8_trim_whitespace(prepared).to_pylist()


def _breaks_to_spaces(texts: pa.StringArray, wide_breaks: bool) -> pa.StringArray:
    """Step 4. The ASCII breaks are single bytes that UTF-8 never uses inside another character, so
    one bytes.translate of the batch's value buffer replaces them (the regex's scan was a sixth of
    the normalisation). NEL and the line and paragraph separators (several bytes, rare; looked for
    in the Python strings, where a search of a text without wide characters costs nothing) go
    through the regex, in a batch that holds one."""
    if wide_breaks or texts.offset or texts.buffers()[2] is None:
        return pc.replace_substring_regex(texts, _BREAKS, " ")
    validity, offsets, data = texts.buffers()
    data = pa.py_buffer(data.to_pybytes().translate(_ASCII_BREAKS_TO_SPACE))
    return pa.Array.from_buffers(pa.string(), len(texts), [validity, offsets, data], texts.null_count)


def normalize_for_classifier(text: str, max_chars: int = MAX_CHARS) -> str:
    """One text normalised; batches should call normalize_texts."""
    return normalize_texts([text], max_chars)[0]


def _prepare(text: str, max_chars: int) -> str:
    text = _cut(text, max_chars)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text


def _valid_utf8(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


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
