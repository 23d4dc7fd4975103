"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb datasets", §3.6 "Developing
additional heuristic filters"), with the definitions of datatrove's FineWebQualityFilter (0.10.1),
so keep/drop agree with it at equal thresholds.

Lines are the non-blank lines of `text.split("\\n")` (pipeline.text.lines), unstripped:
- `lines`: how many; a page without any is dropped (datatrove: "empty"), min_lines = 1.
- `line_punct_ratio`: share of lines whose last character is a sentence terminal (datatrove's
  TERMINAL_PUNCTUATION, the Unicode Sentence_Terminal marks: . ! ? 。 ！ ？ । ۔ ...; not quotes,
  not an ellipsis '…'). Dropped below 0.12.
- `short_line_ratio`: share of lines of at most `short_line_length` (30) characters. Dropped
  above 0.67.
- `dup_line_char_ratio`: characters of lines equal to an earlier line, over the characters of
  the page without newlines. Dropped above 0.01.
- `newline_token_ratio`: newlines per token ("list-like" pages). Dropped above 0.3.
datatrove drops on `ratio < min` and `ratio > max`, as keep() does, so equal thresholds give
equal decisions: FineWebQualityFilter(line_punct_thr=a, short_line_thr=b, short_line_length=n,
char_duplicates_ratio=c, new_line_ratio=d) = fineweb_v1 with options {short_line_length: n} and
thresholds {min_line_punct_ratio: a, max_short_line_ratio: b, max_dup_line_char_ratio: c,
max_newline_token_ratio: d}.

Tokens are pipeline.text.tokens: words plus punctuation marks, a regex copy of the spaCy tokens
datatrove counts (spaCy also yields a token per mark). Deliberate differences from datatrove:
- A regex tokenizer instead of spaCy: several times faster; token counts within a few percent.
- Space-less scripts (segmentation `chars`, options.segmentation: zh, ja, th...) count every
  character as a token, so a Chinese page is not a handful of giant "words" that make any page
  look like a list (datatrove runs its English tokenizer unless given a language and the
  segmenter that language needs: jieba, SudachiPy, PyThaiNLP).
- A page of non-blank lines but no token scores NaN (datatrove would divide by zero).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores
from filters.registry import register
from pipeline.text import ends_unmarked_sentence, lines, segmentation_for, tokens

# Unicode Sentence_Terminal as datatrove 0.10.1 lists it (TERMINAL_PUNCTUATION), as ranges.
_TERMINALS = re.compile(
    r"[\u0021\u002e\u003f\u0589\u061d-\u061f\u06d4\u0700-\u0702\u07f9\u0837\u0839\u083d\u083e"
    r"\u0964\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4-\u17d6\u17d9\u17da\u1803"
    r"\u1809\u1944\u1945\u1aa8-\u1aab\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e\u1c3b\u1c3c\u1c7e\u1c7f"
    r"\u203c\u203d\u2047-\u2049\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876"
    r"\ua877\ua8ce\ua8cf\ua92f\ua9c8\ua9c9\uaa5d-\uaa5f\uaaf0\uaaf1\uabeb\ufe52\ufe56\ufe57\uff01"
    r"\uff0e\uff1f\uff61\U00010a56\U00010a57\U00010f55-\U00010f59\U00010f86-\U00010f89\U00011047"
    r"\U00011048\U000110be-\U000110c1\U00011141-\U00011143\U000111c5\U000111c6\U000111cd\U000111de"
    r"\U000111df\U00011238\U00011239\U0001123b\U0001123c\U000112a9\U0001144b\U0001144c\U000115c2"
    r"\U000115c3\U000115c9-\U000115d7\U00011641\U00011642\U0001173c-\U0001173e\U00011944\U00011946"
    r"\U00011a42\U00011a43\U00011a9b\U00011a9c\U00011c41\U00011c42\U00011ef7\U00011ef8\U00011f43"
    r"\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44\U00016e98\U0001bc9f"
    r"\U0001da88]")
_THAI_LAO = re.compile("[\u0e00-\u0eff]")
METRICS = ("lines", "line_punct_ratio", "short_line_ratio", "dup_line_char_ratio", "newline_token_ratio")


@register
class FineWebQualityFilter(DocumentFilter):
    name = "fineweb_v1"
    prefix = "fineweb"
    count_metrics = ("lines",)

    @dataclass(frozen=True)
    class Thresholds:
        # Penedo et al. 2024 (FineWeb), §3.6, as released: datatrove's defaults, in its order.
        min_lines: int | None = 1                      # datatrove drops a page without text ("empty")
        min_line_punct_ratio: float | None = 0.12      # lines ending in punctuation
        max_short_line_ratio: float | None = 0.67      # lines of <= 30 characters
        max_dup_line_char_ratio: float | None = 0.01   # characters in duplicated lines
        max_newline_token_ratio: float | None = 0.3    # newlines per token: list-like pages

    OPTIONS = {"short_line_length": int}
    uses_segmentation = True

    def __init__(self, options=None):
        super().__init__(options)
        self.short_line_length = self.options.get("short_line_length", 30)
        if self.short_line_length is None or self.short_line_length < 0:
            raise FilterConfigError(f"{self.name}: short_line_length must be an integer >= 0")

    def score(self, batch: Batch) -> Scores:
        rows = [self._score(text or "", lang) for text, lang in zip(batch.texts, batch.langs)]
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(METRICS))
        return {name: values[:, i] for i, name in enumerate(METRICS)}

    def _score(self, text: str, lang: str | None) -> tuple[float, ...]:
        rows = [line for line in lines(text) if line and not line.isspace()]
        count = len(rows)
        if not count:
            return (0.0,) + (float("nan"),) * (len(METRICS) - 1)
        # C-level passes over the lines: last characters, lengths.
        punct = self._punctuated_lines(rows)
        short = sum(map(self.short_line_length.__ge__, map(len, rows)))
        dup_chars = 0
        if len(set(rows)) < count:
            dup_chars = sum(len(line) * (n - 1) for line, n in Counter(rows).items() if n > 1)
        n_tokens = len(tokens(text, segmentation_for(lang, self.segmentation)))
        newlines = text.count("\n")
        return (float(count), punct / count, short / count, dup_chars / (len(text) - newlines),
                newlines / n_tokens if n_tokens else float("nan"))

    def _punctuated_lines(self, rows: list[str]) -> int:
        """Lines whose last character is a sentence terminal (one C-level pass over last characters)."""
        return len(_TERMINALS.findall("".join([line[-1] for line in rows])))


@register
class FineWebQualityFilterV2(FineWebQualityFilter):
    """fineweb_v1 where a line ending in a Thai or Lao letter counts as ending in punctuation:
    those scripts end sentences with a space, not a mark (pipeline.text.ends_unmarked_sentence),
    so v1's `min_line_punct_ratio` drops Thai pages once their lines are kept (c4_lines_v3).
    Every other metric is v1's."""
    name = "fineweb_v2"
    prefix = "fineweb"

    def _punctuated_lines(self, rows: list[str]) -> int:
        marked = super()._punctuated_lines(rows)
        if not _THAI_LAO.search("".join(row[-8:] for row in rows)):   # most pages: no line to look at
            return marked
        return marked + sum(1 for row in rows if not _TERMINALS.match(row[-1]) and ends_unmarked_sentence(row))
