"""Repetition within a document: Gopher's repetition rules and Llama 3's repeated-line removal.

gopher_repetition_v1 (Rae et al. 2021, appendix A.1.1, table A1), with the definitions of
datatrove's GopherRepetitionFilter, so keep/drop agree with it at equal thresholds:
- paragraphs: `text.strip()` split on 2+ newlines; lines: `text` split on 1+ newlines. An element
  equal to an earlier one is a duplicate: `dup_*_frac` = duplicates / elements, `dup_*_char_frac`
  = their characters / len(text).
- `top_{2,3,4}gram_char_frac`: the most frequent n-gram (the first seen among equals) x its count
  x its length with spaces between tokens, / len(text); NaN below n tokens (datatrove skips the
  rule). As in datatrove, a short text where nothing repeats still scores its first n-gram.
- `dup_{5..10}gram_char_frac`: datatrove's greedy left-to-right scan: an n-gram seen before adds
  its characters (tokens joined without spaces) and the scan jumps n tokens, otherwise it is
  remembered and the scan moves one token. (Not the paper's union of all duplicated n-grams.)
Tokens are pipeline.text.tokens, a regex copy of the spaCy/NLTK tokens datatrove counts.
Deliberate differences: n-grams compare as token tuples (datatrove compares the concatenation, so
"ab"+"c" equals "a"+"bc" there); an empty text scores NaN (datatrove drops it as "empty");
space-less scripts use character tokens where datatrove runs a word segmenter.

llama3_dup_ngram_lines_v1 (Dubey et al. 2024, §3.1.1, heuristic filtering): removes lines made of
repeated content (logging, error messages) by duplicated n-gram coverage; see its class.
"""
from __future__ import annotations

import re
from collections import Counter
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, compress, count

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores, TextModifier
from filters.registry import register
from pipeline.text import lines, segmentation_for, tokens, words

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
METRICS = ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac",
           *(f"top_{n}gram_char_frac" for n in TOP_NGRAMS), *(f"dup_{n}gram_char_frac" for n in DUP_NGRAMS))
_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")


def duplicates(elements: list[str]) -> tuple[int, int]:
    """(elements equal to an earlier one, their characters)."""
    counts = Counter(elements)
    return len(elements) - len(counts), sum(len(e) * (c - 1) for e, c in counts.items() if c > 1)


def ngram_repetition(toks: list[str], scale: int = 1) -> tuple[dict[int, float], dict[int, int]]:
    """({n: characters of the top n-gram times its count}, {n: characters of duplicated n-grams}),
    the n-grams `n * scale` tokens long (scale > 1: tokens are characters, about `scale` a word).

    Works level by level on the positions whose n-gram occurs more than once: an n-gram can only
    repeat where its (n-1)-gram prefix repeats, so each level looks at the survivors of the last
    (the n-gram key is (its prefix's key, last token id), the prefix's key an int per distinct
    prefix), no n-gram string is built, and the work stops at the first n where nothing repeats.
    Exact, not hashed."""
    size = len(toks)
    top = {n: float("nan") for n in TOP_NGRAMS}
    dup = {n: 0 for n in DUP_NGRAMS}
    vocab: dict[str, int] = {}
    ids = [vocab.setdefault(t, len(vocab)) for t in toks]
    ends = [0, *accumulate(map(len, toks))]   # characters of toks[i:j] = ends[j] - ends[i]
    counts = Counter(ids)
    # Positions whose n-gram repeats and those n-grams' keys, kept as parallel lists so that
    # every step is a C-level map/zip/compress rather than a Python loop.
    repeats = list(map((1).__lt__, map(counts.__getitem__, ids)))
    positions, keys = list(compress(range(size), repeats)), list(compress(ids, repeats))
    tops = {n * scale: n for n in TOP_NGRAMS}
    dups = {n * scale: n for n in DUP_NGRAMS}
    for n in range(2, max(dups) + 1):
        if size < n:
            break
        cut = bisect_right(positions, size - n)
        positions = positions[:cut]
        keys = list(zip(keys[:cut], map(ids.__getitem__, map((n - 1).__add__, positions))))
        counts = Counter(keys)
        repeats = list(map((1).__lt__, map(counts.__getitem__, keys)))
        positions, keys = list(compress(positions, repeats)), list(compress(keys, repeats))
        if n in tops:
            if positions:  # the most frequent, first seen among equals (Counter.most_common)
                best = max(counts.values())
                start = next(compress(positions, map(best.__eq__, map(counts.__getitem__, keys))))
            else:          # every n-gram occurs once: the first one
                best, start = 1, 0
            top[tops[n]] = best * float(ends[start + n] - ends[start] + n - 1)
        if not positions:
            for m, name in tops.items():
                if n < m <= size:
                    top[name] = float(ends[m] + m - 1)
            break
        if n in dups:
            dup[dups[n]] = _greedy_duplicate_chars(positions, keys, ends, n)
        # One int per distinct n-gram (its first position in this list): the next level's keys
        # are then pairs of ints, not tuples nested n deep that cost n to hash.
        keys = list(map({}.setdefault, keys, count()))
    return top, dup


def _greedy_duplicate_chars(positions: list[int], keys: list[tuple], ends: list[int], n: int) -> int:
    """datatrove's find_all_duplicate, visiting only n-grams that occur more than once: one that
    occurs once is never found again, so remembering it changes nothing."""
    seen: set[tuple] = set()
    total = resume = 0
    for i, key in zip(positions, keys):
        if i < resume:
            continue
        if key in seen:
            total += ends[i + n] - ends[i]
            resume = i + n
        else:
            seen.add(key)
    return total


@register
class GopherRepetitionFilter(DocumentFilter):
    name = "gopher_repetition_v1"
    prefix = "gopher_repetition"

    @dataclass(frozen=True)
    class Thresholds:
        # Rae et al. 2021, table A1; checked in datatrove's order (paragraphs first).
        max_dup_para_frac: float | None = 0.30
        max_dup_para_char_frac: float | None = 0.20
        max_dup_line_frac: float | None = 0.30
        max_dup_line_char_frac: float | None = 0.20
        max_top_2gram_char_frac: float | None = 0.20
        max_top_3gram_char_frac: float | None = 0.18
        max_top_4gram_char_frac: float | None = 0.16
        max_dup_5gram_char_frac: float | None = 0.15
        max_dup_6gram_char_frac: float | None = 0.14
        max_dup_7gram_char_frac: float | None = 0.13
        max_dup_8gram_char_frac: float | None = 0.12
        max_dup_9gram_char_frac: float | None = 0.11
        max_dup_10gram_char_frac: float | None = 0.10

    uses_segmentation = True

    def score(self, batch: Batch) -> Scores:
        rows = [self._score(text or "", lang) for text, lang in zip(batch.texts, batch.langs)]
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(METRICS))
        return {name: values[:, i] for i, name in enumerate(METRICS)}

    def _score(self, text: str, lang: str | None) -> tuple[float, ...]:
        if not text:
            return (float("nan"),) * len(METRICS)
        chars = len(text)
        paragraphs = _PARAGRAPHS.split(text.strip())
        para_dups, para_chars = duplicates(paragraphs)
        rows = _LINES.split(text)
        line_dups, line_chars = duplicates(rows)
        segmentation = segmentation_for(lang, self.segmentation)
        top, dup = ngram_repetition(tokens(text, segmentation), self._scale(segmentation))
        return (para_dups / len(paragraphs), para_chars / chars, line_dups / len(rows), line_chars / chars,
                *(top[n] / chars for n in TOP_NGRAMS), *(dup[n] / chars for n in DUP_NGRAMS))

    def _scale(self, segmentation: str) -> int:
        """Tokens per n-gram word (v1: 1, words and characters alike)."""
        return 1


@register
class GopherRepetitionFilterV2(GopherRepetitionFilter):
    """gopher_repetition_v1 whose n-grams, for scripts segmented per character (filter.segmentation
    `chars`), are `chars_per_word` (default 3) characters per word: the top 2- to 4-grams are 6 to
    12 characters, the duplicated 5- to 10-grams 15 to 30. v1 takes Gopher's word n-grams as
    character n-grams there, and five characters repeat in any Thai, Burmese or Japanese page:
    bench/filter_quality.py's UDHR pages of th, my and ja fail max_dup_5gram_char_frac once the
    line modifiers keep their text. Word-segmented languages score exactly as with v1."""
    name = "gopher_repetition_v2"
    prefix = "gopher_repetition"
    OPTIONS = {"chars_per_word": int}

    def __init__(self, options=None):
        super().__init__(options)
        self.chars_per_word = int(self.options.get("chars_per_word", 3))
        if self.chars_per_word < 1:
            raise FilterConfigError(f"{self.name}: chars_per_word must be >= 1")

    def _scale(self, segmentation: str) -> int:
        return self.chars_per_word if segmentation == "chars" else 1


@register
class Llama3DupNgramLines(TextModifier):
    """Removes each line of at least `min_line_words` words whose characters are mostly covered
    by word n-grams that occur more than once in the document.

    Coverage of a line = characters of its words inside at least one duplicated n-gram (each
    character counted once, Gopher's definition) / characters of all its words. N-grams stay
    within a line and are counted over the whole document (across lines and within a line).
    Llama 3 publishes no values; the defaults: n = 3 (short enough to catch log lines whose
    timestamps and ids differ), min_line_words = 5 (at fewer words one repeated trigram would
    decide a whole line: short headings, dialogue), max_line_dup_ngram_coverage = 0.5 (a line
    *made of* repeated content: more than half of it; prose sharing a common phrase with another
    line stays far below)."""
    name = "llama3_dup_ngram_lines_v1"
    prefix = "llama3_lines"
    count_metrics = ("lines_removed",)

    @dataclass(frozen=True)
    class Thresholds:
        max_chars_removed_ratio: float | None = None   # set to drop documents mostly removed

    OPTIONS = {"n": int, "min_line_words": int, "max_line_dup_ngram_coverage": (int, float)}
    uses_segmentation = True

    def __init__(self, options=None):
        super().__init__(options)
        self.n = int(self.options.get("n", 3))
        self.min_line_words = int(self.options.get("min_line_words", 5))
        self.max_coverage = float(self.options.get("max_line_dup_ngram_coverage", 0.5))
        if self.n < 1 or self.min_line_words < 1 or not 0 <= self.max_coverage <= 1:
            raise FilterConfigError(f"{self.name}: need n >= 1, min_line_words >= 1 and "
                                    f"0 <= max_line_dup_ngram_coverage <= 1")

    def apply(self, batch: Batch) -> tuple[list[str], Scores]:
        texts, removed, ratios = [], [], []
        for text, lang in zip(batch.texts, batch.langs):
            text = text or ""
            kept = self._kept_lines(text, segmentation_for(lang, self.segmentation))
            if kept is None:
                texts.append(text)
                removed.append(0)
                ratios.append(0.0)
                continue
            new = "\n".join(kept[1])
            texts.append(new)
            removed.append(kept[0])
            ratios.append((len(text) - len(new)) / len(text))
        return texts, {"lines_removed": np.array(removed, dtype=np.float64),
                       "chars_removed_ratio": np.array(ratios, dtype=np.float64)}

    def line_coverage(self, text: str, segmentation: str = "whitespace") -> list[float]:
        """Duplicated n-gram coverage of every line (NaN for lines shorter than n words)."""
        _, per_line, counts = self._lines_and_counts(text, segmentation)
        n = self.n_for(segmentation)
        return [_coverage(ws, n, counts or Counter()) if len(ws) >= n else float("nan")
                for ws in per_line]

    def n_for(self, segmentation: str) -> int:
        """Tokens per n-gram under `segmentation` (v1: `n`, words or characters alike)."""
        return self.n

    def _kept_lines(self, text: str, segmentation: str) -> tuple[int, list[str]] | None:
        """(lines removed, lines kept), or None when nothing is removed."""
        rows, per_line, counts = self._lines_and_counts(text, segmentation)
        if counts is None:
            return None
        n = self.n_for(segmentation)
        keep = [len(ws) < self.min_line_words or _coverage(ws, n, counts) <= self.max_coverage
                for ws in per_line]
        if all(keep):
            return None
        return len(rows) - sum(keep), [row for row, k in zip(rows, keep) if k]

    def _lines_and_counts(self, text: str, segmentation: str):
        """(lines, words of each line, n-gram counts over the document or None when none repeats)."""
        rows = lines(text)
        per_line = [words(row, segmentation) for row in rows]
        return rows, per_line, self._ngram_counts(per_line, self.n_for(segmentation))

    def _ngram_counts(self, per_line: list[list[str]], n: int) -> Counter | None:
        """N-gram counts over the document, or None when no n-gram occurs twice."""
        counts: Counter = Counter()
        total = 0
        for ws in per_line:
            if len(ws) >= n:
                counts.update(zip(*(ws[i:] for i in range(n))))
                total += len(ws) - n + 1
        return counts if len(counts) < total else None


@register
class Llama3DupNgramLinesV2(Llama3DupNgramLines):
    """llama3_dup_ngram_lines_v1 with n-grams of `n_chars` characters (default 10) for scripts
    segmented per character (filter.segmentation `chars`: Chinese, Japanese, Thai, Burmese...).

    v1 counts trigrams of whatever the tokens are; for a `chars` language that is three
    characters, which any page repeats everywhere: on the UDHR it removed 92% of the Thai text,
    78% of the Burmese and 76% of the Japanese (English: 3%). At 10 characters, about three words
    of those scripts, the removed share is 3%, 1% and 0%, while a line repeated in the page is
    still fully covered. Word-segmented
    languages are scored exactly as by v1."""
    name = "llama3_dup_ngram_lines_v2"
    prefix = "llama3_lines"
    OPTIONS = {**Llama3DupNgramLines.OPTIONS, "n_chars": int}

    def __init__(self, options=None):
        super().__init__(options)
        self.n_chars = int(self.options.get("n_chars", 10))
        if self.n_chars < 1:
            raise FilterConfigError(f"{self.name}: need n_chars >= 1")

    def n_for(self, segmentation: str) -> int:
        return self.n_chars if segmentation == "chars" else self.n


def _coverage(ws: list[str], n: int, counts: Counter) -> float:
    """Characters of `ws` inside an n-gram counted more than once, each counted once / all."""
    grams = zip(*(ws[i:] for i in range(n)))
    repeated = [i for i, gram in enumerate(grams) if counts[gram] > 1]
    if not repeated:
        return 0.0
    ends = [0, *accumulate(map(len, ws))]
    covered = until = 0
    for i in repeated:
        start = max(i, until)
        until = i + n
        covered += ends[until] - ends[start]
    return covered / ends[-1] if ends[-1] else 0.0

