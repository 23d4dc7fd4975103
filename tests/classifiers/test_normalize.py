import pyarrow as pa
import pytest

from classifiers.normalize import MAX_CHARS, normalize_for_classifier, normalize_texts


@pytest.mark.parametrize("text, expected", [
    ("Hello,  WORLD!", "hello ,   world !"),
    ("line one\n\nline\ttwo\r\n", "line one  line two"),   # tab: fastText splits on it anyway
    ("ｆｕｌｌ ｗｉｄｔｈ", "full width"),            # NFKC
    ("ﬁne", "fine"),                                # ligature
    ("It's 3.14", "it ' s 3 . 14"),
    ("  \n ", ""),
    ("a\x00b\u2028c", "a b c"),                     # controls and line separators become spaces
    ("a\x01b\x1fc\x7fd\x0be", "a b c d e"),           # ASCII controls only: the bytes path
    ("x\x85y\u2029z", "x y z"),                       # NEL and the paragraph separator
    ("नमस्ते दुनिया", "नमस्ते दुनिया"),                   # combining marks stay in their word
    ("bad \ud800 surrogate", "bad  \ufffd  surrogate"),
])
def test_normalize(text, expected):
    assert normalize_for_classifier(text) == expected


def test_tokens_match_the_reference_definition():
    """Whitespace-split tokens equal the per-character definition in the module docstring."""
    import unicodedata

    def reference(text):
        text = unicodedata.normalize("NFKC", text).lower()
        out = []
        for ch in text:
            keep = ch.isalnum() or ch == "_" or ch.isspace() or unicodedata.category(ch).startswith("M")
            out.append(ch if keep else f" {ch} ")
        return "".join(out).split()

    texts = ["Ça coûte 3,50 € — «vraiment» ?", "Grüße aus Köln!!", "東京は晴れ。明日も？", "x_y=1; z->2 #tag @me"]
    assert [t.split() for t in normalize_texts(texts)] == [reference(t) for t in texts]


def test_batches_and_arrow_arrays_agree_with_single_texts():
    texts = ["One.", None, "TWO, three"]
    assert normalize_texts(texts) == ["one .", "", "two ,  three"]
    assert normalize_texts(pa.array(texts)) == normalize_texts(texts)


def test_truncates_at_a_space_and_is_deterministic():
    text = "word " * 10_000
    out = normalize_for_classifier(text)
    assert len(out) <= MAX_CHARS and out.endswith("word")
    assert out == normalize_for_classifier(text)
    assert normalize_for_classifier("abcdef ghi", max_chars=8) == "abcdef"
    assert normalize_for_classifier("a" * 50, max_chars=10) == "a" * 10


def _pyarrow_kernels(texts):
    """Steps 3-6 as the pyarrow (RE2) kernels that normalize.py's code-point tables were built from."""
    import pyarrow.compute as pc
    from classifiers import normalize

    prepared = [normalize._prepare(t, MAX_CHARS) for t in texts]
    prepared = ["".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in t) for t in prepared]
    array = pc.replace_substring_regex(pc.utf8_lower(pa.array(prepared, pa.string())), normalize._BREAKS, " ")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(array, normalize._PUNCT, r" \0 ")).to_pylist()


def test_code_point_tables_agree_with_the_pyarrow_kernels_on_random_unicode():
    import random

    rng = random.Random(7)
    pools = [range(0x00, 0x80), range(0x80, 0x800), range(0x800, 0x3100), range(0xD7F0, 0xE010),
             range(0xFF00, 0x10000), range(0x1D400, 0x1D800),
             [0x85, 0xA0, 0x130, 0x301, 0x1680, 0x2028, 0x2029, 0x212A, 0x3000, 0x1E9E, 0x0B47, 0x0B3E]]
    texts = ["".join(chr(rng.choice(rng.choice(pools))) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["\u1680a\u1680", " . x . ", "\u2028", "Ǆ ǅ ǆ İ ẞ K", ""]
    assert normalize_texts(texts) == _pyarrow_kernels(texts)


def test_nfkc_line_by_line_equals_nfkc_of_the_whole_text():
    """Only the lines not in NFKC are normalised: the same text as normalising all of it, also where a
    line starts with a combining mark or a compatibility character sits next to a newline."""
    import unicodedata

    from classifiers.normalize import _prepare

    texts = ["ﬁne\n\u0301accent\nｆｕｌｌ", "e\n\u0301", "\u0b47\n\u0b3e", "ok line\n\u00b4\n\u2460 ①",
             "\u1100\n\u1161\u11a8", "plain\nascii\n", "\n\n\uff21"]
    for text in texts:
        assert _prepare(text, MAX_CHARS) == unicodedata.normalize("NFKC", text)
