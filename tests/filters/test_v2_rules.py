"""gopher_quality_v2, nsfw_words_v2 and c4_v2: what they keep that v1 dropped, and what they still drop."""
from __future__ import annotations

import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.c4 import C4Filter, C4FilterV2
from filters.gopher_quality import GopherQualityFilter, GopherQualityFilterV2
from filters.nsfw import NsfwWordsFilter, NsfwWordsFilterV2


def reason(flt, text, lang="en", thresholds=None):
    scores = flt.score(Batch([text], [lang], [None], [None]))
    _, why = flt.keep(scores, [lang], ThresholdTable(flt.Thresholds, thresholds))
    return why[0]


# News typography: every sentence carries dashes, quotes, commas and parentheses.
NEWS = ("MADRID — Rafael Nadal (33) kept Spain's hopes alive, then — in the doubles — \"the\" pair, "
        "Granollers and Lopez, won: 6-4, 7-5; \"It was hard,\" he said. ") * 6


def test_gopher_v2_counts_words_not_punctuation():
    v1, v2 = GopherQualityFilter(), GopherQualityFilterV2()
    s1, s2 = v1.score(Batch([NEWS], ["en"])), v2.score(Batch([NEWS], ["en"]))
    assert s1["alpha_words_ratio"][0] < 0.8 <= s2["alpha_words_ratio"][0]
    assert reason(v1, NEWS) == "gopher_quality_min_alpha_words_ratio"
    assert reason(v2, NEWS) is None
    for metric in ("words", "mean_word_length", "bullet_lines_ratio", "stop_words"):
        assert s1[metric][0] == s2[metric][0]


def test_gopher_v2_still_drops_tables_of_numbers():
    table = "\n".join(f"Team {i} 1245 3317 8021 9147 7044 2019 45.50" for i in range(20)) + "\nthe and of to"
    assert reason(GopherQualityFilterV2(), table) == "gopher_quality_min_alpha_words_ratio"


def test_gopher_v2_symbol_ratio_is_per_word():
    text = ("#tag the word and the other of that with have " * 10).strip()
    scores = GopherQualityFilterV2().score(Batch([text], ["en"]))
    assert scores["symbol_word_ratio"][0] == pytest.approx(10 / scores["words"][0])
    assert GopherQualityFilterV2().score(Batch([""], ["en"]))["alpha_words_ratio"][0] != 0  # NaN


CRIME = ("The court heard that the man was charged with rape and sexual assault, and that the "
         "victim had reported the sex offence to police in March. ") * 3


def test_nsfw_v2_ignores_ambiguous_words_in_reporting():
    v1 = NsfwWordsFilter({"default_lists": True})
    v2 = NsfwWordsFilterV2()
    assert reason(v1, CRIME) == "nsfw_words_max_ratio"
    assert reason(v2, CRIME) is None
    assert v2.score(Batch([CRIME], ["en"]))["count"][0] == 0


def test_nsfw_v2_still_drops_adult_spam():
    spam = "Watch free porn videos and hot pussy and cock clips with sluts tonight. " * 5
    assert reason(NsfwWordsFilterV2(), spam) == "nsfw_words_max_ratio"


def test_nsfw_v2_ambiguous_option(tmp_path):
    words = tmp_path / "en.txt"
    words.write_text("gadget\n", encoding="utf-8")
    text = "the gadget " * 10
    counted = NsfwWordsFilterV2({"default_lists": False, "wordlists": {"en": str(words)}})
    assert counted.score(Batch([text], ["en"]))["count"][0] == 10
    ignored = NsfwWordsFilterV2({"default_lists": False, "wordlists": {"en": str(words)},
                                 "ambiguous": {"en": ["Gadget"]}})
    assert ignored.score(Batch([text], ["en"]))["count"][0] == 0
    with pytest.raises(FilterConfigError):
        NsfwWordsFilterV2({"ambiguous": {"en": "gadget"}})


def test_c4_v2_has_no_sentence_minimum_but_keeps_page_rules():
    short = "A short but complete news item. It has two sentences."
    assert reason(C4Filter(), short) == "c4_min_sentences"
    assert reason(C4FilterV2(), short) is None
    assert reason(C4FilterV2(), "var x = { a: 1 }; is code.") == "c4_max_curly_bracket"
    assert reason(C4FilterV2(), short, thresholds={"default": {"min_sentences": 5}}) == "c4_min_sentences"


def test_c4_lines_v2_keeps_lines_ending_in_other_scripts_marks():
    from filters.c4 import C4LineFilter, C4LineFilterV2

    hindi = "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।"
    quoted = "“We will appeal the ruling,” the lawyer said on Tuesday, “and we expect to win.”"
    english = "An ordinary sentence with a full stop at the end."
    batch = Batch([f"{hindi}\n{quoted}\n{english}\nmenu item"], ["hi"])
    old, _ = C4LineFilter().apply(batch)
    new, scores = C4LineFilterV2().apply(batch)
    assert old == [english]
    assert new == [f"{hindi}\n{quoted}\n{english}"]
    assert scores["lines_no_terminal_punct"][0] == 1          # 'menu item' is still removed
    assert C4LineFilterV2().apply(Batch(["It was over..."], ["en"]))[0] == [""]   # ellipsis still fails
