"""The report's threshold table, excerpts and the numpy decisions behind the what-if table (no JVM)."""
import math

import numpy as np
import pyarrow as pa

from pipeline.report import excerpts as X
from pipeline.report import tuning as T
from pipeline.report.thresholds import (Rule, candidates, classify_rules, filter_rules, guess_prefix, nice_step,
                                        shifted)

COLUMNS = ["gopher_quality__words", "gopher_quality__alpha_words_ratio", "c4_lines__chars_removed_ratio",
           "llama3_lines__chars_removed_ratio", "llama3_lines__lines_removed", "token_outlier__kl", "fineweb__lines"]
CONFIG = {"filter": {"filters": ["gopher_quality_v1", "llama3_dup_ngram_lines_v1", "token_outlier_v1", "fineweb_v1"],
                     "thresholds": {"gopher_quality_v1": {"default": {"min_words": 50, "min_alpha_words_ratio": 0.8},
                                                          "ja": {"min_words": 20}},
                                    "llama3_dup_ngram_lines_v1": {"default": {"max_chars_removed_ratio": None}},
                                    "token_outlier_v1": {"default": {"max_kl": None}}}}}
STATS = {"filters": CONFIG["filter"]["filters"], "value_thresholds": {"token_outlier_v1": {"en": {"max_kl": 4.1448551},
                                                                                         "de": {"max_kl": 3.0}}}}


def test_rules_follow_the_config_and_the_stage_stats():
    rules = {r.reason: r for r in filter_rules(CONFIG, STATS, COLUMNS)}
    assert list(rules) == ["gopher_quality_min_words", "gopher_quality_min_alpha_words_ratio",
                           "llama3_lines_max_chars_removed_ratio", "token_outlier_max_kl"]
    words = rules["gopher_quality_min_words"]
    assert (words.column, words.op, words.default, words.by_lang) == ("gopher_quality__words", "min", 50.0, {"ja": 20.0})
    assert words.limit("ja") == 20 and words.limit("en") == 50 and words.limit(None) == 50
    assert rules["gopher_quality_min_alpha_words_ratio"].limit("ja") == 0.8     # an override replaces one field
    assert not rules["llama3_lines_max_chars_removed_ratio"].active
    kl = rules["token_outlier_max_kl"]
    assert kl.default is None and kl.limit("en") == 4.1448551 and kl.limit("fr") is None
    # filters/base.py: min fails below, max above; NaN and an unset limit fail nothing
    assert words.fails(49, "en") and not words.fails(50, "en") and not words.fails(25, "ja")
    assert not words.fails(float("nan"), "en") and not words.fails(None, "en")
    assert kl.fails(4.2, "en") and not kl.fails(99.0, "fr")


def test_the_prefix_of_a_filter_is_found_among_the_score_columns():
    columns = set(COLUMNS)
    prefixes = sorted({c.split("__")[0] for c in columns})
    assert guess_prefix("llama3_dup_ngram_lines_v1", ["max_chars_removed_ratio"], columns, prefixes) == "llama3_lines"
    assert guess_prefix("gopher_quality_v1", ["min_words"], columns, prefixes) == "gopher_quality"
    assert filter_rules(CONFIG, {**STATS, "prefixes": {"fineweb_v1": "fineweb"}}, COLUMNS)   # the stage may name it


def test_classifier_cuts():
    (rule,) = classify_rules({"min_score_by_lang": {"quality": {"default": 0.2, "de": 0.3}}})
    assert (rule.reason, rule.column, rule.missing_as_zero) == ("quality_min_score", "quality__score", True)
    assert rule.fails(None, "en") and rule.fails(0.25, "de") and not rule.fails(0.25, "en")


def test_what_if_steps_are_round_numbers_around_the_limit():
    assert nice_step(0.12) == 0.01 and nice_step(50) == 5 and nice_step(0) == 1 and nice_step(0.67) == 0.05
    assert candidates(0.12) == [0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16]
    assert candidates(0)[:2] == [0.0, 1.0]
    assert shifted(4.1448551, 0) == 4.1448551          # the current limit exactly, never rounded
    assert shifted(0.12, -2) == 0.1 and shifted(0.0, -1) == 0.0 and shifted(None, 3) is None


def _batch(values: dict[int, list], langs, dropped=None, other=None):
    n = len(langs)
    cols = {"_key": pa.array([f"d{i}" for i in range(n)]), "lang": pa.array(langs, pa.string()),
            "_h": pa.array(np.arange(n, dtype=np.int64)), "_x": pa.array(other or [False] * n),
            "_dropped": pa.array(dropped or [False] * n)}
    for i, v in values.items():
        cols[f"_s{i}"] = pa.array(v, pa.float64())
    return pa.RecordBatch.from_pydict(cols)


def test_numpy_decisions_match_the_rule_semantics():
    rules = [Rule("filter", "f", "min_words", "f__words", "f_min_words", 50.0, {"ja": 20.0}),
             Rule("filter", "f", "max_ratio", "f__ratio", "f_max_ratio", 0.3)]
    langs = ["en", "ja", "en", None, "en", "de"]
    words = [49.0, 25.0, 60.0, None, float("nan"), 55.0]
    ratio = [0.1, 0.1, 0.5, 0.2, 0.1, 0.3]
    batch = _batch({0: words, 1: ratio}, langs)
    _, _, failed, total = T.decide(batch, rules, T.Langs(batch))
    expected = [[r.fails(None if v is None else v, l) for v, l in zip(col, langs)] for r, col in zip(rules, (words, ratio))]
    assert [f.tolist() for f in failed] == expected
    assert total.tolist() == [1, 0, 1, 0, 0, 0]
    plans = [[0, -1, 1], [0, -1, 1]]
    (out,) = T.what_if_batches([batch], rules, plans)
    rows = out.to_pylist()
    # rule 0 at step -1 (limit 45, ja 15): d0 (49) passes; d2 fails the ratio rule anyway
    kept = {j: sum(r["count"] for r in rows if r["r"] == 0 and r["o"] and r["m"] >> j & 1) for j in range(3)}
    assert kept == {0: 4, 1: 5, 2: 4}


def test_near_limits_per_batch_keep_the_nearest():
    rules = [Rule("filter", "f", "min_words", "f__words", "f_min_words", 50.0)]
    batch = _batch({0: [49.0, 51.0, 80.0, 10.0, 52.0]}, ["en"] * 5, dropped=[True, False, False, True, False])
    (out,) = T.near_batches([batch], rules, per_rule=2)
    rows = out.to_pylist()
    kept = [r["_key"] for r in rows if r["side"] == "borderline_kept"]
    back = [(r["_key"], r["d"]) for r in rows if r["side"] == "would_come_back"]
    assert kept == ["d1", "d4"] and back == [("d0", 1.0), ("d3", 40.0)]


def test_excerpts_point_at_what_tripped_the_rule():
    text = "Cheap flights London cheap flights Paris cheap flights Rome\nBook now"
    ex = X.excerpt("gopher_repetition_max_top_2gram_char_frac", text, "en")
    assert ex["kind"] == "most repeated 2-gram" and ex["text"] == "“cheap flights” × 2"
    ex = X.excerpt("fineweb_max_short_line_ratio", "a long line that goes on and on and on and on\nshort\nalso short", "en")
    assert ex["items"] == ["short", "also short"]
    ex = X.excerpt("c4_lines_max_chars_removed_ratio", "kept line", "en", removed_lines=["gone one", "gone two"])
    assert ex["kind"] == "removed lines" and ex["items"] == ["gone one", "gone two"]
    assert X.excerpt("not_html", None, detail="application/pdf") == {"kind": "detail", "text": "application/pdf"}
    assert X.removed_lines("a\nb\nb\nc", "a\nb\nc") == ["b"]


def test_jaccard_and_differences():
    a = "the quick brown fox jumps over the lazy dog near the river bank today"
    b = "the quick brown fox leaps over the lazy dog near the river bank today"
    j = X.jaccard(a, b, "en")
    sa, sb = X.shingles(a, "en"), X.shingles(b, "en")
    assert j == round(len(sa & sb) / len(sa | sb), 4) and 0 < j < 1
    (d,) = X.differences(a, b, "en")
    assert (d["kept"], d["copy"]) == ("jumps", "leaps") and d["before"].endswith("fox ")
    assert X.jaccard("同じ文章です。", "同じ文章です。", "ja") == 1.0
    assert math.isclose(X.jaccard(a, a, "en"), 1.0)
