"""Text helpers shared by every stage: one definition of 'clean text' for the whole pipeline."""
from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from typing import Iterator

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


def _mark_class() -> str:
    """Combining marks (Unicode Mn, Mc, Me) of the BMP as a regex class body, built once.

    `\w` lacks them, so without them a Devanagari, Bengali or Thai word would lose its vowel
    signs and fall apart into letters. The ranges scanned hold every BMP mark (checked against a
    full scan) and take ~10 ms instead of ~60 ms."""
    spans: list[list[int]] = []
    for code in (*range(0x300, 0x3100), *range(0xA600, 0xAC00), *range(0xFB1E, 0xFE30)):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


_MARK = _mark_class()
# Scripts written without spaces between words: a whitespace split would make one giant word.
_SPACELESS = (r"\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
              r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff")
_SPACELESS_CHAR = re.compile(f"[{_SPACELESS}]")
_URL_TRAIL = r".,;:!?)\]}'\""                   # marks after a URL that are not part of it
# A word: word characters and combining marks, apostrophes and hyphens inside it kept.
_WORD_RE = rf"\w[\w{_MARK}]*(?:['’\-]\w[\w{_MARK}]*)*"
# chars: one space-less character with its combining marks, or a run of other word characters.
_NOT_SPACELESS = rf"(?:[^\W{_SPACELESS}]|[{_MARK}])"
# Possessive (*+): the loop of two classes keeps no backtracking state per character (3x faster
# on a long run; nothing after it could take back a character it matched).
_NOT_SPACELESS_WORD = rf"[^\W{_SPACELESS}]{_NOT_SPACELESS}*+"
_CHARS_WORD_RE = rf"(?=\w)[{_SPACELESS}][{_MARK}]*|{_NOT_SPACELESS_WORD}(?:['’\-]{_NOT_SPACELESS_WORD})*"
_WORD = re.compile(_WORD_RE)
_CHARS_WORD = re.compile(_CHARS_WORD_RE)


def _token_re(word_char: str, body: str, first: str = "") -> str:
    """The tokens() regex: English spaCy/NLTK rules, one alternative each. Cheap guards first
    ((?=\\S), then a character check before each lookbehind) keep it within ~2.5x of words().

    Linear time on any input (tests/test_linear_time.py): no alternative rescans text that a
    later start position would scan again. A URL is the run of non-space characters after its
    scheme, less trailing punctuation: `\\S*[^\\s<trail>]` (greedy, backtracking once over the
    trailing marks) equals the former lazy `\\S+?(?=<trail>*(?:\\s|$))`, which rescanned the
    trailing marks at every character (a 16 KB 'http://....x' took seconds); `|\\S` keeps its
    one-character match when only marks follow. Abbreviations of single letters ('U.S.',
    'e.g.') are at most 64 letters long: unbounded, 'a.A.a.A...' rescanned the whole run from
    each of its letters (quadratic); no real initialism is that long."""
    clitic = r"(?:[sSdDmMtT]|re|RE|ll|LL|ve|VE)\b"
    joiner = (r"(?=[-&*@+_/'’,:.])(?:[&*@+_]|(?<=[^\W\d_])-(?=\d)|/(?![^\W\d_])|"  # AT&T UTF-8 HTTP/2
              rf"['’](?!{clitic})|(?<=\d)[,:](?=\d)|"                      # o'clock 1,000 10:30
              rf"\.(?![A-Z])|(?<![a-z])\.)(?={word_char})")                 # 3.14 file.txt, not end.Start
    word = rf"{body}(?:{joiner}{body})*(?:/(?!\S))?"
    return r"(?=\S)(?:" + "|".join((*([first] if first else []),
        rf"(?:https?://|www\.)(?:\S*[^\s{_URL_TRAIL}]|\S)",             # a URL is one token
        r"(?=[^\W\d_]{1,4}\.)(?<!\w)(?:(?:[^\W\d_]\.){2,64}+|(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Ltd|Co|"
        r"Corp|vs|Prof|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.)(?![\w.])",  # U.S. e.g. Mr. J.
        r"(?=[Cc]annot\b)(?<!\w)[Cc]an",                                # can|not
        rf"(?=[-+.@/])(?<!\S)(?:-+|[+.@/])(?={word_char}){word}",       # -5 +5 .NET @user /usr
        word,                                                          # 3.14 file.txt AT&T dir/
        rf"['’]{clitic}",                                              # it|'s we|'re didn|'t
        r"\.\.+|-{2,}|/{2,}|[^\w\s]")) + ")"                             # '...', '--', else one mark each


_TOKEN = re.compile(_token_re(r"\w", rf"\w[\w{_MARK}]*"))
_CHARS_TOKEN = re.compile(_token_re(rf"[^\W{_SPACELESS}]", _NOT_SPACELESS_WORD,
                                    first=rf"(?=\w)[{_SPACELESS}][{_MARK}]*"))
SEGMENTATIONS = ("whitespace", "chars")


def words(text: str, segmentation: str = "whitespace") -> list[str]:
    """Word tokens of `text`.

    whitespace: runs of word characters and combining marks (apostrophes and hyphens inside a
    word kept). chars: every character of a space-less script (CJK, kana, Thai, Lao, Khmer,
    Burmese), with its combining marks, is one token; other runs are split as with whitespace,
    so mixed text stays sensible. One regex pass either way.
    """
    if _SHARED is not None:
        return _shared(words, _words, text, segmentation)
    return _words(text, segmentation)


def _words(text: str, segmentation: str) -> list[str]:
    if segmentation == "whitespace":
        return _WORD.findall(text)
    if segmentation == "chars":
        return _CHARS_WORD.findall(text)
    raise ValueError(f"unknown segmentation {segmentation!r} (known: {', '.join(SEGMENTATIONS)})")


def tokens(text: str, segmentation: str = "whitespace") -> list[str]:
    """Tokens as English spaCy/NLTK tokenizers make them, by one regex: the stream the Gopher
    statistics count (datatrove's word ratios divide by it, its repetition n-grams span it).

    Words, numbers ('3.14', '1,000'), URLs and abbreviations ('U.S.', 'Mr.') stay whole; hyphens
    between letters, clitics ('it', "'s") and every other punctuation mark are split off, each
    mark its own token ('...' and '--' one). A token is a word when its first or last character
    is a word character. chars: as words(), a space-less character is one token.
    """
    if _SHARED is not None:
        return _shared(tokens, _tokens, text, segmentation)
    return _tokens(text, segmentation)


def _tokens(text: str, segmentation: str) -> list[str]:
    if segmentation == "whitespace":
        return _TOKEN.findall(text)
    if segmentation == "chars":
        return _CHARS_TOKEN.findall(text)
    raise ValueError(f"unknown segmentation {segmentation!r} (known: {', '.join(SEGMENTATIONS)})")


# words() and tokens() results while a shared_tokenization() block runs: {(function, segmentation, text): list}.
_SHARED: dict | None = None


@contextmanager
def shared_tokenization() -> Iterator[None]:
    """Inside the block, words() and tokens() of one text are computed once and the same list is
    returned to every later caller, which must not modify it. The filters of a chain read the same
    documents and lines (gopher_quality, gopher_repetition and fineweb each count tokens(); c4 and
    gopher_repetition words per line): one regex pass instead of three. Memory: the tokens of the
    block's texts, released when it ends; so a block should span one batch, not a stream."""
    global _SHARED
    outer = _SHARED
    if outer is None:
        _SHARED = {}
    try:
        yield
    finally:
        _SHARED = outer


def _shared(kind, compute, text: str, segmentation: str) -> list[str]:
    key = (kind, segmentation, text)
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = compute(text, segmentation)
    return found


def segmentation_for(lang: str | None, table: dict[str, str]) -> str:
    """The configured segmentation of `lang`, else the table's `default`."""
    return table.get(lang or "", table.get("default", "whitespace"))


# Thai and Lao end a sentence with a space, not a mark: a line may end in a letter and be whole.
_UNMARKED_SENTENCE_END = re.compile(r"[\u0e00-\u0eff]\W*$")


def ends_unmarked_sentence(line: str) -> bool:
    """Whether `line` ends in a script whose sentences carry no final mark (Thai, Lao): the line
    rules that want terminal punctuation accept it (c4_lines_v3, fineweb_v2)."""
    return _UNMARKED_SENTENCE_END.search(line[-8:]) is not None


def spaceless_ratio(text: str) -> float:
    """Share of characters from space-less scripts: tells a mislabelled CJK/Thai document."""
    return len(_SPACELESS_CHAR.findall(text)) / max(len(text), 1)


def lines(text: str) -> list[str]:
    return text.split("\n")


def word_ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
