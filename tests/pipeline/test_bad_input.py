"""Every bad-input case: the stage finishes, keeps every readable record, rejects the rest by reason."""
from collections import Counter

import pyarrow as pa
import pytest

from pipeline.config import load_config
from pipeline.extract.stage import extract_batches
from tests.badinput import CASE_NAMES, EXPECTED_SUBSTRINGS, MAKERS


@pytest.fixture(scope="module")
def config():
    return load_config(None)


def run_stage(path, config):
    batches = list(extract_batches([pa.record_batch({"paths": [[str(path)]]})], config))
    return pa.Table.from_batches(batches).to_pylist()


@pytest.mark.parametrize("make", MAKERS, ids=CASE_NAMES)
def test_case_keeps_readable_records_and_counts_the_rest(tmp_path, config, make):
    case = make(tmp_path)
    rows = run_stage(case.path, config)
    kept = {row["url"]: row["text"] for row in rows if row["drop_reason"] is None}
    rejected = Counter(row["drop_reason"] for row in rows if row["drop_reason"])
    assert set(kept) == set(case.good_urls)
    assert dict(rejected) == case.expected_rejections
    for url in case.good_urls:
        assert EXPECTED_SUBSTRINGS[url] in kept[url]
