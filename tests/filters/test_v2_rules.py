"""gopher_quality_v2, nsfw_words_v2 and c4_v2: what they keep that v1 dropped, and what they still drop."""
from __future__ import annotations

import numpy as np
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


def test_c4_lines_v3_reads_thai_line_ends_and_ethiopic_word_separators():
    from filters.c4 import C4LineFilterV2, C4LineFilterV3

    options = {"segmentation": {"default": "whitespace", "th": "chars"}}
    thai = "ข้อ ๑ มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกันในเกียรติศักดิ์และสิทธิ ต่างมีเหตุผลและมโนธรรม"
    amharic = "የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።"
    english = "An ordinary sentence with a full stop at the end."
    thai_page, amharic_page = f"{thai}\n{thai}\nเมนู...\nmenu item", f"{amharic}\n- a -.\n{english}"
    old = [C4LineFilterV2(options).apply(Batch([page], [lang]))[0][0]
           for page, lang in ((thai_page, "th"), (amharic_page, "am"))]
    new, scores = C4LineFilterV3(options).apply(Batch([thai_page, amharic_page], ["th", "am"]))
    assert old == ["", f"- a -.\n{english}"]     # v2 empties the Thai page, drops Amharic, keeps dashes as words
    assert new == [f"{thai}\n{thai}", f"{amharic}\n{english}"]
    # an ellipsis and a Latin line with no mark still fail; a dash is no word
    assert scores["lines_no_terminal_punct"].tolist() == [2, 0]
    assert scores["lines_too_few_words"].tolist() == [0, 1]
    assert C4LineFilterV3().apply(Batch([english], ["en"]))[0] == [english]


# Distinct Japanese sentences (UDHR articles 1-8, abridged): no line repeats another, but their
# particles and endings share many three- and five-character sequences.
JAPANESE = [
    "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。",
    "人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。",
    "すべて人は、人種、皮膚の色、性、言語、宗教、政治上その他の意見による差別を受けることはない。",
    "すべて人は、生命、自由及び身体の安全に対する権利を有する。",
    "何人も、奴隷にされ、又は苦役に服することはない。奴隷制度及び奴隷売買は、いかなる形においても禁止する。",
    "何人も、拷問又は残虐な、非人道的な若しくは屈辱的な取扱若しくは刑罰を受けることはない。",
    "すべて人は、いかなる場所においても、法の下において、人として認められる権利を有する。",
    "すべての人は、法の下において平等であり、また、いかなる差別もなしに法の平等な保護を受ける権利を有する。",
]
CHARS = {"segmentation": {"default": "whitespace", "ja": "chars", "th": "chars"}}


def test_llama3_dup_ngram_lines_v2_counts_ten_character_ngrams_in_languages_segmented_per_character():
    from filters.gopher_repetition import Llama3DupNgramLines, Llama3DupNgramLinesV2

    page = "\n".join(JAPANESE)
    v1, _ = Llama3DupNgramLines(CHARS).apply(Batch([page], ["ja"]))
    v2, scores = Llama3DupNgramLinesV2(CHARS).apply(Batch([page], ["ja"]))
    assert len(v1[0].split("\n")) <= len(JAPANESE) - 2    # character trigrams repeat across distinct lines
    assert v2 == [page] and scores["lines_removed"][0] == 0
    repeated = "\n".join(JAPANESE[:3] + [JAPANESE[0], JAPANESE[0]])
    assert Llama3DupNgramLinesV2(CHARS).apply(Batch([repeated], ["ja"]))[0] == ["\n".join(JAPANESE[1:3])]
    english = "\n".join(["the cat sat on the mat today", "the cat sat on the mat again", "a new line of prose"])
    assert Llama3DupNgramLinesV2(CHARS).apply(Batch([english], ["en"])) [0] == \
        Llama3DupNgramLines(CHARS).apply(Batch([english], ["en"]))[0]


def test_gopher_repetition_v2_scales_ngrams_to_words_in_languages_segmented_per_character():
    from filters.gopher_repetition import GopherRepetitionFilter, GopherRepetitionFilterV2

    page = "\n".join(JAPANESE)
    v1 = GopherRepetitionFilter(CHARS).score(Batch([page], ["ja"]))
    v2 = GopherRepetitionFilterV2(CHARS).score(Batch([page], ["ja"]))
    assert v1["dup_5gram_char_frac"][0] > 0.15 > v2["dup_5gram_char_frac"][0]    # v1 drops the page
    spam = "\n".join([JAPANESE[0]] * 2 + JAPANESE[1:3]) + "\n" + JAPANESE[0][:20] * 6
    assert GopherRepetitionFilterV2(CHARS).score(Batch([spam], ["ja"]))["dup_5gram_char_frac"][0] > 0.15
    english = " ".join(["the quick brown fox jumps over the lazy dog"] * 3 + ["and then it rests"])
    old, new = (cls(CHARS).score(Batch([english], ["en"])) for cls in (GopherRepetitionFilter, GopherRepetitionFilterV2))
    assert all(np.array_equal(old[k], new[k], equal_nan=True) for k in old)


def test_fineweb_v2_counts_thai_line_ends_as_punctuated():
    from filters.fineweb import FineWebQualityFilter, FineWebQualityFilterV2

    thai = ["ข้อ ๑ มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกัน", "ต่างมีเหตุผลและมโนธรรม", "An English line.", "menu"]
    page = "\n".join(thai)
    assert FineWebQualityFilter().score(Batch([page], ["th"]))["line_punct_ratio"][0] == 0.25
    assert FineWebQualityFilterV2().score(Batch([page], ["th"]))["line_punct_ratio"][0] == 0.75
    english = "A line.\nmenu\nanother line!"
    assert FineWebQualityFilterV2().score(Batch([english], ["en"]))["line_punct_ratio"][0] == 2 / 3
