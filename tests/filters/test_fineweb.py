import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.fineweb import FineWebQualityFilter
from filters.registry import get_filter

PROSE = "\n".join([
    "The river runs past the old mill on its way to the sea.",
    "Farmers bring their grain to the market in the town square.",
    "The miller weighs each sack and writes the price in his book.",
    "In the evening the square is quiet again, and the lamps are lit.",
])


def reasons(texts, langs=None, overrides=None, options=None):
    langs = langs or ["en"] * len(texts)
    f = FineWebQualityFilter(options)
    _, why = f.keep(f.score(Batch(texts, langs)), langs,
                    ThresholdTable(FineWebQualityFilter.Thresholds, overrides))
    return list(why)


def scores_of(text, lang="en", options=None):
    scores = FineWebQualityFilter(options).score(Batch([text], [lang]))
    return {name: float(values[0]) for name, values in scores.items()}


def distinct_lines(count, end="."):
    return [f"Line number {i} of this page says something{end}" for i in range(count)]


@pytest.mark.parametrize("text, reason", [
    (PROSE, None),
    ("", "fineweb_min_lines"),
    ("  \n\t\n ", "fineweb_min_lines"),
    ("\n".join(distinct_lines(10, end="")), "fineweb_min_line_punct_ratio"),
    # 3 of 25 lines end in punctuation: 0.12 is kept (datatrove drops below 0.12) ...
    ("\n".join(distinct_lines(3) + distinct_lines(25, end="")[3:]), None),
    # ... 2 of 25 is not
    ("\n".join(distinct_lines(2) + distinct_lines(25, end="")[2:]), "fineweb_min_line_punct_ratio"),
    ("\n".join(f"Short line {i}." for i in range(10)), "fineweb_max_short_line_ratio"),
    (PROSE + "\n" + PROSE.split("\n")[0], "fineweb_max_dup_line_char_ratio"),
    # long, distinct, punctuated lines, but separated by many blank lines: list-like layout
    ("\n\n\n\n\n\n\n\n".join(distinct_lines(3)), "fineweb_max_newline_token_ratio"),
])
def test_rules(text, reason):
    assert reasons([text]) == [reason]


@pytest.mark.parametrize("lang, reason", [
    ("en", "fineweb_max_short_line_ratio"),
    ("de", None),                             # de: short-line rule off
    ("fr", "fineweb_max_short_line_ratio"),
    ("it", "fineweb_max_short_line_ratio"),   # it: 0.9 > 0.8 still fails
])
def test_per_language_overrides(lang, reason):
    text = "\n".join([f"Short line {i}." for i in range(9)] + [PROSE.split("\n")[0]])   # 9 of 10 short
    overrides = {"default": {}, "de": {"max_short_line_ratio": None}, "it": {"max_short_line_ratio": 0.8}}
    assert reasons([text], [lang], overrides) == [reason]


def test_exact_metrics_of_a_small_text():
    # lines: 'One two three.' (14 chars), 'four five six', 'One two three.' (a duplicate), ''
    text = "One two three.\nfour five six\nOne two three.\n"
    assert scores_of(text) == {
        "lines": 3.0,
        "line_punct_ratio": 2 / 3,
        "short_line_ratio": 1.0,
        "dup_line_char_ratio": 14 / 41,         # 44 characters less 3 newlines
        "newline_token_ratio": 3 / 11,          # 9 words and 2 periods
    }


def test_lines_are_not_stripped_as_in_datatrove():
    text = "A sentence that ends with a space. \nAnother sentence that ends with a dot."
    assert scores_of(text)["line_punct_ratio"] == 0.5
    assert scores_of("   x\n" + "y" * 31)["short_line_ratio"] == 0.5   # '   x' is short, not blank


def test_terminal_marks_of_other_scripts_end_a_line_but_quotes_do_not():
    text = "\n".join(["यह एक वाक्य है।", "Это предложение?", "هذه جملة؟", 'He said "no."', "Wait…"])
    assert scores_of(text)["line_punct_ratio"] == 3 / 5


def test_chinese_document_counts_characters_as_tokens():
    text = "我们在学习中文。\n今天的天气非常好！"
    scores = scores_of(text, "zh")
    assert scores["line_punct_ratio"] == 1.0
    assert scores["newline_token_ratio"] == 1 / 17           # 7 + 8 characters and 2 marks
    # with whitespace words each line is one giant word: the ratio is 4x higher
    assert scores_of(text, "zh", {"segmentation": {"default": "whitespace"}})["newline_token_ratio"] == 1 / 4


def test_short_line_length_option():
    text = "\n".join(distinct_lines(4))
    assert scores_of(text)["short_line_ratio"] == 0.0
    assert scores_of(text, options={"short_line_length": 60})["short_line_ratio"] == 1.0


def test_unknown_option_fails_naming_it():
    with pytest.raises(FilterConfigError, match="fineweb_v1.line_length"):
        FineWebQualityFilter({"line_length": 30})


def test_registered_and_one_value_per_document():
    assert get_filter("fineweb_v1") is FineWebQualityFilter
    scores = FineWebQualityFilter().score(Batch([PROSE, "", None], ["en", "en", None]))
    assert scores["lines"].tolist() == [4.0, 0.0, 0.0]
    assert all(v.shape == (3,) for v in scores.values())

