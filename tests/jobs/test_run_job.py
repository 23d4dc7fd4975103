"""`python -m jobs.run` on the bundled sample: the demo that `make run` shows a new user."""
import json
from pathlib import Path

import pytest

from jobs import run as run_job
from tests.jobs.demo_models import train_demo_models

pytestmark = pytest.mark.spark
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CONF = SAMPLES.parent / "conf" / "default.yaml"


def test_demo_run_on_the_bundled_sample(spark, tmp_path, capsys):
    expected = json.loads((SAMPLES / "expected.json").read_text())
    models = train_demo_models(tmp_path / "m" / "models")
    code = run_job.main(["--conf", str(CONF), "--input", str(SAMPLES / "sample.warc.gz"), "--output", str(tmp_path),
                         "--set", models])
    assert code == 0
    stats = json.loads((tmp_path / "stats" / "extract.json").read_text())
    records = expected["records"]
    assert stats["records_in"] == sum(records.values())
    assert stats["kept"] == records["response_html_200"]
    assert stats["rejected_by_reason"] == {
        "not_response": records["warcinfo"] + records["request"] + records["metadata"],
        "not_html": records["response_non_html"],
        "http_status": records["response_redirect"] + records["response_404"],
        "malformed_record": records["malformed"],
    }
    assert stats["kept_by_lang"] == expected["html_200_pages_per_language"]
    assert (tmp_path / "config.yaml").read_text().startswith("input:")
    summary = capsys.readouterr().out
    assert "=== curate run summary ===" in summary and str(tmp_path / "filter") in summary

    filtered = json.loads((tmp_path / "stats" / "filter.json").read_text())
    assert filtered["records_in"] == stats["kept"] == filtered["kept"] + filtered["rejected"]
    outcome = {row["url"]: row["drop_reason"] for row in
               spark.read.parquet(str(tmp_path / "rejected" / "filter")).select("url", "drop_reason").collect()}
    outcome.update({row["url"]: None for row in spark.read.parquet(str(tmp_path / "filter")).select("url").collect()})
    pages = {page["url"]: page for page in expected["pages"]}
    normalised = {_normal(url): page for url, page in pages.items()}
    for url, reason in outcome.items():
        page = normalised[url]
        wanted = page.get("filter_expectation", "keep")
        assert (reason is not None) == (wanted == "drop"), (url, reason)
    kept = spark.read.parquet(str(tmp_path / "filter")).select("text", "pii__total").collect()
    redacted = [row["text"] for row in kept if row["pii__total"]]
    assert redacted and all("<EMAIL>" in text for text in redacted)

    # Classify (before dedup): every filtered page scored by both demo models; the demo cut drops none of them.
    classified = json.loads((tmp_path / "stats" / "classify.json").read_text())
    assert classified["records_in"] == filtered["kept"] == classified["kept"] + classified["rejected"]
    scored = spark.read.parquet(str(tmp_path / "classify"))
    assert {"quality__score", "domain__general", "domain__label"} <= set(scored.columns)
    english = [row["quality__score"] for row in scored.where("lang = 'en'").collect()]
    assert english and min(english) > 0.5         # the toy model is English: good English pages score high

    # Dedup: each planted duplicate group keeps exactly one page; everything else stays.
    deduped = json.loads((tmp_path / "stats" / "dedup.json").read_text())
    assert deduped["records_in"] == classified["kept"] == deduped["kept"] + deduped["rejected"]
    dropped = {row["url"]: row["drop_reason"] for row in
               spark.read.parquet(str(tmp_path / "rejected" / "dedup")).select("url", "drop_reason").collect()}
    survivors = [url for url, reason in outcome.items() if reason is None]
    groups = {}
    for url in survivors:
        page = normalised[url]
        group = page.get("near_duplicate_group")
        if group:
            groups.setdefault(group, []).append(url)
        else:
            assert url not in dropped, url
    assert len(groups) >= 4 and all(len(urls) >= 2 for urls in groups.values())
    for urls in groups.values():
        assert sum(url not in dropped for url in urls) == 1, urls
        # A group holding an exact copy loses one of the two copies at the exact step.
        exact = any(normalised[url].get("exact_duplicate_of") for url in urls)
        for url in urls:
            if url in dropped:
                assert dropped[url] == ("exact_duplicate" if exact else "minhash_duplicate"), url

    # Tokenize and report: shards that verify, and a report whose funnel matches the stage stats.
    from pipeline.tokens.shards import verify_shards

    tokenized = json.loads((tmp_path / "stats" / "tokenize.json").read_text())
    assert tokenized["records_in"] == deduped["kept"] == tokenized["kept"] + tokenized["rejected"]
    manifest = verify_shards(tmp_path / "shards" / "train")
    valid = verify_shards(tmp_path / "shards" / "valid")
    assert sum(s["documents"] for s in manifest["shards"] + valid["shards"]) == tokenized["kept"]
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert (tmp_path / "report" / "index.html").is_file()
    funnel = {row["stage"]: row for row in report["funnel"]}
    assert funnel["dedup"]["documents_out"] == deduped["kept"]
    assert funnel["extract"]["documents_in"] == stats["records_in"]
    assert "report: " + str(tmp_path / "report" / "index.html") in summary


def _normal(url):
    from pipeline.extract.urls import normalize_url

    return normalize_url(url)
