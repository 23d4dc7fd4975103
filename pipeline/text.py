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


# Scripts written without spaces between words: a whitespace split would make one giant word.
_SPACELESS_CHAR = re.compile(r"[\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
                             r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
SEGMENTATIONS = ("whitespace", "chars")


def words(text: str, segmentation: str = "whitespace") -> list[str]:
    """Word tokens of `text`.

    whitespace: runs of word characters (apostrophes and hyphens inside a word kept).
    chars: every character of a space-less script (CJK, kana, Thai, Lao, Khmer, Burmese) is
    one token, other runs are split as with whitespace, so mixed text stays sensible.
    """
    if segmentation == "whitespace":
        return _WORD.findall(text)
    if segmentation == "chars":
        tokens: list[str] = []
        for run in _WORD.findall(text):
            if _SPACELESS_CHAR.search(run):
                tokens.extend(_split_spaceless(run))
            else:
                tokens.append(run)
        return tokens
    raise ValueError(f"unknown segmentation {segmentation!r} (known: {', '.join(SEGMENTATIONS)})")


def segmentation_for(lang: str | None, table: dict[str, str]) -> str:
    """The configured segmentation of `lang`, else the table's `default`."""
    return table.get(lang or "", table.get("default", "whitespace"))


def spaceless_ratio(text: str) -> float:
    """Share of characters from space-less scripts: tells a mislabelled CJK/Thai document."""
    return len(_SPACELESS_CHAR.findall(text)) / max(len(text), 1)


def lines(text: str) -> list[str]:
    return text.split("\n")


def word_ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def _split_spaceless(run: str) -> list[str]:
    tokens: list[str] = []
    pending = ""
    for ch in run:
        if _SPACELESS_CHAR.match(ch):
            if pending:
                tokens.append(pending)
                pending = ""
            tokens.append(ch)
        else:
            pending += ch
    if pending:
        tokens.append(pending)
    return tokens
