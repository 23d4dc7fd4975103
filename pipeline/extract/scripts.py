"""Writing systems for language ID: the Unicode script of each letter, how much a letter of it says,
and which of fastText lid.176's languages are written in it.

One table maps every code point below U+40000 to a class: a letter of a script, a mark (vowel sign,
tone mark, diacritic) of a script, another letter, a space, or anything else. `profile` looks texts'
code points up in it and counts the classes per text with numpy, a few nanoseconds a character (the
regex behind `pipeline.text.letter_count` takes ~100). Its `letters` and `non_space` are exactly
`letter_count` and `non_space_count` (letters: `[^\\W\\d_]`, i.e. alphanumeric and not a decimal
digit; spaces: `\\s`).

**Units** measure how much text there is in Latin-letter equivalents: how many letters English
needs to say the same thing. Measured on the Universal Declaration of Human Rights, a parallel text
(whole documents, no language labels used; English has 8,675 letters): Chinese needs 2,560 Han
characters (8675/2560 = 3.4 letters each), Korean 3,344 Hangul syllables (2.6), Japanese 1,961 kana
and 1,789 kanji (2.3 a character), Amharic 4,263 Ethiopic syllables (2.0), Nuosu 2,953 Yi syllables
(2.9). In the Brahmic and South-East Asian abugidas a vowel sign or a tone mark is written where
Latin writes a letter: letters alone make 1.2-1.7 per character, letters plus marks 0.9-1.1 (Hindi
1.01, Bengali 1.08, Telugu 0.90, Thai 0.98, Sinhala 1.00, Tibetan 0.94; Burmese 0.64 and Tamil 0.74
with every mark counted, hence half a unit per Burmese mark). Alphabets are 0.85-0.95 per letter
(Russian, Greek, Armenian, Georgian); Arabic and Hebrew 1.15-1.5 without written vowels but 0.84
(Uyghur) and 1.04 (Yiddish) with them, so they stay at 1. Weights are these ratios rounded down.
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import numpy as np

# Scripts by ISO 15924 code: (code, weight of a letter, weight of a mark, code point ranges).
# Ranges are the Unicode blocks of the script; only letters (L*) and marks (M*) in them take the
# script's class. Marks of blocks shared by all scripts (U+0300 combining diacritics) weigh nothing.
_ABUGIDA_MARK = 1.0
SCRIPTS: tuple[tuple[str, float, float, tuple[tuple[int, int], ...]], ...] = (
    ("Latn", 1, 0, ((0x41, 0x5A), (0x61, 0x7A), (0xAA, 0xAA), (0xBA, 0xBA), (0xC0, 0x24F), (0x250, 0x2AF),
                    (0x1D00, 0x1DBF), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),
                    (0xFB00, 0xFB06), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))),
    ("Grek", 1, 0, ((0x370, 0x3FF), (0x1F00, 0x1FFF))),
    ("Cyrl", 1, 0, ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))),
    ("Armn", 1, 0, ((0x530, 0x58F), (0xFB13, 0xFB17))),
    ("Hebr", 1, 0, ((0x590, 0x5FF), (0xFB1D, 0xFB4F))),
    ("Arab", 1, 0, ((0x600, 0x6FF), (0x750, 0x77F), (0x870, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("Syrc", 1, 0, ((0x700, 0x74F), (0x860, 0x86F))),
    ("Thaa", 1, 0, ((0x780, 0x7BF),)),
    ("Nkoo", 1, 0, ((0x7C0, 0x7FF),)),
    ("Deva", 1, _ABUGIDA_MARK, ((0x900, 0x97F), (0xA8E0, 0xA8FF))),
    ("Beng", 1, _ABUGIDA_MARK, ((0x980, 0x9FF),)),
    ("Guru", 1, _ABUGIDA_MARK, ((0xA00, 0xA7F),)),
    ("Gujr", 1, _ABUGIDA_MARK, ((0xA80, 0xAFF),)),
    ("Orya", 1, _ABUGIDA_MARK, ((0xB00, 0xB7F),)),
    ("Taml", 1, _ABUGIDA_MARK, ((0xB80, 0xBFF), (0x11FC0, 0x11FFF))),
    ("Telu", 1, _ABUGIDA_MARK, ((0xC00, 0xC7F),)),
    ("Knda", 1, _ABUGIDA_MARK, ((0xC80, 0xCFF),)),
    ("Mlym", 1, _ABUGIDA_MARK, ((0xD00, 0xD7F),)),
    ("Sinh", 1, _ABUGIDA_MARK, ((0xD80, 0xDFF),)),
    ("Thai", 1, _ABUGIDA_MARK, ((0xE00, 0xE7F),)),
    ("Laoo", 1, _ABUGIDA_MARK, ((0xE80, 0xEFF),)),
    ("Tibt", 1, _ABUGIDA_MARK, ((0xF00, 0xFFF),)),
    ("Mymr", 1, 0.5, ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F))),
    ("Geor", 1, 0, ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F))),
    ("Hang", 2.5, 0, ((0xAC00, 0xD7AF),)),                       # syllables
    ("Jamo", 1, 0, ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF), (0xFFA0, 0xFFDC))),
    ("Ethi", 2, 0, ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F))),
    ("Cher", 1, 0, ((0x13A0, 0x13FF), (0xAB70, 0xABBF))),
    ("Cans", 1, 0, ((0x1400, 0x167F), (0x18B0, 0x18FF))),
    ("Tglg", 1, _ABUGIDA_MARK, ((0x1700, 0x171F),)),
    ("Hano", 1, _ABUGIDA_MARK, ((0x1720, 0x173F),)),
    ("Buhd", 1, _ABUGIDA_MARK, ((0x1740, 0x175F),)),
    ("Tagb", 1, _ABUGIDA_MARK, ((0x1760, 0x177F),)),
    ("Khmr", 1, _ABUGIDA_MARK, ((0x1780, 0x17FF), (0x19E0, 0x19FF))),
    ("Mong", 1, 0, ((0x1800, 0x18AF),)),
    ("Limb", 1, _ABUGIDA_MARK, ((0x1900, 0x194F),)),
    ("Tale", 1, _ABUGIDA_MARK, ((0x1950, 0x197F),)),
    ("Talu", 1, _ABUGIDA_MARK, ((0x1980, 0x19DF),)),
    ("Bugi", 1, _ABUGIDA_MARK, ((0x1A00, 0x1A1F),)),
    ("Lana", 1, _ABUGIDA_MARK, ((0x1A20, 0x1AAF),)),
    ("Bali", 1, _ABUGIDA_MARK, ((0x1B00, 0x1B7F),)),
    ("Sund", 1, _ABUGIDA_MARK, ((0x1B80, 0x1BBF), (0x1CC0, 0x1CCF))),
    ("Batk", 1, _ABUGIDA_MARK, ((0x1BC0, 0x1BFF),)),
    ("Olck", 1, 0, ((0x1C50, 0x1C7F),)),
    ("Tfng", 1, 0, ((0x2D30, 0x2D7F),)),
    ("Kana", 1.5, 0, ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F))),
    ("Bopo", 1, 0, ((0x3100, 0x312F), (0x31A0, 0x31BF))),
    ("Hani", 3, 0, ((0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                    (0xF900, 0xFAFF), (0x20000, 0x3FFFF))),
    ("Yiii", 3, 0, ((0xA000, 0xA4CF),)),
    ("Vaii", 1.5, 0, ((0xA500, 0xA63F),)),
    ("Java", 1, _ABUGIDA_MARK, ((0xA980, 0xA9DF),)),
    ("Cham", 1, _ABUGIDA_MARK, ((0xAA00, 0xAA5F),)),
    ("Mtei", 1, _ABUGIDA_MARK, ((0xAAE0, 0xAAFF), (0xABC0, 0xABFF))),
    ("Cakm", 1, _ABUGIDA_MARK, ((0x11100, 0x1114F),)),
    ("Gran", 1, _ABUGIDA_MARK, ((0x11300, 0x1137F),)),
    ("Adlm", 1, 0, ((0x1E900, 0x1E95F),)),
)
SCRIPT_CODES = tuple(code for code, *_ in SCRIPTS)

# fastText lid.176's labels that are written in a script other than Latin, with every script the
# language is commonly written in; any label not listed is written in Latin only. "Hani" is Han
# without kana or Hangul ("Jpan": with kana, "Kore": with Hangul; see `writing_systems`).
LABEL_SCRIPTS: dict[str, tuple[str, ...]] = {
    "am": ("Ethi",), "ar": ("Arab",), "arz": ("Arab",), "as": ("Beng",), "av": ("Cyrl",),
    "az": ("Latn", "Cyrl"), "azb": ("Arab",), "ba": ("Cyrl",), "be": ("Cyrl",), "bg": ("Cyrl",),
    "bh": ("Deva",), "bn": ("Beng",), "bo": ("Tibt",), "bpy": ("Beng",), "bs": ("Latn", "Cyrl"),
    "bxr": ("Cyrl", "Mong"), "ce": ("Cyrl",), "ckb": ("Arab", "Latn"), "cv": ("Cyrl",), "dty": ("Deva",),
    "dv": ("Thaa",), "el": ("Grek",), "fa": ("Arab",), "gom": ("Deva", "Latn"), "gu": ("Gujr",),
    "he": ("Hebr",), "hi": ("Deva",), "hif": ("Latn", "Deva"), "hy": ("Armn",), "ja": ("Jpan", "Hani"),
    "jv": ("Latn", "Java"), "ka": ("Geor",), "kk": ("Cyrl", "Latn", "Arab"), "km": ("Khmr",),
    "kn": ("Knda",), "ko": ("Kore",), "krc": ("Cyrl",), "ku": ("Latn", "Arab", "Cyrl"), "kv": ("Cyrl",),
    "ky": ("Cyrl", "Arab"), "lez": ("Cyrl",), "lo": ("Laoo",), "lrc": ("Arab",), "mai": ("Deva",),
    "mhr": ("Cyrl",), "mk": ("Cyrl",), "ml": ("Mlym",), "mn": ("Cyrl", "Mong"), "mr": ("Deva",),
    "mrj": ("Cyrl",), "ms": ("Latn", "Arab"), "my": ("Mymr",), "myv": ("Cyrl",), "mzn": ("Arab",),
    "ne": ("Deva",), "new": ("Deva",), "or": ("Orya",), "os": ("Cyrl",), "pa": ("Guru",), "pnb": ("Arab",),
    "ps": ("Arab",), "ru": ("Cyrl",), "rue": ("Cyrl",), "sa": ("Deva", "Gran"), "sah": ("Cyrl",),
    "sd": ("Arab", "Deva"), "sh": ("Latn", "Cyrl"), "si": ("Sinh",), "sr": ("Cyrl", "Latn"),
    "su": ("Latn", "Sund"), "ta": ("Taml",), "te": ("Telu",), "tg": ("Cyrl",), "th": ("Thai",),
    "tk": ("Latn", "Cyrl"), "tl": ("Latn", "Tglg"), "tt": ("Cyrl", "Latn"), "tyv": ("Cyrl",),
    "ug": ("Arab", "Latn", "Cyrl"),
    "uk": ("Cyrl",), "ur": ("Arab",), "uz": ("Latn", "Cyrl"), "wuu": ("Hani",), "xal": ("Cyrl", "Mong"),
    "xmf": ("Geor",), "yi": ("Hebr",), "yue": ("Hani",), "zh": ("Hani", "Bopo"),
}

# Class ids: 0 other, 1 space, 2 letter of no listed script, 3 mark of no listed script, then a
# letter and a mark class for each script in SCRIPTS order.
_OTHER, _SPACE, _LETTER, _MARK = 0, 1, 2, 3
_FIRST = 4
N_CLASSES = _FIRST + 2 * len(SCRIPTS)
_TABLE_END = 0x40000   # above: unassigned, private use and tags; never a letter or a space


@functools.lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """The class of each code point below _TABLE_END (uint8), and _OTHER at index _TABLE_END for all above."""
    classes = np.zeros(_TABLE_END + 1, dtype=np.uint8)
    owner = np.zeros(_TABLE_END, dtype=np.int64)       # 1 + index in SCRIPTS of the block a code point is in
    for index, (_, _, _, ranges) in enumerate(SCRIPTS):
        for lo, hi in ranges:
            owner[lo:hi + 1] = index + 1
    script_of = owner.tolist()
    for code in range(_TABLE_END):
        char = chr(code)
        if char.isalnum():
            if char.isdecimal():
                continue
            script = script_of[code]
            classes[code] = _FIRST + 2 * (script - 1) if script and char.isalpha() else _LETTER
        elif char.isspace():
            classes[code] = _SPACE
        elif unicodedata.category(char)[0] == "M":
            script = script_of[code]
            classes[code] = _FIRST + 2 * (script - 1) + 1 if script else _MARK
    return classes


def _class_matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class -> is a letter), (class -> units), (class x script -> units of that script)."""
    is_letter = np.zeros(N_CLASSES, dtype=np.int64)
    units = np.zeros(N_CLASSES)
    per_script = np.zeros((N_CLASSES, len(SCRIPTS)))
    is_letter[_LETTER] = 1
    units[_LETTER] = 1.0
    for index, (_, letter_weight, mark_weight, _) in enumerate(SCRIPTS):
        letter, mark = _FIRST + 2 * index, _FIRST + 2 * index + 1
        is_letter[letter] = 1
        units[letter], units[mark] = letter_weight, mark_weight
        per_script[letter, index], per_script[mark, index] = letter_weight, mark_weight
    return is_letter, units, per_script


_IS_LETTER, _UNITS, _PER_SCRIPT = _class_matrices()
_SCRIPT_INDEX = {code: i for i, code in enumerate(SCRIPT_CODES)}
_CHUNK_CHARS = 1 << 22


@dataclass
class Profile:
    """Counts for a list of texts, one row each."""
    letters: np.ndarray      # int64: letter_count of each text
    non_space: np.ndarray    # int64: non_space_count of each text
    units: np.ndarray        # float64: Latin-letter equivalents (see the module's docstring)
    script_units: np.ndarray  # float64 (texts x SCRIPTS): units in each script


def profile(texts: list[str]) -> Profile:
    """Letters, visible characters, units and units per script of each text, in one pass over
    their code points (UTF-32, a numpy gather through the class table, one bincount)."""
    n = len(texts)
    counts = np.zeros((n, N_CLASSES), dtype=np.int64)
    table = _table()
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    ends = np.cumsum(lengths)
    start = 0
    while start < n:                      # a chunk of texts at a time: bounded memory
        before = int(ends[start - 1]) if start else 0
        end = max(start + 1, int(np.searchsorted(ends, before + _CHUNK_CHARS, side="right")))
        points = np.frombuffer("".join(texts[start:end]).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        classes = table[np.minimum(points, _TABLE_END)]
        keys = np.repeat(np.arange(end - start, dtype=np.int64) * N_CLASSES, lengths[start:end])
        keys += classes
        counts[start:end] = np.bincount(keys, minlength=(end - start) * N_CLASSES).reshape(end - start, N_CLASSES)
        start = end
    return Profile(letters=counts @ _IS_LETTER, non_space=lengths - counts[:, _SPACE],
                   units=counts @ _UNITS, script_units=counts @ _PER_SCRIPT)


def writing_systems(script_units: np.ndarray, min_share: float = 0.5) -> list[str | None]:
    """The writing system of each row of `script_units` (texts x SCRIPTS): the script that holds at
    least `min_share` of the text's script units, None if none does (or the text has none).

    Han, kana and Hangul count together: Han with kana making at least a tenth of them is "Jpan"
    (Japanese), with Hangul a tenth "Kore" (Korean), Han alone "Hani"; kana alone is "Jpan",
    Hangul syllables or jamo alone "Kore"."""
    units = np.atleast_2d(np.asarray(script_units, dtype=np.float64))
    if units.shape[0] == 0:
        return []
    total = units.sum(axis=1)
    need = min_share * total
    han, kana = units[:, _SCRIPT_INDEX["Hani"]], units[:, _SCRIPT_INDEX["Kana"]]
    hangul = units[:, _SCRIPT_INDEX["Hang"]] + units[:, _SCRIPT_INDEX["Jamo"]]
    cjk = han + kana + hangul
    best = np.argmax(units, axis=1)
    codes = np.array([*SCRIPT_CODES, "Jpan", "Kore"], dtype=object)
    chosen = np.where(units[np.arange(len(units)), best] >= need, best, -1)
    cjk_text = (cjk >= need) & (cjk > 0)
    japanese = cjk_text & (kana >= 0.1 * cjk) & (kana >= hangul)
    korean = cjk_text & ~japanese & (hangul >= 0.1 * cjk)
    han_only = cjk_text & ~japanese & ~korean
    chosen = np.where(han_only, np.where(han >= need, _SCRIPT_INDEX["Hani"], -1), chosen)
    chosen = np.where(japanese, len(SCRIPT_CODES), np.where(korean, len(SCRIPT_CODES) + 1, chosen))
    chosen = np.where(total > 0, chosen, -1)
    return [None if c < 0 else codes[c] for c in chosen.tolist()]


def writing_system(script_units: np.ndarray, min_share: float = 0.5) -> str | None:
    """writing_systems for one text's row."""
    return writing_systems(np.asarray(script_units)[None, :], min_share)[0]


def _languages_by_script() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for label, scripts in LABEL_SCRIPTS.items():
        for script in scripts:
            table.setdefault(script, []).append(label)
    return {script: tuple(sorted(labels)) for script, labels in table.items()}


SCRIPT_LANGUAGES = _languages_by_script()   # non-Latin script -> fastText labels written in it


def languages_of(script: str, labels: frozenset[str] | set[str]) -> frozenset[str]:
    """The labels among `labels` (the model's) whose language is written in `script`; Latin: every
    label not listed in LABEL_SCRIPTS plus those listed with Latin. Empty for a script no label uses."""
    if script == "Latn":
        return frozenset(label for label in labels
                         if label not in LABEL_SCRIPTS or "Latn" in LABEL_SCRIPTS[label])
    return frozenset(SCRIPT_LANGUAGES.get(script, ())) & frozenset(labels)
