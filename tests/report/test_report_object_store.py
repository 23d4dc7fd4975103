"""The report and the mix read a run directory on an object store and write the report there
(a real S3 server on loopback; Spark's own s3a needs hadoop-aws, so the Parquet part stays local)."""
import json

import pytest

from pipeline import storage
from pipeline.mix.counts import chars_per_token, manifests
from pipeline.outputs import final_documents_path
from pipeline.report.render import write_report
from pipeline.report.statistics_spark import stage_stats
from tests.storage.s3server import S3Server, spark_options

BUCKET = "runs"


@pytest.fixture(scope="module")
def run():
    with S3Server() as s3:
        s3.create_bucket(BUCKET)
        storage.configure(storage.storage_options(spark_options(s3.endpoint)))
        root = f"s3a://{BUCKET}/run1"
        for stage, kept in (("extract", 10), ("filter", 7), ("tokenize", 7)):
            storage.write_bytes(f"{root}/stats/{stage}.json", json.dumps(
                {"stage": stage, "records_in": 10, "kept": kept, "chars_per_token_by_lang": {"en": 4.2}}).encode())
        storage.write_bytes(f"{root}/filter/_SUCCESS", b"")
        storage.write_bytes(f"{root}/shards/train/manifest.json", json.dumps({"num_tokens": 100}).encode())
        try:
            yield root
        finally:
            storage.configure(None)


def test_the_report_reads_a_run_on_an_object_store(run):
    assert list(stage_stats(run)) == ["extract", "filter", "tokenize"]      # flow order, not name order
    assert stage_stats(run)["filter"]["kept"] == 7
    assert chars_per_token(run) == {"en": 4.2}
    assert manifests(run) == {"train": {"num_tokens": 100}}
    assert final_documents_path(run, ("extract", "filter", "dedup")) == f"{run}/filter"


def test_the_report_is_written_to_the_object_store(run):
    report = {"run": run, "version": 1, "funnel": [], "languages": [], "sources": [], "domains": [],
              "domain_labels": [], "dedup": {}, "mix": {}, "stages": [],
              "histograms": {"doc_chars": None, "scores": {}, "dedup_cluster_size": None},
              "tokenize": {"chars_per_token_by_lang": {}, "splits": {}, "tokenizer": None}}
    json_path, html_path = write_report(report, f"{run}/report")
    assert json_path == f"{run}/report/report.json"
    assert json.loads(storage.read_bytes(json_path))["run"] == run
    assert b"<html" in storage.read_bytes(html_path).lower()
