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
