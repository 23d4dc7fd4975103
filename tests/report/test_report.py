"""The run report on a small synthetic run directory: numbers equal counts computed here independently."""
import json
import math
import os
import random
import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.report import main as report_main
from pipeline.report.stage_spark import make_report
from pipeline.report.render import SECTIONS, compare

pytestmark = pytest.mark.spark

LANGS = {"en": 30, "de": 12, "sw": 5}


def _documents(seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    docs = []
    for lang, n in LANGS.items():
        for i in range(n):
            docs.append({"id": f"{lang}{i}", "text": "x" * rnd.randint(50, 5000), "lang": lang,
                         "lang_score": round(rnd.uniform(0.5, 1.0), 4), "source": rnd.choice(["web", "wiki"]),
                         "domain": f"site{rnd.randint(0, 6)}.example", "quality__score": rnd.random(),
                         "domain__label": rnd.choice(["general", "code", "math_reasoning"])})
    return docs


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, spark):
    run = tmp_path_factory.mktemp("run")
    docs = _documents()
    table = pa.Table.from_pylist(docs).cast(pa.schema([
        ("id", pa.string()), ("text", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32()),
        ("source", pa.string()), ("domain", pa.string()), ("quality__score", pa.float64()),
        ("domain__label", pa.string())]))
    os.makedirs(run / "classify")
    pq.write_table(table, run / "classify" / "part-00000.parquet")
    (run / "classify" / "_SUCCESS").write_text("")
    chars = sum(len(d["text"]) for d in docs)
    _write(run / "stats" / "extract.json", {"records_in": 80, "kept": 60, "rejected": 20, "kept_chars": chars + 9000,
                                            "rejected_by_reason": {"not_html": 15, "http_status": 5}})
    _write(run / "stats" / "dedup.json", {"records_in": 60, "kept": 47, "rejected": 13, "kept_chars": chars,
                                          "rejected_by_reason": {"exact_duplicate": 3, "minhash_duplicate": 10},
                                          "minhash_cluster_sizes": {"2": 4, "3": 2},
                                          "duplicate_rate": {"domain": {"site1.example": {"rate": 0.25}},
                                                             "lang": {"en": {"documents": 40, "duplicates": 10,
                                                                             "rate": 0.25}}}})
    _write(run / "stats" / "classify.json", {"records_in": 47, "kept": 47, "rejected": 0, "kept_chars": chars,
                                             "rejected_by_reason": {}})
    _write(run / "stats" / "tokenize.json", {"records_in": 47, "kept": 47, "rejected": 0, "kept_chars": chars,
                                             "kept_text_tokens": 12345, "rejected_by_reason": {},
                                             "chars_per_token_by_lang": {"en": 4.0, "de": 3.0, "sw": 2.5}})
    _write(run / "shards" / "train" / "manifest.json", {
        "num_tokens": 1500, "num_documents": 40, "shards": [{"name": "00000", "tokens": 1000, "documents": 30},
                                                            {"name": "00001", "tokens": 500, "documents": 10}],
        "totals": {"en/web": {"documents": 40, "unique_documents": 40, "tokens": 1500}},
        "mix": {"weights": {"en/web": 1.0}, "applied": {"en/web": 1.0}}})
    report = make_report(spark, str(run))
    return run, docs, report


def spark_session():
    from pyspark.sql import SparkSession
    return SparkSession.getActiveSession()


def test_report_numbers_match_independent_counts(run_dir):
    run, docs, report = run_dir
    on_disk = json.loads((run / "report" / "report.json").read_text())
    assert on_disk["version"] == 1 and set(SECTIONS) <= set(on_disk)
    # funnel from the stats files, chars_in chained from the previous stage
    funnel = {r["stage"]: r for r in report["funnel"]}
    assert [r["stage"] for r in report["funnel"]] == ["extract", "dedup", "classify", "tokenize"]
    assert funnel["dedup"]["documents_in"] == 60 and funnel["dedup"]["documents_out"] == 47
    assert funnel["dedup"]["chars_in"] == funnel["extract"]["chars_out"]
    assert funnel["extract"]["dropped_by_reason"] == {"not_html": 15, "http_status": 5}
    assert funnel["tokenize"]["tokens_out"] == 12345
    # languages: documents, chars, token estimate with the measured chars/token, lang_score quantiles
    cpt = {"en": 4.0, "de": 3.0, "sw": 2.5}
    langs = {r["lang"]: r for r in report["languages"]}
    est = {l: sum(len(d["text"]) for d in docs if d["lang"] == l) / cpt[l] for l in LANGS}
    for lang, n in LANGS.items():
        mine = [d for d in docs if d["lang"] == lang]
        assert langs[lang]["documents"] == n
        assert langs[lang]["chars"] == sum(len(d["text"]) for d in mine)
        assert langs[lang]["tokens_est"] == round(est[lang])
        assert langs[lang]["token_share"] == pytest.approx(est[lang] / sum(est.values()), abs=1e-6)
        scores = sorted(np.float32(d["lang_score"]) for d in mine)
        assert langs[lang]["lang_score"]["q50"] == pytest.approx(float(scores[math.ceil(0.5 * n) - 1]), abs=1e-6)
        assert langs[lang]["lang_score"]["mean"] == pytest.approx(float(np.mean(scores)), abs=1e-5)
    # sources, domains (with the dedup rate), domain labels
    assert {r["source"]: r["documents"] for r in report["sources"]} == \
        {s: sum(d["source"] == s for d in docs) for s in {d["source"] for d in docs}}
    dom_counts = {}
    for d in docs:
        dom_counts[d["domain"]] = dom_counts.get(d["domain"], 0) + 1
    assert {r["domain"]: r["documents"] for r in report["domains"]} == dom_counts
    assert next(r for r in report["domains"] if r["domain"] == "site1.example")["duplicate_rate"] == 0.25
    assert {r["domain__label"]: r["documents"] for r in report["domain_labels"]} == \
        {l: sum(d["domain__label"] == l for d in docs) for l in {d["domain__label"] for d in docs}}


def test_histograms_match_numpy(run_dir):
    _, docs, report = run_dir
    hist = report["histograms"]
    q = [d["quality__score"] for d in docs]
    counts, edges = np.histogram(q, bins=20, range=(min(q), max(q)))
    assert hist["scores"]["quality__score"]["counts"] == counts.tolist()
    assert hist["scores"]["quality__score"]["edges"] == pytest.approx(edges.tolist(), abs=1e-5)
    lengths = np.log10(np.array([len(d["text"]) for d in docs]) + 1.0)
    counts, _ = np.histogram(lengths, bins=20, range=(lengths.min(), lengths.max()))
    assert hist["doc_chars"]["counts"] == counts.tolist() and hist["doc_chars"]["count"] == len(docs)
    assert hist["dedup_cluster_size"] == {"sizes": [2, 3], "clusters": [4, 2]}
    assert [s["tokens"] for s in report["tokenize"]["splits"]["train"]["shards"]] == [1000, 500]
    assert report["mix"]["applied"] == {"en/web": 1.0}


def test_html_has_every_section_and_images_decode(run_dir):
    run, _, report = run_dir
    page = (run / "report" / "index.html").read_text()
    for name in SECTIONS:
        assert f'<section id="{name}">' in page
    assert "src=" not in page and "<script" not in page and "<link" not in page   # nothing fetched
    svgs = [page[i:page.index("</svg>", i) + 6] for i in range(len(page)) if page.startswith("<svg", i)]
    # documents out, languages, doc length, quality score, cluster sizes, train shards, chars/token
    assert len(svgs) == 7
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert len(root.findall("{http://www.w3.org/2000/svg}rect")) >= 2
    lang_svg = ET.fromstring(svgs[1])
    widths = [float(r.get("width")) for r in lang_svg.findall("{http://www.w3.org/2000/svg}rect")]
    assert widths[0] == max(widths)   # en, the largest language by tokens, draws the longest bar


def test_compare_side_by_side(run_dir, tmp_path, capsys):
    run, _, report = run_dir
    other = json.loads(json.dumps(report))
    other["run"] = "b"
    other["funnel"][1]["documents_out"] = 40
    other["tokenize"]["splits"]["train"]["tokens"] = 1700
    text = compare(report, other)
    assert any(l.split()[:2] == ["dedup", "documents_out"] and l.split()[-1] == "-7" for l in text.splitlines())
    assert any(l.startswith("train tokens") and l.split()[-1] == "200" for l in text.splitlines())
    b = tmp_path / "b"
    (b / "report").mkdir(parents=True)
    (b / "report" / "report.json").write_text(json.dumps(other))
    assert report_main(["--compare", str(run), str(b)]) == 0   # both reports exist: no Spark job
    assert "train tokens" in capsys.readouterr().out


def test_mix_counts_from_run_documents(run_dir):
    """jobs/mix --run: tokens per (lang, source, domain__label) = characters / measured chars per token."""
    from pipeline.mix.counts_spark import document_token_counts

    run, docs, _ = run_dir
    buckets, notes = document_token_counts(spark_session(), str(run))
    cpt = {"en": 4.0, "de": 3.0, "sw": 2.5}
    expected = {}
    for d in docs:
        key = (d["lang"], d["source"], d["domain__label"])
        expected[key] = expected.get(key, 0) + len(d["text"])
    assert {(b.lang, b.source, b.domain): b.tokens for b in buckets} == \
        {k: round(v / cpt[k[0]]) for k, v in expected.items()}
    assert any("estimated from characters" in n for n in notes)
