"""The part of a sampled document that shows why a rule tripped, and how two near-copies differ.

Runs on the driver for the few documents the report samples (never a stage's whole output).
The definitions follow the filters' (filters/*.py) closely enough to point at the right lines; the
scores on the page are the stage's own, read from its columns, never recomputed here.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter

MAX_EXCERPT = 600          # characters of text shown for one document
MAX_LINES = 8              # lines listed for a line rule
CHAR_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})   # the filters' default `chars` segmentation
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_TERMINAL = re.compile(r"[.!?。！？।۔]$")
_NGRAM = re.compile(r"(?:top|dup)_(\d+)gram")


def excerpt(reason: str, text: str | None, lang: str | None = None, removed_lines: list[str] | None = None,
            detail: str | None = None, short_line_length: int = 30) -> dict:
    """{"kind": what is shown, "text": the excerpt, "items": [optional list of lines or n-grams]}."""
    text = text or ""
    if reason.startswith("decontam_") and detail:        # the stage's detail: the first matched passage
        phrase = detail.replace("\n", " ")
        context = [_around(text, phrase)] if phrase in text.replace("\n", " ") else []
        return {"kind": f"text found in the evaluation set {reason[len('decontam_'):]}", "text": _cut(detail),
                "items": context}
    if detail and not text:
        return {"kind": "detail", "text": _cut(detail)}
    lines = [line for line in text.split("\n") if line.strip()]
    metric = reason.split("_max_", 1)[-1] if "_max_" in reason else reason.split("_min_", 1)[-1]
    if removed_lines:
        return _listing("removed lines", removed_lines)
    gram = _NGRAM.search(metric)
    if gram:
        n = int(gram.group(1))
        found = repeated_ngram(text, n, lang)
        if found:
            phrase, count = found
            return {"kind": f"most repeated {n}-gram", "text": f"“{phrase}” × {count}",
                    "items": [_around(text, phrase)]}
    if metric.startswith(("dup_line", "dup_para")):
        parts = lines if "line" in metric else [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]
        repeats = [(p, c) for p, c in Counter(parts).most_common() if c > 1]
        if repeats:
            return _listing("repeated " + ("lines" if "line" in metric else "paragraphs"),
                            [f"{c}× {p}" for p, c in repeats])
    if metric == "short_line_ratio":
        return _listing(f"lines of at most {short_line_length} characters",
                        [line for line in lines if len(line) <= short_line_length])
    if metric == "line_punct_ratio":
        return _listing("lines without terminal punctuation", [line for line in lines if not _TERMINAL.search(line)])
    if metric == "bullet_lines_ratio":
        return _listing("bullet lines", [line for line in lines if line.lstrip().startswith(("•", "-"))])
    if metric == "ellipsis_lines_ratio":
        return _listing("lines ending in an ellipsis", [line for line in lines if line.rstrip().endswith(("...", "…"))])
    if metric == "lorem_ipsum":
        return _listing("lines with “lorem ipsum”", [line for line in lines if "lorem ipsum" in line.lower()])
    if metric == "curly_bracket":
        return _listing("lines with “{”", [line for line in lines if "{" in line])
    if metric in ("alpha_words_ratio", "symbol_word_ratio"):
        def alpha(line: str) -> float:
            toks = _TOKEN.findall(line)
            return sum(any(ch.isalpha() for ch in t) for t in toks) / len(toks) if toks else 1.0
        return _listing("lines with the fewest alphabetic words", sorted(lines, key=alpha)[:MAX_LINES])
    if metric == "newline_token_ratio":
        return _listing("shortest lines", sorted(lines, key=len)[:MAX_LINES])
    return {"kind": "start of the text", "text": _cut(text)}


def repeated_ngram(text: str, n: int, lang: str | None = None) -> tuple[str, int] | None:
    """The most frequent word n-gram (characters for space-less scripts) and its count, if it repeats."""
    toks = list(text.replace("\n", " ")) if lang in CHAR_LANGS else _TOKEN.findall(text)
    toks = [t for t in toks if not t.isspace()]
    if len(toks) < n:
        return None
    grams = Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))
    gram, count = grams.most_common(1)[0]
    if count < 2:
        return None
    joiner = "" if lang in CHAR_LANGS else " "
    return joiner.join(gram), count


def removed_lines(before: str | None, after: str | None) -> list[str]:
    """Lines of `before` that `after` lacks (as a multiset, stripped, in `before`'s order)."""
    left = Counter(line.strip() for line in (after or "").split("\n") if line.strip())
    out = []
    for line in (before or "").split("\n"):
        key = line.strip()
        if not key:
            continue
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(key)
    return out


def shingles(text: str, lang: str | None, word_n: int = 5, char_n: int = 5) -> set:
    """Word n-grams (character n-grams for space-less scripts), lowercased: what MinHash estimates."""
    if lang in CHAR_LANGS:
        chars = re.sub(r"\s+", "", (text or "").lower())
        return {chars[i:i + char_n] for i in range(max(len(chars) - char_n + 1, 1))} if chars else set()
    words = _WORD.findall((text or "").lower())
    if len(words) < word_n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + word_n]) for i in range(len(words) - word_n + 1)}


def jaccard(a: str, b: str, lang: str | None, word_n: int = 5, char_n: int = 5) -> float | None:
    sa, sb = shingles(a, lang, word_n, char_n), shingles(b, lang, word_n, char_n)
    if not sa and not sb:
        return None
    return round(len(sa & sb) / len(sa | sb), 4)


def differences(kept: str, copy: str, lang: str | None, limit: int = 8, context: int = 6) -> list[dict]:
    """Where a copy differs from the kept document: [{"before": context, "kept": text only in the
    kept one, "copy": text only in the copy, "after": context}], words (characters for space-less
    scripts) compared, the first `limit` differences."""
    chars = lang in CHAR_LANGS
    a = list(kept or "") if chars else re.findall(r"\S+|\s+", kept or "")
    b = list(copy or "") if chars else re.findall(r"\S+|\s+", copy or "")
    ctx = context * (4 if chars else 2)
    gap = 6 if chars else 5     # differences this close (in tokens, spaces count) are shown as one
    spans: list[list[int]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if spans and i1 - spans[-1][1] <= gap and j1 - spans[-1][3] <= gap:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    out = []
    for i1, i2, j1, j2 in spans[:limit]:
        out.append({"before": "".join(a[max(i1 - ctx, 0):i1]), "kept": _cut("".join(a[i1:i2]), 300),
                    "copy": _cut("".join(b[j1:j2]), 300), "after": "".join(a[i2:i2 + ctx])})
    return out


def _listing(kind: str, items: list[str]) -> dict:
    shown = [_cut(i, 200) for i in items[:MAX_LINES]]
    more = len(items) - len(shown)
    return {"kind": kind + (f" (first {len(shown)} of {len(items)})" if more > 0 else ""),
            "text": "\n".join(shown), "items": shown}


def _around(text: str, phrase: str, width: int = 160) -> str:
    flat = text.replace("\n", " ")
    i = flat.find(phrase)
    if i < 0:
        return _cut(flat, MAX_EXCERPT)
    start = max(i - width, 0)
    return ("…" if start else "") + flat[start:i + len(phrase) + width] + ("…" if i + len(phrase) + width < len(flat) else "")


def _cut(text: str, size: int = MAX_EXCERPT) -> str:
    return text if len(text) <= size else text[:size] + "…"
