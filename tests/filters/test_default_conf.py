"""conf/default.yaml writes out the paper defaults: they must equal what the filter classes hold."""
from pathlib import Path

import numpy as np
import pytest

from filters.base import ThresholdTable
from filters.registry import get_filter
from filters.stage import build_chain
from pipeline.config import load_config

CONF = Path(__file__).resolve().parents[2] / "conf" / "default.yaml"
CONFIG = load_config(CONF, stage_files=False)   # the demo models exist only after `make models`


@pytest.mark.parametrize("name", sorted(CONFIG.filter.thresholds))
def test_default_block_equals_the_class_defaults(name):
    cls = get_filter(name)
    table = ThresholdTable(cls.Thresholds, CONFIG.filter.thresholds[name], where=name)
    assert table.for_lang("default") == cls.Thresholds()


def test_default_chain_builds_with_every_filter():
    chain = build_chain(CONFIG.filter, {"token_outlier_v1": {"distribution": np.ones(8)}})
    assert [f.name for f in chain.filters] == CONFIG.filter.filters
    assert len(chain.filters) == 10


# per-language values set from a published source rather than calibrated: the ROOTS flagged-word
# cutoffs (fr and pt stricter than ROOTS' own 0.01 default; zh/ja/th per character, not per word)
NOT_LOOSER = {(f"nsfw_words_v{v}", lang, "max_ratio") for v in (1, 2) for lang in ("fr", "pt", "zh", "ja", "th")}


def _per_lang_entries():
    for name, table in sorted(CONFIG.filter.thresholds.items()):
        for lang, values in (table or {}).items():
            if lang != "default":
                for rule, value in (values or {}).items():
                    yield name, lang, rule, value


def test_per_language_entries_name_rules_of_their_filter():
    entries = list(_per_lang_entries())
    assert entries, "conf/default.yaml has no per-language threshold"
    for name, lang, rule, _ in entries:
        fields = {f for f in get_filter(name).Thresholds.__dataclass_fields__}
        assert rule in fields, f"{name}.{lang}.{rule} is not a rule of {name}"


def test_per_language_values_only_loosen_the_defaults():
    """curate calibrate-filters loosens by default: a per-language value keeps at least what the
    language-independent one keeps (min_* lower, max_* higher), unless listed in NOT_LOOSER."""
    checked = 0
    for name, lang, rule, value in _per_lang_entries():
        default = CONFIG.filter.thresholds[name]["default"].get(rule, getattr(get_filter(name).Thresholds(), rule))
        if (name, lang, rule) in NOT_LOOSER or default is None:
            continue
        assert value is not None, f"{name}.{lang}.{rule} switches a rule on"
        looser = value <= default if rule.startswith("min_") else value >= default
        assert looser, f"{name}.{lang}.{rule}: {value} is stricter than the default {default}"
        checked += 1
    assert checked >= 1     # gopher_quality_v2.ko.min_mean_word_length at least
    assert {(n, lang, r) for n, lang, r, _ in _per_lang_entries()} >= NOT_LOOSER   # the exceptions still exist
