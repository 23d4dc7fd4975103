import math
import random
from collections import Counter

import numpy as np
import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.gopher_repetition import GopherRepetitionFilter, Llama3DupNgramLines, ngram_repetition
from filters.registry import get_filter

SEGMENTATION = {"default": "whitespace", "zh": "chars"}

PROSE = ("The history of the town is closely tied to the river that runs through its centre.\n"
         "Farmers brought their grain to the mill, and merchants built warehouses along the banks.\n\n"
         "Over the years the old buildings have been restored with care, and today visitors walk "
         "along the water to see the bridges, the market square and the small museum.\n\n"
         "The museum tells the story of the people who lived here before the railway arrived.")
PARAGRAPH = "Subscribe to our newsletter for weekly updates."
LONG_PARAGRAPH = ("This long paragraph about the annual harvest festival in the valley is repeated by a "
                  "careless template, so its characters weigh far more than its count.")
S20 = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
       "oscar papa quebec romeo sierra tango")
U20 = ("apple banana cherry damson elder fig grape honeydew imbe jackfruit kiwi lemon mango "
       "nectarine olive peach quince raspberry strawberry tangerine")
CHINESE = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，"
           "拥有众多的历史古迹和现代建筑。每年都有大量的游客来到这里参观故宫、长城和天坛等著名景点。")
NO_DUP_NGRAMS = {"de": {f"max_dup_{n}gram_char_frac": None for n in range(5, 11)}}


def decide(texts, langs, overrides=None):
    f = GopherRepetitionFilter({"segmentation": SEGMENTATION})
    return f.keep(f.score(Batch(texts, langs)), langs, ThresholdTable(f.Thresholds, overrides))


@pytest.mark.parametrize("text, lang, overrides, reason", [
    (PROSE, "en", {}, None),
    ("\n\n".join([PARAGRAPH, PARAGRAPH, PARAGRAPH, "A different closing paragraph."]), "en", {},
     "gopher_repetition_max_dup_para_frac"),                              # 2 of 4 paragraphs repeat
    ("\n\n".join([LONG_PARAGRAPH, "One.", "Two.", "Three.", LONG_PARAGRAPH]), "en", {},
     "gopher_repetition_max_dup_para_char_frac"),                         # 1 of 5, but most characters
    ("\n".join(["Buy now and save."] * 5 + PROSE.split("\n")[:2] + ["Call us today.", "Open daily."]), "en",
     {}, "gopher_repetition_max_dup_line_frac"),                          # 4 of 9 lines repeat
    ("\n".join([LONG_PARAGRAPH, "One.", "Two.", "Three.", LONG_PARAGRAPH]), "en",
     {"default": {"max_dup_para_char_frac": None}}, "gopher_repetition_max_dup_line_char_frac"),
    (" ".join(f"buy now {w}" for w in U20.split()), "en", {}, "gopher_repetition_max_top_2gram_char_frac"),
    (f"{S20} {S20} {U20}", "en", {}, "gopher_repetition_max_dup_5gram_char_frac"),
    (f"{S20} {S20} {U20}", "de", NO_DUP_NGRAMS, None),                    # per-language override
    (f"{S20} {S20} {U20}", "fr", NO_DUP_NGRAMS, "gopher_repetition_max_dup_5gram_char_frac"),
    (CHINESE, "zh", {}, None),                                            # character tokens
])
def test_drop_reasons(text, lang, overrides, reason):
    keep, reasons = decide([text], [lang], overrides)
    assert list(reasons) == [reason]
    assert bool(keep[0]) is (reason is None)


def test_exact_metrics_on_a_small_text():
    text = "a b\n\na b\n\nc d"                  # 13 characters
    scores = GopherRepetitionFilter({}).score(Batch([text], ["en"]))
    got = {name: float(values[0]) for name, values in scores.items()}
    assert got == pytest.approx({
        "dup_para_frac": 1 / 3, "dup_para_char_frac": 3 / 13,      # the second "a b"
        "dup_line_frac": 1 / 3, "dup_line_char_frac": 3 / 13,      # lines split on \n+
        "top_2gram_char_frac": 2 * 3 / 13,                        # "a b" twice
        "top_3gram_char_frac": 5 / 13,                            # all once: the first, "a b a"
        "top_4gram_char_frac": 7 / 13,
        **{f"dup_{n}gram_char_frac": 0.0 for n in range(5, 11)},
    })


def test_greedy_duplicate_scan_jumps_like_datatrove():
    text = " ".join(["x y z w v"] * 3)       # 29 characters; the 5-gram at 5 and 10 repeats
    scores = GopherRepetitionFilter({}).score(Batch([text], ["en"]))
    assert scores["dup_5gram_char_frac"][0] == pytest.approx(10 / 29)   # 2 x "xyzwv", no spaces
    assert scores["dup_6gram_char_frac"][0] == pytest.approx(6 / 29)    # "yzwvxy" at 6; jump to 12: end
    assert scores["top_2gram_char_frac"][0] == pytest.approx(3 * 3 / 29)


def _datatrove_reference(toks):
    """datatrove's find_top_duplicate and find_all_duplicate, written plainly."""
    top, dup = {}, {}
    for n in (2, 3, 4):
        grams = [" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        if grams:
            gram, count = Counter(grams).most_common(1)[0]
            top[n] = len(gram) * count
    for n in range(5, 11):
        seen, total, i = set(), 0, 0
        while i < len(toks) - n + 1:
            gram = "".join(toks[i:i + n])
            if gram in seen:
                total += len(gram)
                i += n
            else:
                seen.add(gram)
                i += 1
        dup[n] = total
    return top, dup


@pytest.mark.parametrize("seed", range(40))
def test_fast_ngram_scan_equals_the_plain_one(seed):
    rng = random.Random(seed)
    vocab = ["a", "bb", "ccc", "dd", "e", "ffff", ",", "."][:rng.randint(2, 8)]
    toks = [rng.choice(vocab) for _ in range(rng.randint(0, 120))]
    if seed % 4 == 0:
        toks = toks[:7] * rng.randint(2, 6) + toks   # long repeated runs
    top, dup = ngram_repetition(toks)
    want_top, want_dup = _datatrove_reference(toks)
    assert {n: v for n, v in top.items() if not math.isnan(v)} == want_top
    assert dup == want_dup


def test_empty_text_scores_nan_and_is_not_dropped_here():
    f = GopherRepetitionFilter({})
    scores = f.score(Batch([""], ["en"]))
    assert all(np.isnan(v[0]) for v in scores.values())
    assert list(f.keep(scores, ["en"], ThresholdTable(f.Thresholds))[1]) == [None]


LOGS = [f"2024-05-0{i} ERROR worker failed to connect to the database at db.internal port 5432"
        for i in range(1, 6)]
TEXT_WITH_LOGS = "\n".join([PROSE.split("\n")[0], *LOGS, PROSE.split("\n")[1]])


def test_line_modifier_removes_repeated_log_lines_and_keeps_prose():
    f = Llama3DupNgramLines({"segmentation": SEGMENTATION})
    texts, scores = f.apply(Batch([TEXT_WITH_LOGS, PROSE], ["en", "en"]))
    assert texts[0] == "\n".join(PROSE.split("\n")[:2])
    assert texts[1] == PROSE
    assert list(scores["lines_removed"]) == [5, 0]
    removed = len(TEXT_WITH_LOGS) - len(texts[0])
    assert scores["chars_removed_ratio"] == pytest.approx([removed / len(TEXT_WITH_LOGS), 0.0])


def test_line_coverage_counts_each_character_once_and_needs_more_than_half():
    f = Llama3DupNgramLines({})
    text = "a b c d e\nx a b c y z\nshort a b c"
    # "a b c" occurs 3 times: it covers 3 of 5 word characters of line 1, 3 of 6, 3 of 8
    assert f.line_coverage(text) == pytest.approx([3 / 5, 3 / 6, 3 / 8])
    texts, scores = f.apply(Batch([text], ["en"]))
    assert texts == ["x a b c y z\nshort a b c"]          # 0.5 is not > 0.5; line 3 has < 5 words
    assert scores["lines_removed"][0] == 1


def test_line_modifier_threshold_drops_documents_mostly_removed():
    f = Llama3DupNgramLines({})
    text = "\n".join([*LOGS, "A short note."])
    _, scores = f.apply(Batch([text, PROSE], ["en", "en"]))
    keep, reasons = f.keep(scores, ["en", "en"], ThresholdTable(f.Thresholds))
    assert list(reasons) == [None, None]                       # disabled by default
    configured = ThresholdTable(f.Thresholds, {"default": {"max_chars_removed_ratio": 0.5}})
    keep, reasons = f.keep(scores, ["en", "en"], configured)
    assert list(reasons) == ["llama3_lines_max_chars_removed_ratio", None]


@pytest.mark.parametrize("options, message", [
    ({"ngram": 3}, "ngram"),
    ({"n": 0}, "n >= 1"),
    ({"max_line_dup_ngram_coverage": 2}, "coverage"),
])
def test_line_modifier_bad_options(options, message):
    with pytest.raises(FilterConfigError, match=message):
        Llama3DupNgramLines(options)


def test_registered_and_score_the_stage_probe():
    probe = Batch(["Probe text. " * 10], ["en"])
    scores = get_filter("gopher_repetition_v1")({"segmentation": SEGMENTATION}).score(probe)
    top = 10 * len("Probe text") / len("Probe text. " * 10)    # "Probe text" 10 times
    assert scores["top_2gram_char_frac"][0] == pytest.approx(top)
    texts, line_scores = get_filter("llama3_dup_ngram_lines_v1")({"segmentation": SEGMENTATION}).apply(probe)
    assert texts == [""] and line_scores["lines_removed"][0] == 1     # one line, all of it repeated
    assert line_scores["chars_removed_ratio"][0] == 1.0
    with pytest.raises(FilterConfigError, match="segmentations"):
        GopherRepetitionFilter({"segmentations": {}})
