"""extract.early_drops: a page whose host is on the filter's domain blocklists is rejected by the
extract stage, with the filter's reason, before its HTML is parsed; the lists enter extract's run key."""
from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.resume import stage_keys
from pipeline.stage_spark import execute
from tests.warcs import article, response, write_warc

BODY = "A page that can be read, with a sentence long enough to be kept by the extractor.\nAnd a second one."
PAGES = {"http://news.example/a": False, "http://www.listed.example/b": True, "https://deep.sub.listed.example/c": True,
         "http://notlisted.example/d": False, "http://listed.example.org/e": False}


def _config(tmp_path, early: bool, listed: str = "listed.example\n"):
    (tmp_path / "block.txt").write_text(listed)
    config = load_config(None, [f"input=['{tmp_path / 'in'}']", f"output={tmp_path / 'out'}",
                                "stages=[extract, filter]", "filter.filters=[nsfw_domains_v1]",
                                f"extract.early_drops={str(early).lower()}"])
    config.filter.options = {"nsfw_domains_v1": {"blocklists": [str(tmp_path / "block.txt")]}}
    return config


@pytest.fixture()
def crawl(tmp_path):
    (tmp_path / "in").mkdir()
    write_warc(tmp_path / "in" / "crawl.warc.gz", [response(url, article(url, BODY)) for url in PAGES])


@pytest.mark.spark
def test_listed_pages_are_rejected_before_extraction(spark, tmp_path, crawl, capsys):
    stats = execute(spark, _config(tmp_path, early=True), "extract")
    assert "dropping before extraction what filter would drop: nsfw_domains_max_blocked (1 listed)" in capsys.readouterr().out
    rejected = {r["url"]: r for r in spark.read.parquet(str(tmp_path / "out" / "rejected" / "extract")).collect()}
    kept = {r["url"] for r in spark.read.parquet(str(tmp_path / "out" / "extract")).collect()}
    assert set(rejected) == {url for url, listed in PAGES.items() if listed}
    assert kept == {url for url, listed in PAGES.items() if not listed}
    for row in rejected.values():             # never decoded nor parsed
        assert row["drop_reason"] == "nsfw_domains_max_blocked" and row["extract__charset"] is None
        assert "before extraction" in row["drop_detail"]
    assert stats["rejected_by_reason"] == {"nsfw_domains_max_blocked": 2} and stats["records_in"] == 5


@pytest.mark.spark
def test_without_early_drops_extract_keeps_them_for_the_filter(spark, tmp_path, crawl):
    stats = execute(spark, _config(tmp_path, early=False), "extract")
    assert stats["kept"] == 5 and stats["rejected"] == 0


def test_the_lists_are_part_of_extracts_run_key_only_with_early_drops(tmp_path):
    off, on = _config(tmp_path, early=False), _config(tmp_path, early=True)
    key_on = stage_keys(on, ["extract", "filter"])["extract"]
    assert stage_keys(off, ["extract", "filter"])["extract"] != key_on
    assert stage_keys(_config(tmp_path, early=True, listed="other.example\nlisted.example\n"),
                      ["extract", "filter"])["extract"] != key_on     # another list: extract reruns
    assert stage_keys(_config(tmp_path, early=False, listed="other.example\n"), ["extract", "filter"])["extract"] == \
        stage_keys(off, ["extract", "filter"])["extract"]            # off: the lists are the filter's business
