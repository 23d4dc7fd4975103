from dataclasses import dataclass

import numpy as np
import pytest

from filters.base import Batch, DocumentFilter, FilterConfigError, ThresholdTable


class LengthFilter(DocumentFilter):
    name = "length_test_v1"
    prefix = "length"

    @dataclass(frozen=True)
    class Thresholds:
        min_chars: int | None = 10
        max_chars: int | None = 100
        max_digits: int | None = None

    def score(self, batch):
        return {"chars": np.array([len(t) for t in batch.texts], dtype=float),
                "digits": np.array([sum(c.isdigit() for c in t) for t in batch.texts], dtype=float)}


@pytest.mark.parametrize("text, lang, overrides, reason", [
    ("short", "en", {}, "length_min_chars"),
    ("a" * 50, "en", {}, None),
    ("a" * 150, "en", {}, "length_max_chars"),
    ("short", "de", {"de": {"min_chars": 3}}, None),                  # per-language override
    ("short", "fr", {"de": {"min_chars": 3}}, "length_min_chars"),    # other languages keep the default
    ("a" * 150, "en", {"default": {"max_chars": None}}, None),         # null disables a rule
    ("12345678901", "en", {"default": {"max_digits": 5}}, "length_max_digits"),
    ("x", None, {}, "length_min_chars"),                                # unknown language: defaults
])
def test_keep_reasons(text, lang, overrides, reason):
    f = LengthFilter()
    keep, reasons = f.keep(f.score(Batch([text], [lang])), [lang], ThresholdTable(LengthFilter.Thresholds, overrides))
    assert list(reasons) == [reason]
    assert bool(keep[0]) is (reason is None)


def test_first_failing_rule_wins_and_nan_never_fails():
    f = LengthFilter()
    scores = {"chars": np.array([5.0, np.nan]), "digits": np.array([9.0, 9.0])}
    table = ThresholdTable(LengthFilter.Thresholds, {"default": {"max_digits": 1}})
    keep, reasons = f.keep(scores, ["en", "en"], table)
    assert list(reasons) == ["length_min_chars", "length_max_digits"]
    assert not keep.any()


@pytest.mark.parametrize("overrides, message", [
    ({"default": {"min_char": 3}}, "unknown key 'thresholds.default.min_char'"),
    ({"en": {"min_chars": "ten"}}, "key 'thresholds.en.min_chars' must be a number"),
    ({"en": [1, 2]}, "thresholds.en must be a mapping"),
])
def test_bad_thresholds_name_the_key(overrides, message):
    with pytest.raises(FilterConfigError, match=message):
        ThresholdTable(LengthFilter.Thresholds, overrides)


class WordCountFilter(DocumentFilter):
    """Declares its options and segmentation only; the base class checks and builds them."""
    name = "word_count_test_v1"
    prefix = "word_count"
    OPTIONS = {"min_chars": int}
    uses_segmentation = True

    def score(self, batch):
        return {}


def test_base_class_checks_declared_options():
    assert "__init__" not in vars(WordCountFilter)
    WordCountFilter({"min_chars": 3, "segmentation": {"default": "whitespace"}})
    with pytest.raises(FilterConfigError, match=r"unknown option 'word_count_test_v1.max_chars' "
                                                r"\(known: min_chars, segmentation\)"):
        WordCountFilter({"max_chars": 3})
    with pytest.raises(FilterConfigError, match="option 'word_count_test_v1.min_chars' has the wrong type"):
        WordCountFilter({"min_chars": "3"})


def test_base_class_builds_the_segmentation_table_when_declared():
    assert WordCountFilter().segmentation["zh"] == "chars"          # defaults when the job gives none
    assert WordCountFilter({"segmentation": {"default": "chars"}}).segmentation == {"default": "chars"}
    with pytest.raises(FilterConfigError, match="word_count_test_v1.segmentation.zh"):
        WordCountFilter({"segmentation": {"zh": "jieba"}})
    assert not hasattr(LengthFilter({"segmentation": {"zh": "jieba"}}), "segmentation")  # not declared


def test_effective_thresholds_are_the_defaults_with_the_overrides_per_language():
    from filters.stage import effective_thresholds
    from pipeline.config import load_config

    config = load_config(None, ["filter.filters=[gopher_quality_v2, c4_v2]",
                                "filter.thresholds={gopher_quality_v2: {default: {min_words: 80}, de: {min_words: 30}}}"],
                         stage_files=False).filter
    table = effective_thresholds(config)
    assert list(table) == ["gopher_quality_v2", "c4_v2"]
    assert table["gopher_quality_v2"]["default"]["min_words"] == 80
    assert table["gopher_quality_v2"]["de"]["min_words"] == 30
    assert table["gopher_quality_v2"]["de"]["max_words"] == table["gopher_quality_v2"]["default"]["max_words"]
    assert set(table["c4_v2"]) == {"default"}
