"""The filter job on local[2]: scores persisted, decisions from thresholds, counts add up, select-only reruns."""
import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.stage_spark import execute
from pipeline.config import ConfigError, load_config
from pipeline.schema import DOCUMENT_FIELDS

pytestmark = pytest.mark.spark

PROSE = ("The river runs past the old mill, and the farmers bring their grain to the town market. "
         "There the miller weighs each sack and writes the price in his book. ")
LOGS = " ".join(f"ERR0x{i:04x} segfault at 0x{i * 7919:08x} ip 0x{i * 104729:08x}" for i in range(30))


def documents(path, texts):
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    rows = [{"id": f"d{i}", "url": f"http://site{i}.example/", "domain": f"site{i}.example", "source": "web",
             "fetched_at": now, "text": text, "lang": "en", "lang_score": 0.99} for i, text in enumerate(texts)]
    path.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(DOCUMENT_FIELDS)), path / "part-0.parquet")
    return str(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    texts = [PROSE * (2 + i % 5) for i in range(40)] + [LOGS, LOGS + " extra"]
    return documents(tmp_path_factory.mktemp("docs") / "extract", texts)


def config_for(output, *overrides):
    return load_config(None, [f"output={output}", "filter.filters=[token_outlier_v1]", *overrides])


def test_percentile_drop_then_select_only_rerun(spark, corpus, tmp_path):
    config = config_for(tmp_path, "filter.options={token_outlier_v1: {drop_top_percent: 5, min_tokens: 10}}")
    first = execute(spark, config, "filter", [corpus])
    assert first["records_in"] == 42
    assert first["kept"] + first["rejected"] == 42
    assert first["rejected_by_reason"] == {"token_outlier_max_kl": 2}
    rejected = {r["id"] for r in spark.read.parquet(str(tmp_path / "rejected" / "filter")).collect()}
    assert rejected == {"d40", "d41"}
    kept = spark.read.parquet(str(tmp_path / "filter"))
    assert "token_outlier__kl" in kept.columns and "drop_reason" not in kept.columns

    scores_dir = tmp_path / "filter_scores"
    before = {p.name: p.stat().st_mtime_ns for p in scores_dir.glob("part-*")}
    rerun = config_for(tmp_path, "filter.options={token_outlier_v1: {drop_top_percent: 5, min_tokens: 10}}",
                       "filter.select_only=true", "filter.thresholds={token_outlier_v1: {default: {max_kl: 1000}}}")
    second = execute(spark, rerun, "filter", None)
    assert {p.name: p.stat().st_mtime_ns for p in scores_dir.glob("part-*")} == before  # not recomputed
    assert second["records_in"] == 42 and second["rejected"] == 2  # the percentile still applies

    without_percentile = config_for(tmp_path, "filter.select_only=true",
                                    "filter.options={token_outlier_v1: {drop_top_percent: 5, min_tokens: 10}}")
    stats = json.loads((tmp_path / "stats" / "filter.json").read_text())
    assert stats["value_thresholds"]["token_outlier_v1"]["en"]["max_kl"] > 0
    assert stats["thresholds"]["token_outlier_v1"]["default"]["max_kl"] == 1000     # what the rerun applied
    assert execute(spark, without_percentile, "filter", None)["kept"] == 40


def test_select_only_refuses_scores_from_other_options(spark, corpus, tmp_path):
    execute(spark, config_for(tmp_path, "filter.options={token_outlier_v1: {min_tokens: 10}}"), "filter", [corpus])
    changed = config_for(tmp_path, "filter.options={token_outlier_v1: {min_tokens: 50}}", "filter.select_only=true")
    with pytest.raises(ConfigError, match="only thresholds may change"):
        execute(spark, changed, "filter", None)
