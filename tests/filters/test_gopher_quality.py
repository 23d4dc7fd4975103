import math

import numpy as np
import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.gopher_quality import GopherQualityFilter
from filters.registry import get_filter
from pipeline.text import tokens, words

SEGMENTATION = {"default": "whitespace", "zh": "chars", "ja": "chars"}

PROSE = ("The history of the town is closely tied to the river that runs through its centre. "
         "Farmers brought their grain to the mill, and merchants built warehouses along the banks "
         "to store goods that arrived by boat. Over the years the old buildings have been restored "
         "with care, and today visitors walk along the water to see the bridges, the market square "
         "and the small museum that tells the story of the people who lived here.")
NUMBERS = " ".join(str(n) for n in range(1000, 1045))
LONG_WORDS = " ".join(["internationalization", "electroencephalography", "counterrevolutionaries",
                       "incomprehensibilities", "uncharacteristically"] * 11) + " the and"
SHORT_WORDS = " ".join(["I", "am", "to", "be", "of", "the", "go", "it", "is", "on"] * 6)
BULLETS = "\n".join(f"- item {i}: the best offer of the week with free delivery" for i in range(10))
ELLIPSIS_LINES = "\n".join([PROSE] + ["and then the story goes on…"] * 2 + ["read more..."] * 2)
NO_STOP_WORDS = ("Cheap flights hotels cars deals discounts coupons offers bargains tickets. " * 6).strip()
CAPITAL_STOP_WORDS_ONLY = ("The Best Deals Of The Year And More. " * 8).strip()  # 'The', 'Of', 'And' only
GERMAN = "Die Stadt liegt an dem Fluss und ist für den alten Markt mit der Mühle bekannt."
CHINESE = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，"
           "拥有众多的历史古迹和现代建筑。每年都有大量的游客来到这里参观故宫、长城和天坛等著名景点。")
JAPANESE = ("東京は日本の首都であり、世界でも有数の大都市です。多くの人々が毎日電車で通勤し、"
            "街にはたくさんの店やレストランがあります。春には公園で桜を見る人々でにぎわいます。")
SWEDISH = ("Staden ligger vid floden och är känd för sin gamla marknad, sina broar och sitt lilla museum. "
           "Varje sommar kommer många besökare hit för att promenera längs vattnet och äta på restaurangerna. "
           "Historien om staden berättas i utställningar som visar hur människor levde här förr i tiden, "
           "när bönderna kom med säd till kvarnen och köpmännen byggde lager längs stranden.")
HINDI = ("भारत एक विशाल देश है जहाँ अनेक भाषाएँ बोली जाती हैं और लोग अलग अलग त्योहार मनाते हैं। " * 4).strip()


def decide(texts, langs, overrides=None, options=None):
    f = GopherQualityFilter({"segmentation": SEGMENTATION, **(options or {})})
    keep, reasons = f.keep(f.score(Batch(texts, langs)), langs, ThresholdTable(f.Thresholds, overrides))
    return keep, reasons


@pytest.mark.parametrize("text, lang, overrides, reason", [
    (PROSE, "en", {}, None),
    ("The cat sat on the mat with the hat.", "en", {}, "gopher_quality_min_words"),
    (PROSE, "en", {"default": {"max_words": 60}}, "gopher_quality_max_words"),
    (SHORT_WORDS, "en", {}, "gopher_quality_min_mean_word_length"),
    (LONG_WORDS, "en", {}, "gopher_quality_max_mean_word_length"),
    (PROSE + " #tag" * 15, "en", {}, "gopher_quality_max_symbol_word_ratio"),
    (PROSE + " ..." * 15, "en", {}, "gopher_quality_max_symbol_word_ratio"),
    (BULLETS, "en", {}, "gopher_quality_max_bullet_lines_ratio"),
    (ELLIPSIS_LINES, "en", {}, "gopher_quality_max_ellipsis_lines_ratio"),
    (PROSE + " " + NUMBERS, "en", {}, "gopher_quality_min_alpha_words_ratio"),
    (NO_STOP_WORDS, "en", {}, "gopher_quality_min_stop_words"),
    (CAPITAL_STOP_WORDS_ONLY, "en", {}, "gopher_quality_min_stop_words"),  # case-sensitive, as datatrove
    (PROSE + " " + NUMBERS, "en", {"default": {"min_alpha_words_ratio": None}}, None),  # null disables
    (GERMAN, "de", {"de": {"min_words": 10}}, None),                        # per-language override
    (GERMAN, "fr", {"de": {"min_words": 10}}, "gopher_quality_min_words"),  # other languages keep 50
    (CHINESE, "zh", {}, None),             # chars segmentation: characters are words, not one giant word
    (JAPANESE, "ja", {}, None),
    (CHINESE, "ko", {}, "gopher_quality_min_words"),  # whitespace segmentation: a few giant "words"
    (SWEDISH, "sv", {}, None),             # no stop-word list for sv: that rule is skipped
    (HINDI, "hi", {}, None),               # vowel signs stay inside words: mean length is sensible
])
def test_drop_reasons(text, lang, overrides, reason):
    keep, reasons = decide([text], [lang], overrides)
    assert list(reasons) == [reason]
    assert bool(keep[0]) is (reason is None)


def test_exact_metrics_on_a_small_text():
    text = "- The cat and the dog...\n#tag 3.14 is pi\nwell-known, isn't it?"
    # tokens: - The cat and the dog ... | # tag 3.14 is pi | well - known , isn 't it ?
    assert tokens(text) == ["-", "The", "cat", "and", "the", "dog", "...", "#", "tag", "3.14", "is", "pi",
                            "well", "-", "known", ",", "isn", "'t", "it", "?"]
    scores = GopherQualityFilter({}).score(Batch([text], ["en"]))
    got = {name: float(values[0]) for name, values in scores.items()}
    assert got == pytest.approx({
        "words": 14,                       # 20 tokens less - ... # - , ?
        "mean_word_length": 42 / 14,
        "symbol_word_ratio": 1 / 20,       # one '#', one '...': the larger over all 20 tokens
        "bullet_lines_ratio": 1 / 3,
        "ellipsis_lines_ratio": 1 / 3,
        "alpha_words_ratio": 13 / 20,      # every word but 3.14 has a letter
        "stop_words": 2,                   # 'the' and 'and'; 'The' does not count
    })


def test_chars_languages_have_no_word_length_or_stop_words():
    scores = GopherQualityFilter({"segmentation": SEGMENTATION}).score(Batch([CHINESE, PROSE], ["zh", "en"]))
    chinese_chars = len(words(CHINESE, "chars"))
    assert scores["words"][0] == chinese_chars > 80
    assert math.isnan(scores["mean_word_length"][0]) and math.isnan(scores["stop_words"][0])
    assert scores["alpha_words_ratio"][0] > 0.8       # punctuation tokens count against it, as in datatrove
    assert not np.isnan(scores["mean_word_length"][1])
    assert scores["stop_words"][1] == 7                 # the of to that and with have: all but 'be'


def test_empty_text_fails_only_the_word_count():
    f = GopherQualityFilter({})
    scores = f.score(Batch(["", "   "], ["en", "en"]))
    assert list(scores["words"]) == [0, 0]
    assert np.isnan(scores["alpha_words_ratio"]).all() and np.isnan(scores["mean_word_length"]).all()
    keep, reasons = f.keep(scores, ["en", "en"], ThresholdTable(f.Thresholds))
    assert list(reasons) == ["gopher_quality_min_words"] * 2


def test_stop_word_lists_can_be_replaced_or_added():
    custom = GopherQualityFilter({"stop_words": {"en": ["hotels", "cars", "deals"], "sv": []}})
    default = GopherQualityFilter({}).score(Batch([NO_STOP_WORDS], ["en"]))["stop_words"]
    scores = custom.score(Batch([NO_STOP_WORDS, SWEDISH], ["en", "sv"]))["stop_words"]
    assert default[0] == 0 and scores[0] == 3
    assert math.isnan(scores[1])                        # an empty list turns the rule off


def test_bad_options_fail_naming_the_option():
    with pytest.raises(FilterConfigError, match="stopwords"):
        GopherQualityFilter({"stopwords": {}})
    with pytest.raises(FilterConfigError, match="stop_words"):
        GopherQualityFilter({"stop_words": ["the"]})


def test_registered_and_scores_the_stage_probe():
    cls = get_filter("gopher_quality_v1")
    scores = cls({"segmentation": SEGMENTATION}).score(Batch(["Probe text. " * 10], ["en"]))
    assert scores["words"][0] == 20 and scores["symbol_word_ratio"][0] == 0


@pytest.mark.parametrize("text, segmentation, expected", [
    ("Mr. Smith didn't pay $3.14 for state-of-the-art U.S. goods...",  "whitespace",
     ["Mr.", "Smith", "didn", "'t", "pay", "$", "3.14", "for", "state", "-", "of", "-", "the", "-", "art",
      "U.S.", "goods", "..."]),
    ("See https://example.com/a-b, or run --help; it's 10:30.", "whitespace",
     ["See", "https://example.com/a-b", ",", "or", "run", "--help", ";", "it", "'s", "10:30", "."]),
    ("北京，abc中 3.14", "chars", ["北", "京", "，", "abc", "中", "3.14"]),
])
def test_tokens_split_like_spacy(text, segmentation, expected):
    assert tokens(text, segmentation) == expected
