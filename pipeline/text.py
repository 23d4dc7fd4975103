"""Text helpers shared by every stage: one definition of 'clean text' for the whole pipeline."""
from __future__ import annotations

import re
import unicodedata

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LETTER = re.compile(r"[^\W\d_]")
_SPACE = re.compile(r"\s")


def clean_text(text: str) -> str:
    """NFC-normalised, valid UTF-8 text without control characters or surrounding space.

    Lone surrogates (possible in JSON escapes) would make Arrow's UTF-8 encoding fail, so they
    become U+FFFD instead of crashing a task.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


def letter_count(text: str) -> int:
    return len(_LETTER.findall(text))


def non_space_count(text: str) -> int:
    return len(text) - len(_SPACE.findall(text))
