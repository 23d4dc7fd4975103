"""The extract job on local[2]: outputs follow the contract and every input record is accounted for."""
import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.stage_spark import execute
from pipeline.config import load_config
from pipeline.schema import DOCUMENT_FIELDS
from tests.badinput import make_all
from tests.warcs import article, request, response, write_warc

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Bad-input cases plus clean WARC, JSONL and Parquet files; returns (dir, records per reason)."""
    directory = tmp_path_factory.mktemp("corpus")
    cases = make_all(directory)
    expected = Counter()
    for case in cases:
        expected["kept"] += len(case.good_urls)
        expected.update(case.expected_rejections)
    write_warc(directory / "clean.warc.gz", [
        request("http://clean.example/fr"),
        response("http://clean.example/fr", article("Marché", "Le marché du samedi accueille une trentaine de "
                 "producteurs venus des villages voisins, qui vendent fromages, légumes et pain au levain.")),
        response("HTTP://Clean.Example:80/de#top", article("Markt", "Der Wochenmarkt am Samstag bringt etwa "
                 "dreißig Erzeuger aus den umliegenden Dörfern zusammen, die Käse, Gemüse und Brot verkaufen.")),
    ])
    expected["kept"] += 2
    expected["not_response"] += 1
    pq.write_table(pa.table({"text": ["Un document déjà propre, écrit en français pour le test du lecteur."],
                             "url": ["https://parquet.example/doc"]}), directory / "clean.parquet")
    expected["kept"] += 1
    return directory, expected


@pytest.fixture(scope="module")
def result(spark, corpus, tmp_path_factory):
    directory, _ = corpus
    output = tmp_path_factory.mktemp("out")
    config = load_config(None, [f"input=['{directory}']", f"output={output}", "extract.timeout_s=5"])
    return execute(spark, config, "extract"), output


def test_counts_add_up_exactly(corpus, result):
    _, expected = corpus
    stats, _ = result
    rejected = {k: v for k, v in expected.items() if k != "kept"}
    assert stats["kept"] == expected["kept"]
    assert stats["rejected_by_reason"] == rejected
    assert stats["records_in"] == sum(expected.values())


def test_kept_documents_follow_the_contract(spark, result):
    _, output = result
    kept = spark.read.parquet(str(output / "extract"))
    assert [f.name for f in DOCUMENT_FIELDS] == kept.columns[: len(DOCUMENT_FIELDS)]
    rows = {r["url"]: r for r in kept.collect()}  # a test-sized output
    german = rows["http://clean.example/de"]
    assert german["lang"] == "de" and german["lang_score"] > 0.8
    assert german["domain"] == "clean.example"
    assert "dreißig Erzeuger" in german["text"] and "Home" not in german["text"]
    assert rows["https://parquet.example/doc"]["lang"] == "fr"
    assert len({r["id"] for r in rows.values()}) == len(rows)


def test_rejections_and_stats_are_written(spark, result):
    stats, output = result
    rejected = spark.read.parquet(str(output / "rejected" / "extract"))
    reasons = Counter(r["drop_reason"] for r in rejected.select("drop_reason").collect())
    assert dict(reasons) == stats["rejected_by_reason"]
    on_disk = json.loads((output / "stats" / "extract.json").read_text())
    assert on_disk["records_in"] == stats["records_in"]
    assert (output / "extract" / "_SUCCESS").exists()


def test_time_limit_applies_inside_spark_workers(spark, corpus, tmp_path):
    directory, _ = corpus
    config = load_config(None, [f"input=['{directory / 'clean.warc.gz'}']", f"output={tmp_path}",
                                "extract.timeout_s=0.000001"])
    stats = execute(spark, config, "extract")
    assert stats["rejected_by_reason"] == {"extract_timeout": 2, "not_response": 1}
    assert stats["kept"] == 0
