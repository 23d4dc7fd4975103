"""Gopher's quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1, MassiveText).

A document is kept when it has 50..100,000 words, a mean word length of 3..10 characters, at most
0.1 '#' or ellipses per word, at most 90% of lines starting with a bullet and 30% ending with an
ellipsis, at least 80% of words with an alphabetic character, and at least 2 of a language's
stop words.

Definitions are datatrove's (GopherQualityFilter), so keep/drop agree at equal thresholds:
- Tokens are pipeline.text.tokens, a regex copy of the spaCy tokens datatrove counts: words plus
  punctuation marks, each mark its own token. `words` counts the tokens with a word character;
  the ratios divide by all tokens, as datatrove does, so punctuation counts as "words" without a
  letter: a page of numbers and symbols fails `min_alpha_words_ratio`.
- `symbol_word_ratio` is the larger of the '#' and the ellipsis ('...' or '…') ratios: datatrove
  checks both against its one `max_symbol_word_ratio`, so one column decides the same.
- Bullet lines start, after leading space, with '•' or '-'; ellipsis lines end with '...' or '…'.
- `stop_words` counts the *distinct* stop words present, case-sensitively ("The" is not "the"),
  as current datatrove does (the paper: "at least two of the following English words").
With spaCy's own tokens these definitions give datatrove's decision on all of 2,084 test documents
(package docs, licences, the sample pages); with ours, 98.7% (the rest sit at the 0.8 alpha edge).

Deliberate differences from datatrove:
- A regex tokenizer instead of spaCy: about 20x faster; spaCy's exceptions (emoticons, "and/or",
  units as in "10km" -> 10 | km) are not copied.
- A token is a word when its first or last character is a word character; datatrove also counts
  symbol tokens such as '•', '©' or '€' (outside its punctuation list) as words.
- Stop words are per language (datatrove applies the English list to every document); a
  language without a list gets NaN, so the rule is skipped rather than dropping every page.
- 'chars' languages (zh, ja, th...; options.segmentation) count characters as words: the mean
  word length and stop-word rules are meaningless there and are NaN (NaN never fails a rule).
  Word-count, symbol, line and alphabetic rules still apply.
- Lines are pipeline.text.lines (split on '\n'), not str.splitlines; clean text has the same.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores
from filters.registry import register
from pipeline.text import lines, segmentation_for, tokens

# Gopher's English list; the others are each language's most frequent function words, short like
# it so that two of them show running prose rather than a list of names.
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("the", "be", "to", "of", "and", "that", "have", "with"),
    "fr": ("le", "la", "les", "de", "des", "et", "un", "une", "du", "que", "est", "pour"),
    "de": ("der", "die", "das", "und", "zu", "den", "von", "mit", "ist", "nicht", "sich", "ein"),
    "es": ("el", "la", "de", "que", "y", "en", "los", "las", "del", "se", "por", "con"),
    "it": ("il", "di", "che", "e", "la", "per", "un", "del", "non", "le", "della", "con"),
    "pt": ("de", "que", "e", "o", "do", "da", "em", "um", "para", "com", "não", "os"),
    "nl": ("de", "het", "een", "en", "van", "dat", "is", "op", "te", "niet", "voor", "met"),
    "ru": ("и", "в", "не", "на", "что", "с", "по", "как", "это", "он", "к", "но"),
}
BULLETS = ("•", "-")
ELLIPSES = ("...", "…")
METRICS = ("words", "mean_word_length", "symbol_word_ratio", "bullet_lines_ratio",
           "ellipsis_lines_ratio", "alpha_words_ratio", "stop_words")
_LETTER = re.compile(r"[^\W\d_]")


@register
class GopherQualityFilter(DocumentFilter):
    name = "gopher_quality_v1"
    prefix = "gopher_quality"
    count_metrics = ("words", "stop_words")

    @dataclass(frozen=True)
    class Thresholds:
        # Rae et al. 2021, appendix A.1.1; checked in this order (datatrove's).
        min_words: int | None = 50
        max_words: int | None = 100_000
        min_mean_word_length: float | None = 3
        max_mean_word_length: float | None = 10
        max_symbol_word_ratio: float | None = 0.1
        max_bullet_lines_ratio: float | None = 0.9
        max_ellipsis_lines_ratio: float | None = 0.3
        min_alpha_words_ratio: float | None = 0.8
        min_stop_words: int | None = 2

    OPTIONS = {"stop_words": dict}
    uses_segmentation = True

    def __init__(self, options=None):
        """options: `segmentation` {lang: whitespace|chars}; `stop_words` {lang: [words]} replaces
        or adds a language's list (an empty list disables the rule for it)."""
        super().__init__(options)
        extra = self.options.get("stop_words") or {}
        if not all(isinstance(v, (list, tuple)) for v in extra.values()):
            raise FilterConfigError(f"option '{self.name}.stop_words' must map languages to lists of words")
        lists = {**STOP_WORDS, **extra}
        self.stop_words = {lang: frozenset(ws) for lang, ws in lists.items() if ws}

    def score(self, batch: Batch) -> Scores:
        rows = [self._score(text or "", lang) for text, lang in zip(batch.texts, batch.langs)]
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(METRICS))
        return {name: values[:, i] for i, name in enumerate(METRICS)}

    # What the symbol and alphabetic ratios divide by: every token (v1, datatrove's spaCy-like
    # count, punctuation included) or only the words (v2, as the paper states them).
    ratios_per_word = False

    def _score(self, text: str, lang: str | None) -> tuple[float, ...]:
        segmentation = segmentation_for(lang, self.segmentation)
        toks = tokens(text, segmentation)
        # a word: its first or last character is a word character (\w is alnum or '_')
        found = [t for t in toks if t[0].isalnum() or t[-1].isalnum() or "_" in t]
        n_words = len(found)
        nan = float("nan")
        per_char = segmentation == "chars"
        mean_length = sum(map(len, found)) / n_words if n_words and not per_char else nan
        # Words with a letter: most are all letters (str.isalpha, in C); test only the others.
        mixed = [w for w in found if not w.isalpha()]
        alpha = n_words - sum(1 for w in mixed if not _LETTER.search(w))
        divisor = n_words if self.ratios_per_word else len(toks)
        if divisor:
            symbols = max(text.count("#"), text.count("...") + text.count("…"))
            symbol_ratio, alpha_ratio = symbols / divisor, alpha / divisor
        else:
            symbol_ratio = alpha_ratio = nan
        rows = lines(text)
        bullets = sum(1 for line in rows if line.lstrip().startswith(BULLETS))
        ellipses = sum(1 for line in rows if line.rstrip().endswith(ELLIPSES))
        stops = None if per_char else self.stop_words.get(lang or "")
        n_stops = len(stops.intersection(toks)) if stops else nan
        return (n_words, mean_length, symbol_ratio, bullets / len(rows), ellipses / len(rows),
                alpha_ratio, n_stops)


@register
class GopherQualityFilterV2(GopherQualityFilter):
    """gopher_quality_v1 with the ratios per *word*, as the paper states them, not per token.

    v1 divides by datatrove's spaCy-like token stream, where every punctuation mark is a token
    without a letter: a page of ordinary prose with dashes, quotes, commas and parentheses (news,
    Russian, French typography) falls under the 0.8 alphabetic rule although 95% of its words
    have letters (bench/filter_quality.py: 12 of 181 gold news articles). Here a word is a token
    with a word character (v1's `words`), and `alpha_words_ratio` (words with a letter / words)
    and `symbol_word_ratio` ('#' or ellipses / words) divide by those words. Numbers are words
    without a letter, so tables of figures still fail. Every other score is v1's.
    """
    name = "gopher_quality_v2"
    prefix = "gopher_quality"

    ratios_per_word = True
