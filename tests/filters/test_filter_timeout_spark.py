"""The filter job on local[2] with a document that hangs inside C code: the stage finishes, the
document is rejected as filter_timeout and counted, every other document keeps its scores."""
import dataclasses
import datetime as dt
import math
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_config
from pipeline.schema import DOCUMENT_FIELDS
from pipeline.stage_spark import execute
from tests.filters import hang_filter

pytestmark = pytest.mark.spark

LIMIT = 1.0


def prose(i: int) -> str:
    return "".join(f"Document {i}, line {j}: the river runs past mill number {j} on its way to the sea.\n"
                   for j in range(3 + i % 3))


def write_documents(path, texts):
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    rows = [{"id": f"d{i}", "url": f"http://site{i}.example/", "domain": f"site{i}.example", "source": "web",
             "fetched_at": now, "text": text, "lang": "en", "lang_score": 0.99} for i, text in enumerate(texts)]
    path.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(DOCUMENT_FIELDS)), path / "part-0.parquet")
    return str(path)


def test_a_hang_in_c_code_inside_a_spark_worker_is_cut(spark, tmp_path):
    from pyspark import cloudpickle

    # The workers are not this process: the stage's config carries the test-only filter there
    # (hang_filter.HangConfig registers it when unpickled), by value: no `tests` import needed.
    cloudpickle.register_pickle_by_value(hang_filter)
    texts = [prose(i) for i in range(12)]
    texts[5] = prose(5) + f"The {hang_filter.MARKER} marker sits in this line.\n"   # kept by c4_lines
    inputs = write_documents(tmp_path / "docs", texts)
    with hang_filter.registered():
        config = load_config(None, [f"output={tmp_path / 'out'}", f"filter.timeout_s={LIMIT}"])
        config.filter = hang_filter.HangConfig(**{**dataclasses.asdict(config.filter),
                                                  "filters": ["c4_lines_v1", hang_filter.NAME, "fineweb_v1"]})
        try:
            started = time.monotonic()
            stats = execute(spark, config, "filter", [inputs])
            elapsed = time.monotonic() - started
        finally:
            cloudpickle.unregister_pickle_by_value(hang_filter)
        assert stats["records_in"] == 12 and stats["rejected_by_reason"].get("filter_timeout") == 1
        assert elapsed < 120       # without the limit: days

        scores = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "out" / "filter_scores")).collect()}
        hung = scores["d5"]
        assert hung["filter__timeout"] == 1.0 and hung["text"] == texts[5]
        assert math.isnan(hung["hang_test__chars"]) and hung["fineweb__lines"] is None   # a count: null
        rejected = {r["id"]: r["drop_reason"] for r in
                    spark.read.parquet(str(tmp_path / "out" / "rejected" / "filter")).collect()}
        assert rejected["d5"] == "filter_timeout"
        kept = spark.read.parquet(str(tmp_path / "out" / "filter"))
        assert "filter__timeout" not in kept.columns

        # every other document: the scores the chain gives in this process
        from filters.stage import build_chain
        from filters.base import Batch, TextModifier

        chain = build_chain(config.filter)
        for i, text in enumerate(texts):
            if i == 5:
                continue
            current = [text]
            for f in chain.filters:
                view = Batch(current, ["en"], [f"http://site{i}.example/"], [f"site{i}.example"])
                current, found = f.apply(view) if isinstance(f, TextModifier) else (current, f.score(view))
                for metric, values in found.items():
                    got, want = scores[f"d{i}"][f"{f.prefix}__{metric}"], float(values[0])
                    assert got == want or (math.isnan(got) and math.isnan(want)), (i, metric)
            assert scores[f"d{i}"]["text"] == current[0] and scores[f"d{i}"]["filter__timeout"] == 0.0
