import pytest

from classifiers.normalize import MAX_CHARS, normalize_for_classifier


@pytest.mark.parametrize("text, expected", [
    ("Hello,  WORLD!", "hello , world !"),
    ("line one\n\nline\ttwo\r\n", "line one line two"),
    ("ｆｕｌｌ ｗｉｄｔｈ", "full width"),            # NFKC
    ("ﬁne", "fine"),                                # ligature
    ("It's 3.14", "it ' s 3 . 14"),
    ("  \n ", ""),
    ("a\x00b", "ab"),                               # control characters dropped
])
def test_normalize(text, expected):
    assert normalize_for_classifier(text) == expected


def test_truncates_at_a_space_and_is_deterministic():
    text = "word. " * 10_000
    out = normalize_for_classifier(text)
    assert len(out) <= MAX_CHARS and not out.endswith(" ")
    assert out == normalize_for_classifier(text)
    assert normalize_for_classifier("abcdef ghi", max_chars=8) == "abcdef"
    assert normalize_for_classifier("a" * 50, max_chars=10) == "a" * 10
