"""C4's heuristic cleaning (Raffel et al. 2020, "Exploring the limits of transfer learning", §2.2),
with the definitions of datatrove's C4QualityFilter (0.10.1), so keep/drop agree with it.

datatrove does everything in one filter; here it is two pieces, run in this order:
- c4_lines_v1 (TextModifier) removes lines, as datatrove's line loop does, and rewrites the text:
  each line (str.splitlines) is stripped, then removed when it has a word over `max_word_length`
  characters (whitespace words), lacks terminal punctuation after Wikipedia-style citations
  ([1], [edit], [citation needed]) are cut out (ends in . ? ! " ' but not ...), has fewer than
  `min_words_per_line` words, mentions "javascript", or holds cookie/policy boilerplate (the
  first failing rule, in that order, is the one counted). Kept lines are joined with "\\n".
- c4_v1 (DocumentFilter) scores the text it is given: "lorem ipsum" (any case) and "{" drop a
  page; fewer than `min_sentences` sentences drop it; `min_words` is an extra rule, off.
datatrove's C4QualityFilter() with its defaults = c4_lines_v1 with its default options
(`min_words_per_line` 3, `max_word_length` 1000, every line rule on) followed by c4_v1 with
thresholds {max_lorem_ipsum: 0, max_curly_bracket: 0, min_sentences: 5, min_words: null}. Set an
option to null (or false) where datatrove's argument is -1 (or False); `min_num_sentences` maps
to c4_v1.min_sentences; `filter_lorem_ipsum`/`filter_curly_bracket` to their thresholds (null).
E.g. FineWeb's C4QualityFilter(filter_no_terminal_punct=False) = options.c4_lines_v1
{filter_no_terminal_punct: false}. datatrove's reasons lorem_ipsum, curly_bracket and
too_few_sentences are c4_max_lorem_ipsum, c4_max_curly_bracket and c4_min_sentences here.

Sentences: datatrove counts spaCy's sentencizer sentences of each kept line. Here a line is one
sentence plus one per boundary: . ! ? (plus closing punctuation), a space, then a word on the
same line, except after an ellipsis ('..', '...'), a single letter or a listed abbreviation
('Mr.', 'e.g.', 'a.m.'; spaCy's English exceptions) or a capital before the dot ('J.'), where
spaCy does not split; also "word.Next" without a space. All but 12 of the 5,454 lines of the
benchmark's documents (bench/filter_speed.py) get spaCy's count; the rest hit other spaCy exceptions.

Deliberate differences from datatrove:
- Two pieces: the page-level "lorem ipsum" and "{" rules see the lines c4_lines_v1 kept, so a
  line with "lorem ipsum" that is also a javascript or policy line, or a "{" in a policy line,
  drops the page in datatrove but not here (datatrove checks them halfway through its line rules).
- Blank lines are always removed (datatrove keeps them when its punctuation and word rules are
  both off).
- Space-less scripts (segmentation `chars`, options.segmentation: zh, ja, th...): words are
  characters (pipeline.text.words), so the word rules (3 words, 1000-character words) do not
  remove every line as one giant word (datatrove's str.split), and 。！？ also end a line and a sentence (with or without a space).
  Thai has no sentence-final mark: turn filter_no_terminal_punct off for a Thai-only run.
- The paper's bad-words rule is nsfw_words_v1; C4's paragraph, dedup and language rules are
  other stages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores, TextModifier
from filters.registry import register
from pipeline.text import ends_unmarked_sentence, segmentation_for, words

END_PUNCTUATION = (".", "?", "!", '"', "'")
CJK_END_PUNCTUATION = ("。", "！", "？")
ELLIPSIS = "..."
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                     "use cookies")
LINE_RULES = ("too_long_word", "no_terminal_punct", "too_few_words", "javascript", "policy")
CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")

# spaCy's English tokenizer exceptions ending in "<lowercase>.", which it keeps whole (no sentence
# break after them); a capital before the dot is never split off unless two capitals ('USA.').
ABBREVIATIONS = frozenset("""Adm Ak Ala Apr Ariz Ark Aug Bros Calif Co Colo Conn Corp Dec Del Dr E.g Feb
    Fla Ga Gen Gov I.e Ia Id Ill Inc Ind Jan Jr Jul Jun Kan Kans Ky La Ltd Mar Mass Md Messrs Mich Minn
    Miss Mo Mont Mr Mrs Ms Mt Neb Nebr Nev Nov Oct Okla Ore Pa Prof Rep Rev Sen Sep Sept St Tenn Va Wash
    Wis a.m p.m co e.g i.e v.s vs ä ö ü""".split()) | frozenset("abcdefghijklmnopqrstuvwxyz")
# A run of . ! ? (plus closing punctuation), spaces, then - past chunks of punctuation only - a
# character that is not punctuation, all on one line. Found in linear time: a regex lookahead
# that looked past the punctuation rescanned it from every mark (9 s for 32 KB of '. ', 4x more
# per doubling). Each run of marks followed by a space is found once, from its first mark
# (`_MARK_RUN`: it starts with a class so the engine scans for it fast, then a lookbehind
# rejects the middle of a run), and the stretch of marks and spaces after it (`_STRETCH`) is
# scanned once for all the runs inside it.
_PUNCT = r"!-#%-*,-/:;?@\[-\]_{}¡§«¶·»¿‐-‧‹›“”„‟"
_MARK_RUN = re.compile(rf"[{_PUNCT}](?<![{_PUNCT}][{_PUNCT}])[{_PUNCT}]*+(?=[^\S\n])")
_STRETCH = re.compile(rf"(?:[{_PUNCT}]|[^\S\n])*+")
_ENDS = ".!?"
_INFIX = re.compile(r"\.(?=[A-Z])(?<=[a-z]\.)")             # "end.Next": spaCy splits the dot off
# A run of 。！？ (closing brackets after it), tried from its first mark only and possessive, so
# a run that is no boundary fails once rather than once per mark.
_CJK_BOUNDARY = re.compile(r"(?<![。！？])[。！？]++[」』”’）)]*+(?=[^\S\n]*+[^\s」』”’）)。！？])")
_OPENERS = "\"'“‘([{«"
_CLOSERS = "\"'”’)]}».!?"


def sentence_count(text: str, segmentation: str = "whitespace") -> int:
    """Sentences of `text`: one per non-blank line plus one per boundary inside a line.

    A run of marks followed by a space and, past further marks and spaces, a word on the same
    line ends at most one sentence per mark: its first '!' and its first '?' that follow no
    other . ! ?, and its first such '.' unless an ellipsis ('..') or an abbreviation ('Mr.',
    'J.') makes it none. Linear in len(text) whatever the text."""
    count = sum(map(bool, map(str.strip, text.split("\n")))) + len(_INFIX.findall(text))
    size = len(text)
    stretch_end, word_follows = -1, False
    for run in _MARK_RUN.finditer(text):
        marks = run.group()
        if "." not in marks and "!" not in marks and "?" not in marks:
            continue
        start = run.start()
        if start >= stretch_end:      # a new stretch of marks and spaces: what ends it?
            stretch_end = _STRETCH.match(text, run.end()).end()
            word_follows = stretch_end < size and text[stretch_end] != "\n"
        if not word_follows:
            continue
        for mark in _ENDS:
            i = _first_end(marks, mark)
            if i < 0:
                continue
            if mark != ".":
                count += 1
                continue
            after = marks[i + 1:]
            if not after or after[0] not in _ENDS:   # '..', '...' are one token, no sentence end
                before = text[max(start + i - 12, 0):start + i].rsplit(None, 1)
                count += _breaks_after(before[-1] if before else "")
            elif after[0] != ".":                    # '.?' '.!'
                count += 1
    if segmentation == "chars":
        count += len(_CJK_BOUNDARY.findall(text))
    return count


def _first_end(marks: str, mark: str) -> int:
    """Index of the first `mark` in a run of marks that follows no other . ! ?; -1 if none."""
    i = marks.find(mark)
    while i > 0 and marks[i - 1] in _ENDS:
        i = marks.find(mark, i + 1)
    return i


def _breaks_after(chunk: str) -> bool:
    """Whether spaCy splits the '.' after `chunk` (the text since the last space, at most 12
    characters: longer is no abbreviation) off as a sentence end."""
    core = chunk.lstrip(_OPENERS)
    if not core:
        return True
    tail = core[len(core.rstrip(_CLOSERS)):]
    if "." in tail or "!" in tail or "?" in tail:  # 'why?).': the '?' already ended the sentence
        return False
    if core[-1].isupper():                       # 'J.' stays whole, 'USA.' is split
        return len(core) > 1 and core[-2].isupper()
    return core not in ABBREVIATIONS


@register
class C4LineFilter(TextModifier):
    name = "c4_lines_v1"
    prefix = "c4_lines"
    count_metrics = ("lines_removed", "lines_too_long_word", "lines_no_terminal_punct", "lines_too_few_words",
                     "lines_javascript", "lines_policy")

    @dataclass(frozen=True)
    class Thresholds:
        max_chars_removed_ratio: float | None = None   # C4 has no such rule: set to drop gutted pages

    OPTIONS = {"min_words_per_line": int, "max_word_length": int, "remove_citations": bool,
               "filter_no_terminal_punct": bool, "filter_javascript": bool, "filter_policy": bool}
    uses_segmentation = True

    def __init__(self, options=None):
        super().__init__(options)
        get = self.options.get
        self.min_words = get("min_words_per_line", 3) or 0          # null: off
        self.max_word_length = get("max_word_length", 1000)         # null: off
        if self.min_words < 0 or (self.max_word_length is not None and self.max_word_length < 1):
            raise FilterConfigError(f"{self.name}: min_words_per_line must be >= 0 and max_word_length >= 1")
        self.citations = get("remove_citations", True) is not False
        self.punct = get("filter_no_terminal_punct", True) is not False
        self.javascript = get("filter_javascript", True) is not False
        self.policy = get("filter_policy", True) is not False

    def apply(self, batch: Batch) -> tuple[list[str], Scores]:
        texts = []
        rows = np.zeros((len(batch), 2 + len(LINE_RULES)), dtype=np.float64)
        for i, (text, lang) in enumerate(zip(batch.texts, batch.langs)):
            text = text or ""
            new, removed, per_rule = self._clean(text, segmentation_for(lang, self.segmentation))
            texts.append(new)
            rows[i, 0] = removed
            rows[i, 1] = (len(text) - len(new)) / len(text) if text else 0.0
            rows[i, 2:] = per_rule
        scores = {"lines_removed": rows[:, 0], "chars_removed_ratio": rows[:, 1]}
        scores.update({f"lines_{rule}": rows[:, 2 + j] for j, rule in enumerate(LINE_RULES)})
        return texts, scores

    def _sentence_ends(self, chars: bool) -> tuple[str, ...]:
        """The marks a kept line may end with (filter_no_terminal_punct)."""
        return END_PUNCTUATION + CJK_END_PUNCTUATION if chars else END_PUNCTUATION

    def _clean(self, text: str, segmentation: str) -> tuple[str, int, list[int]]:
        """(kept lines joined, lines removed (blank ones too), lines removed per rule)."""
        chars = segmentation == "chars"
        ends = self._sentence_ends(chars)
        long_word, min_words = self.max_word_length, self.min_words
        javascript, policy = self.javascript, self.policy
        if javascript or policy:  # one pass over the page; the lines are searched only on a hit
            lower = text.lower()
            if self.citations and "[" in lower:
                lower = CITATION.sub("", lower)   # removes at least what the per-line pass does
            javascript = javascript and "javascript" in lower
            policy = policy and any(p in lower for p in POLICY_SUBSTRINGS)
        per_rule = [0] * len(LINE_RULES)
        kept = []
        lines = text.splitlines()
        for line in lines:
            line = stripped = line.strip()
            if not line:
                continue
            if long_word is not None and len(line) > long_word and \
                    max(map(len, words(line, "chars") if chars else line.split()), default=0) > long_word:
                per_rule[0] += 1
                continue
            if self.citations and "[" in line:
                line = CITATION.sub("", line)
            if self.punct and self._lacks_end(line, ends):
                per_rule[1] += 1
            elif min_words and self._word_count(stripped, chars, min_words) < min_words:  # before the citation cut
                per_rule[2] += 1
            elif javascript and "javascript" in line.lower():
                per_rule[3] += 1
            elif policy and any(p in line.lower() for p in POLICY_SUBSTRINGS):
                per_rule[4] += 1
            else:
                kept.append(line)
        return "\n".join(kept).strip(), len(lines) - len(kept), per_rule

    def _lacks_end(self, line: str, ends: tuple[str, ...]) -> bool:
        """filter_no_terminal_punct: the line does not end in one of `ends`, or ends in an ellipsis."""
        return not line.endswith(ends) or line.endswith(ELLIPSIS)

    def _word_count(self, line: str, chars: bool, at_least: int) -> int:
        """The line's words, counted up to `at_least` (whitespace-separated; characters for `chars`)."""
        return len(words(line, "chars")) if chars else len(line.split(None, at_least - 1))


@register
class C4Filter(DocumentFilter):
    name = "c4_v1"
    prefix = "c4"
    count_metrics = ("lorem_ipsum", "curly_bracket", "sentences", "words")

    @dataclass(frozen=True)
    class Thresholds:
        # Raffel et al. 2020, §2.2; page-level rules in datatrove's order. Scores 0/1: threshold 0.
        max_lorem_ipsum: float | None = 0       # "removed any page where the phrase 'lorem ipsum' appeared"
        max_curly_bracket: float | None = 0     # "removed any pages that contained a curly bracket"
        min_sentences: int | None = 5           # "discarded any page with fewer than 5 sentences"
        min_words: int | None = None            # not in C4 or datatrove: off (words as in c4_lines_v1)

    uses_segmentation = True

    def score(self, batch: Batch) -> Scores:
        rows = np.zeros((len(batch), 4), dtype=np.float64)
        for i, (text, lang) in enumerate(zip(batch.texts, batch.langs)):
            text = text or ""
            segmentation = segmentation_for(lang, self.segmentation)
            n_words = len(words(text, "chars")) if segmentation == "chars" else len(text.split())
            rows[i] = ("lorem ipsum" in text.lower(), "{" in text, sentence_count(text, segmentation), n_words)
        return {"lorem_ipsum": rows[:, 0], "curly_bracket": rows[:, 1], "sentences": rows[:, 2],
                "words": rows[:, 3]}


@register
class C4FilterV2(C4Filter):
    """c4_v1 without the five-sentence minimum (the same scores; `min_sentences` off by default).

    bench/filter_quality.py: the rule alone dropped 11.8% of the known-good text (short news
    articles, UDHR pages) and every bad page it caught was already dropped by
    gopher_quality_min_words before it; FineWeb-2 (Penedo et al. 2025) likewise dropped C4's
    rules for multilingual data. Set `min_sentences` to switch it back on (scores are kept).
    """
    name = "c4_v2"
    prefix = "c4"

    @dataclass(frozen=True)
    class Thresholds:
        max_lorem_ipsum: float | None = 0
        max_curly_bracket: float | None = 0
        min_sentences: int | None = None       # C4's 5 dropped good short pages and bought nothing
        min_words: int | None = None


# Sentence-final marks of scripts other than Latin and CJK, and closing quotes: c4_lines_v1 knows
# only . ? ! " ' (and 。！？ for `chars` languages), so it removes every line of Hindi, Urdu,
# Armenian, Amharic, Burmese, Tibetan ... text and every line ending in a curly quote.
OTHER_END_PUNCTUATION = ("।", "॥", "۔", "؟", "։", "።", "፧", "။", "།", "༎", "។", "៕", "”", "’", "»", "」", "』")


@register
class C4LineFilterV2(C4LineFilter):
    """c4_lines_v1 with the sentence-final marks of every script as terminal punctuation.

    v1's `filter_no_terminal_punct` accepts only . ? ! " ' (plus 。！？ for `chars` languages): it
    empties every page written in Devanagari, Arabic-script Urdu, Armenian, Ethiopic, Myanmar,
    Tibetan or Khmer (bench/filter_quality.py: all UDHR pages of hi, ur, ne, hy, my, bo, km, ...)
    and removes lines ending in a closing curly quote. v2 also accepts OTHER_END_PUNCTUATION and
    。！？ in every language; every other rule and score is v1's. Thai still has no mark: turn
    filter_no_terminal_punct off for Thai-only data.
    """
    name = "c4_lines_v2"
    prefix = "c4_lines"

    def _sentence_ends(self, chars: bool) -> tuple[str, ...]:
        return END_PUNCTUATION + CJK_END_PUNCTUATION + OTHER_END_PUNCTUATION


@register
class C4LineFilterV3(C4LineFilterV2):
    """c4_lines_v2 where the two line rules read the scripts v2 still misjudges.

    - A line whose last letter is Thai or Lao passes `filter_no_terminal_punct`: those scripts
      end sentences with a space, not a mark, so v2 empties every Thai page (bench/filter_quality.py:
      all UDHR pages of th).
    - `min_words_per_line` counts word tokens (pipeline.text.words: runs of letters, digits and
      marks), not runs between spaces: words separated by another mark, as Ethiopic's wordspace
      ፡ (U+1361) separates them, count as words (v2 counts a whole Amharic line as one word), and
      a lone dash or bullet no longer counts as a word.
    Every other rule and score is v2's.
    """
    name = "c4_lines_v3"
    prefix = "c4_lines"

    def _lacks_end(self, line: str, ends: tuple[str, ...]) -> bool:
        if line.endswith(ELLIPSIS):
            return True
        return not line.endswith(ends) and not ends_unmarked_sentence(line)

    def _word_count(self, line: str, chars: bool, at_least: int) -> int:
        return len(words(line, "chars" if chars else "whitespace"))
