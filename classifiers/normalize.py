"""The one text normalisation every classifier sees, at training and at inference.

A model is only as good as the match between the text it was trained on and the text it scores,
so training (jobs/train_classifier.py) and scoring call this same function, and the model's
sidecar records NORMALIZATION_VERSION; loading a model made under another version fails.
Changing what this computes means a new version string.

Steps, in order (deterministic, no locale or model):
1. keep the first `max_chars` characters, cut back to the last whitespace when there is one so
   that no word is cut in half (bounds the cost of huge documents);
2. clean_text (valid UTF-8, no control characters), then NFKC (full-width letters, ligatures
   and compatibility digits become their plain forms), then lowercase;
3. every character that is neither a word character nor space becomes its own token, as
   fastText's reference preprocessing does ("end." -> "end .", "don't" -> "don ' t");
4. all whitespace runs, newlines included, become one space; no leading or trailing space;
5. the result is cut again the same way (step 3 adds spaces), so it never exceeds `max_chars`.
"""
from __future__ import annotations

import re
import unicodedata

from pipeline.text import clean_text

NORMALIZATION_VERSION = "classifier_norm_v1"
MAX_CHARS = 20_000

_PUNCT = re.compile(r"([^\w\s])")
_SPACES = re.compile(r"\s+")


def normalize_for_classifier(text: str, max_chars: int = MAX_CHARS) -> str:
    """Lowercased NFKC text, punctuation split from words, one space between tokens, <= max_chars."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    text = clean_text(_cut(text, max_chars))
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PUNCT.sub(r" \1 ", text)
    text = _SPACES.sub(" ", text).strip()
    return _cut(text, max_chars).rstrip()


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
