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


def test_breaks_become_spaces_whichever_path_a_batch_takes():
    """A batch without NEL or a line/paragraph separator has its ASCII breaks replaced in its bytes,
    one with them goes through the regex: both give each text what it gets alone."""
    texts = ["é\tà\x1f€", "plain\nlines\r\n", "ünïcödé\x7f"]
    assert normalize_texts(texts) == ["é à  €", "plain lines", "ünïcödé"]
    assert normalize_texts(texts + ["nel\x85here"]) == ["é à  €", "plain lines", "ünïcödé", "nel here"]
    assert normalize_texts(pa.array(texts).slice(1)) == ["plain lines", "ünïcödé"]
