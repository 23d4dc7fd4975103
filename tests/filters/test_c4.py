import numpy as np
import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.c4 import C4Filter, C4LineFilter, sentence_count
from filters.registry import get_filter

S = "This sentence has enough words."   # one sentence, five words
FIVE = " ".join([S] * 5)


def reasons(texts, langs=None, overrides=None, options=None):
    langs = langs or ["en"] * len(texts)
    f = C4Filter(options)
    _, why = f.keep(f.score(Batch(texts, langs)), langs, ThresholdTable(C4Filter.Thresholds, overrides))
    return list(why)


def cleaned(text, lang="en", options=None):
    """(text after c4_lines_v1, its scores for the one document as plain numbers)."""
    texts, scores = C4LineFilter(options).apply(Batch([text], [lang]))
    return texts[0], {name: float(values[0]) for name, values in scores.items()}


@pytest.mark.parametrize("text, reason", [
    (FIVE, None),
    ("\n".join([S] * 5), None),                                  # a sentence per line
    (" ".join([S] * 4), "c4_min_sentences"),
    ("", "c4_min_sentences"),
    (FIVE + " Lorem ipsum dolor sit amet.", "c4_max_lorem_ipsum"),
    (FIVE + " LOREM IPSUM dolor.", "c4_max_lorem_ipsum"),      # any case
    (FIVE + " The set {a, b} is small.", "c4_max_curly_bracket"),
    (FIVE + " Lorem ipsum and {braces}.", "c4_max_lorem_ipsum"),  # first rule in order wins
    ("Wait... what. " * 2 + "Mr. Smith came. Dr. Who left.", "c4_min_sentences"),  # 4: ellipses, titles
])
def test_page_rules(text, reason):
    assert reasons([text]) == [reason]


@pytest.mark.parametrize("text, lang, reason", [
    (" ".join([S] * 3), "en", "c4_min_sentences"),
    (" ".join([S] * 3), "de", None),                 # de: min_sentences 3
    (FIVE + " {x}.", "en", "c4_max_curly_bracket"),
    (FIVE + " {x}.", "fr", None),                    # fr: curly-bracket rule off
])
def test_per_language_overrides(text, lang, reason):
    overrides = {"default": {}, "de": {"min_sentences": 3}, "fr": {"max_curly_bracket": None}}
    assert reasons([text], [lang], overrides) == [reason]


def test_min_words_is_off_by_default_and_can_be_set():
    assert reasons([FIVE]) == [None]
    assert reasons([FIVE], overrides={"default": {"min_words": 26}}) == ["c4_min_words"]


@pytest.mark.parametrize("text, segmentation, count", [
    ("One. Two. Three.", "whitespace", 3),
    ("Wait... what is it.", "whitespace", 1),              # an ellipsis is no sentence end
    ("Mr. Smith is here. He left.", "whitespace", 2),      # spaCy keeps 'Mr.' whole
    ("I live in the USA. It is big.", "whitespace", 2),    # two capitals: split
    ("I saw J. Smith today.", "whitespace", 1),            # one capital: an initial
    ("Wow!! Really? Yes.", "whitespace", 3),
    ('He said "stop." Then left.', "whitespace", 2),
    ("Go (see above). Then stop.", "whitespace", 2),
    ("Ends here. - next part", "whitespace", 2),           # past a dash chunk
    ("e.g. this one. and that", "whitespace", 2),
    ("word.Next one", "whitespace", 2),
    ("It costs 5. Then six.", "whitespace", 2),
    ("Line one.\n\nLine two. Again.", "whitespace", 3),   # blank lines count nothing
    ("", "whitespace", 0),
    ("我们。你们！他们？好", "chars", 4),                    # CJK marks need no space
    ("我们。你们！他们？好", "whitespace", 1),
])
def test_sentence_count(text, segmentation, count):
    assert sentence_count(text, segmentation) == count


@pytest.mark.parametrize("line, rule", [
    ("This line is kept as it is.", None),
    ('A quoted line ends with a quote."', None),
    ("A single quote also ends it'", None),
    ("No terminal punctuation here", "no_terminal_punct"),
    ("An ellipsis is no ending...", "no_terminal_punct"),
    ("Cited at the end [1]", "no_terminal_punct"),   # [1] is cut first: ends in a space
    ("Two words.", "too_few_words"),
    ("Please enable JavaScript to continue.", "javascript"),
    ("By using this site you agree to our Terms of Use.", "policy"),
    ("This site uses cookies for analytics.", "policy"),
    ("Read our privacy policy before you sign up.", "policy"),
    ("x" * 1001 + " is one very long word.", "too_long_word"),
    ("x" * 1000 + " is long but allowed.", None),
])
def test_each_line_rule(line, rule):
    text, scores = cleaned(line)
    counts = {name[len("lines_"):]: value for name, value in scores.items()
              if name.startswith("lines_") and name != "lines_removed"}
    assert text == ("" if rule else line)
    assert counts == {r: float(r == rule) for r in counts}
    assert scores["lines_removed"] == float(rule is not None)


def test_line_modifier_removes_exactly_the_expected_lines():
    text = "\n".join([
        "The first line is fine.",
        "No terminal punctuation here",
        "Too short.",
        "Please enable JavaScript to continue.",
        "By using this site you agree to our Terms of Use.",
        "x" * 1001 + " is a very long word.",
        "",
        "Trailing ellipsis is not an end...",
        "A cited sentence ends here.[1]",
        '   Quoted speech ends with a quote."   ',
    ])
    new, scores = cleaned(text)
    assert new == 'The first line is fine.\nA cited sentence ends here.\nQuoted speech ends with a quote."'
    assert scores == {"lines_removed": 7.0, "chars_removed_ratio": 1 - len(new) / len(text),
                      "lines_too_long_word": 1.0, "lines_no_terminal_punct": 2.0, "lines_too_few_words": 1.0,
                      "lines_javascript": 1.0, "lines_policy": 1.0}


def test_chars_removed_ratio_exact():
    new, scores = cleaned("Keep this line here.\nDrop")     # 25 characters, 20 kept
    assert new == "Keep this line here."
    assert scores["chars_removed_ratio"] == pytest.approx(0.2)
    assert cleaned("")[1]["chars_removed_ratio"] == 0.0


@pytest.mark.parametrize("options, line, kept", [
    ({"min_words_per_line": None}, "Two words.", True),
    ({"min_words_per_line": 2}, "Two words.", True),
    ({"filter_no_terminal_punct": False}, "No terminal punctuation here", True),
    ({"filter_javascript": False}, "Please enable JavaScript to continue.", True),
    ({"filter_policy": False}, "This site uses cookies for analytics.", True),
    ({"remove_citations": False}, "Cited at the end [1]", False),
    ({"remove_citations": False}, "Cited here.[1]", False),
    ({}, "Cited here, then kept.[1]", True),
    ({"max_word_length": None}, "x" * 1001 + " is one very long word.", True),
])
def test_options_switch_rules_as_datatrove_arguments_do(options, line, kept):
    assert (cleaned(line, options=options)[0] != "") is kept


def test_unknown_or_mistyped_option_fails_naming_it():
    with pytest.raises(FilterConfigError, match="c4_lines_v1.min_words"):
        C4LineFilter({"min_words": 3})
    with pytest.raises(FilterConfigError, match="c4_lines_v1.max_word_length"):
        C4LineFilter({"max_word_length": "long"})
    with pytest.raises(FilterConfigError, match="c4_v1.lines"):
        C4Filter({"lines": 3})


ZH = "\n".join(["我们在学习中文。", "今天的天气非常好！", "菜单", "好。", "他们明天去北京吗？",
                "这是一个很长的句子。", "我们都很高兴！"])


def test_chinese_document_uses_characters_as_words():
    new, scores = cleaned(ZH, "zh")
    # '菜单' has no terminal mark; '好。' is one character-word (< 3)
    assert new.split("\n") == ["我们在学习中文。", "今天的天气非常好！", "他们明天去北京吗？", "这是一个很长的句子。",
                               "我们都很高兴！"]
    assert (scores["lines_no_terminal_punct"], scores["lines_too_few_words"]) == (1.0, 1.0)
    assert reasons([new], ["zh"]) == [None]                       # 5 sentences
    assert C4Filter().score(Batch([new], ["zh"]))["words"][0] == 7 + 8 + 8 + 9 + 6


def test_chinese_with_whitespace_words_loses_every_line_as_datatrove_does():
    options = {"segmentation": {"default": "whitespace"}}
    new, scores = cleaned(ZH, "zh", options)
    # 。！？ are not datatrove's line endings, and each line would be one giant "word"
    assert new == "" and scores["lines_no_terminal_punct"] == 7.0
    assert reasons([new], ["zh"], options=options) == ["c4_min_sentences"]


@pytest.mark.parametrize("page, reason", [
    ("\n".join([S] * 5 + ["Home", "Contact us", "Accept cookies: this site uses cookies."]), None),
    ("\n".join([S] * 4 + ["Home", "About"]), "c4_min_sentences"),
    # a brace in a removed line (code without terminal punctuation) does not drop the page ...
    ("\n".join([S] * 5 + ["function init() {", "}"]), None),
    # ... a brace in a kept line does
    ("\n".join([S] * 5 + ["Write the set as {1, 2, 3} here."]), "c4_max_curly_bracket"),
])
def test_lines_then_page_as_datatrove_c4_quality_filter(page, reason):
    lines = C4LineFilter()
    texts, line_scores = lines.apply(Batch([page], ["en"]))
    keep_lines, _ = lines.keep(line_scores, ["en"], ThresholdTable(C4LineFilter.Thresholds))
    assert keep_lines.tolist() == [True]                         # no page rule unless configured
    assert reasons(texts) == [reason]


def test_line_modifier_threshold_drops_gutted_pages_when_set():
    f = C4LineFilter()
    texts = ["\n".join([S] * 5), "\n".join([S, "menu", "home", "more links here", "contact the team", "x"])]
    _, scores = f.apply(Batch(texts, ["en", "en"]))
    keep, why = f.keep(scores, ["en", "en"], ThresholdTable(C4LineFilter.Thresholds,
                                                            {"default": {"max_chars_removed_ratio": 0.5}}))
    assert keep.tolist() == [True, False] and why[1] == "c4_lines_max_chars_removed_ratio"


def test_registered_and_scores_one_value_per_document():
    assert get_filter("c4_lines_v1") is C4LineFilter and get_filter("c4_v1") is C4Filter
    scores = C4Filter().score(Batch([FIVE, "", None], ["en", None, "en"]))
    assert all(isinstance(v, np.ndarray) and v.shape == (3,) for v in scores.values())
    assert scores["sentences"].tolist() == [5.0, 0.0, 0.0]
