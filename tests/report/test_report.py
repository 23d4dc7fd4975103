"""The run report on a small synthetic run directory: numbers equal counts computed here independently."""
import html.parser
import json
import math
import os
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from jobs.report import main as report_main
from pipeline.report.render import SECTIONS, compare
from pipeline.report.stage_spark import make_report

pytestmark = pytest.mark.spark

LANGS = {"en": 30, "de": 12, "sw": 5}
BOILERPLATE = ["Subscribe to our newsletter!", "Cookie settings"]

# The toy filters of the synthetic run, decided here independently of pipeline/report:
# (reason, column, op, default limit, per-language limits) in decision order.
RULES = [("toy_quality_min_words", "toy_quality__words", "min", 50.0, {"de": 30.0}),
         ("toy_quality_max_symbol_ratio", "toy_quality__symbol_ratio", "max", 0.1, {}),
         ("toy_rep_max_dup_frac", "toy_rep__dup_frac", "max", 0.3, {"en": 0.25})]
CONFIG = {"stages": ["extract", "filter", "classify", "dedup", "tokenize", "report"],
          "filter": {"filters": ["toy_quality_v1", "toy_rep_v1"],
                     "thresholds": {"toy_quality_v1": {"default": {"min_words": 50, "max_symbol_ratio": 0.1},
                                                       "de": {"min_words": 30}},
                                    "toy_rep_v1": {"default": {"max_dup_frac": 0.3}}}},
          "dedup": {"minhash": {"word_ngram": 5, "char_ngram": 5}}}
VALUE_THRESHOLDS = {"toy_rep_v1": {"en": {"max_dup_frac": 0.25}}}


def _limit(rule, lang, k=0):
    _, _, _, default, by_lang = rule
    return by_lang.get(lang, default)


def _fails(rule, value, lang, limit=None):
    limit = _limit(rule, lang) if limit is None else limit
    if value is None or math.isnan(value) or limit is None:
        return False
    return value < limit if rule[2] == "min" else value > limit


def _documents(seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    docs = []
    for lang, n in LANGS.items():
        for i in range(n):
            text = "\n".join(f"Line {j} of page {lang}{i}, written in {lang} with several words."
                              for j in range(rnd.randint(4, 80)))
            docs.append({"id": f"{lang}{i}", "url": f"https://site{i % 7}.example/{lang}/{i}", "text": text, "lang": lang,
                         "lang_score": round(rnd.uniform(0.5, 1.0), 4), "source": rnd.choice(["web", "wiki"]),
                         "domain": f"site{rnd.randint(0, 6)}.example", "quality__score": rnd.uniform(0.2, 1.0),
                         "domain__label": rnd.choice(["general", "code", "math_reasoning"])})
    return docs


def _scored(seed: int = 11) -> list[dict]:
    """The filter stage's view: every document with its toy scores and the decision."""
    rnd = random.Random(seed)
    out = []
    for i in range(90):
        lang = rnd.choice(["en"] * 5 + ["de"] * 3 + ["sw", None])
        words = float(rnd.randint(5, 200)) if rnd.random() > 0.05 else float("nan")
        doc = {"id": f"s{i:03d}", "url": f"https://site{i % 7}.example/page/{i}", "lang": lang,
               "source": rnd.choice(["web", "wiki"]), "toy_quality__words": words,
               "toy_quality__symbol_ratio": round(rnd.uniform(0, 0.14), 4), "toy_rep__dup_frac": round(rnd.uniform(0, 0.4), 4),
               "text": "\n".join(f"Line {j} of page {i}, written in {lang} with several words." for j in range(4))}
        doc["drop_reason"] = next((r[0] for r in RULES if _fails(r, doc[r[1]], lang)), None)
        out.append(doc)
    return out


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f)


def _parquet(directory, rows, schema=None, parts=1):
    os.makedirs(directory, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    step = max(1, math.ceil(len(rows) / parts))
    for n, start in enumerate(range(0, max(len(rows), 1), step)):
        pq.write_table(table.slice(start, step), directory / f"part-{n:05d}.parquet")
    (directory / "_SUCCESS").write_text("")


def _dedup_fixture(run, kept_classify):
    """rejected/dedup (two MinHash groups, an exact copy, a page emptied by line dedup), dedup's kept output
    with the boilerplate lines cut. Returns what was planted."""
    base = [dict(d) for d in kept_classify[:8]]
    for d in base[3:6]:                         # three pages carry the boilerplate lines
        d["text"] = d["text"] + "\n" + "\n".join(BOILERPLATE)
    base[7]["text"] = "\n".join(BOILERPLATE)    # a page of boilerplate only: emptied
    k1, k2, k3 = base[0], base[1], base[2]
    copies = [{**k1, "id": "c1", "url": "https://copy.example/1", "text": k1["text"].replace("Line 2 of", "Row 2 of"),
               "drop_reason": "minhash_duplicate", "duplicate_of": k1["id"]},
              {**k1, "id": "c2", "url": "https://copy.example/2", "text": k1["text"] + " extra",
               "drop_reason": "minhash_duplicate", "duplicate_of": k1["id"]},
              {**k2, "id": "c3", "url": "https://copy.example/3", "text": k2["text"].replace("several", "many"),
               "drop_reason": "minhash_duplicate", "duplicate_of": k2["id"]},
              {**k2, "id": "c4", "url": "https://copy.example/4", "text": k2["text"],
               "drop_reason": "minhash_duplicate", "duplicate_of": k2["id"]},
              {**k3, "id": "c5", "url": "https://copy.example/5", "text": k3["text"],
               "drop_reason": "exact_duplicate", "duplicate_of": k3["id"]},
              {**base[7], "text": "", "drop_reason": "line_dedup_empty", "duplicate_of": None}]
    return base, copies


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, spark):
    run = tmp_path_factory.mktemp("run")
    docs = _documents()
    schema = pa.schema([
        ("id", pa.string()), ("url", pa.string()), ("text", pa.string()), ("lang", pa.string()),
        ("lang_score", pa.float32()), ("source", pa.string()), ("domain", pa.string()),
        ("quality__score", pa.float64()), ("domain__label", pa.string())])
    # classify kept `docs`; the dedup input is the classify output: texts there include the
    # boilerplate the dedup cut, and the copies it removed
    base, copies = _dedup_fixture(run, docs)
    by_id = {d["id"]: d for d in base}
    kept_classify = [by_id.get(d["id"], d) for d in docs]
    _parquet(run / "classify", kept_classify, schema=schema)
    final = []
    for d in kept_classify:
        if d["id"] == base[7]["id"]:
            continue
        lines = [l for l in d["text"].split("\n") if l not in BOILERPLATE]
        final.append({**d, "text": "\n".join(lines), "dedup__lines_removed": d["text"].count("\n") + 1 - len(lines)})
    _parquet(run / "dedup", final, schema=schema.append(pa.field("dedup__lines_removed", pa.int64())))
    _parquet(run / "rejected" / "dedup", copies)
    low = [{"id": f"low{i}", "text": "meh", "lang": "en", "source": "web", "quality__score": 0.05 * i,
            "drop_reason": "quality_min_score"} for i in range(3)]
    _parquet(run / "rejected" / "classify", low)
    scored = _scored()
    kept_filter = [{k: v for k, v in d.items() if k != "drop_reason"} for d in scored if d["drop_reason"] is None]
    _parquet(run / "filter_scores", [{k: v for k, v in d.items() if k != "drop_reason"} for d in scored], parts=3)
    _parquet(run / "rejected" / "filter", [d for d in scored if d["drop_reason"]], parts=2)
    _parquet(run / "filter", kept_filter)
    (run / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    reasons = {}
    for d in scored:
        if d["drop_reason"]:
            reasons[d["drop_reason"]] = reasons.get(d["drop_reason"], 0) + 1
    kept = sum(1 for d in scored if d["drop_reason"] is None)
    chars = sum(len(d["text"]) for d in docs)
    _write(run / "stats" / "extract.json", {"records_in": 80, "kept": 60, "rejected": 20, "kept_chars": chars + 9000,
                                            "rejected_by_reason": {"not_html": 15, "http_status": 5}})
    _write(run / "stats" / "filter.json", {"records_in": 90, "kept": kept, "rejected": 90 - kept,
                                           "rejected_by_reason": reasons, "filters": CONFIG["filter"]["filters"],
                                           "value_thresholds": VALUE_THRESHOLDS, "kept_by_lang": {"en": 40, "de": 30}})
    _write(run / "stats" / "dedup.json", {"records_in": 53, "kept": 47, "rejected": 6, "kept_chars": chars,
                                          "rejected_by_reason": {"exact_duplicate": 1, "minhash_duplicate": 4,
                                                                 "line_dedup_empty": 1},
                                          "steps": ["url", "exact", "minhash", "lines"],
                                          "lines_removed": {"documents": 4, "lines": 8},
                                          "minhash_cluster_sizes": {"2": 4, "3": 2},
                                          "duplicate_rate": {"domain": {"site1.example": {"rate": 0.25}},
                                                             "lang": {"en": {"documents": 40, "duplicates": 10,
                                                                             "rate": 0.25}}}})
    _write(run / "stats" / "classify.json", {"records_in": 50, "kept": 47, "rejected": 3, "kept_chars": chars,
                                             "rejected_by_reason": {"quality_min_score": 3},
                                             "min_score_by_lang": {"quality": {"default": 0.2}},
                                             "score_columns": {"quality": ["quality__score"]}})
    _write(run / "stats" / "tokenize.json", {"records_in": 47, "kept": 47, "rejected": 0, "kept_chars": chars,
                                             "kept_text_tokens": 12345, "rejected_by_reason": {},
                                             "chars_per_token_by_lang": {"en": 4.0, "de": 3.0, "sw": 2.5}})
    _write(run / "shards" / "train" / "manifest.json", {
        "num_tokens": 1500, "num_documents": 40, "shards": [{"name": "00000", "tokens": 1000, "documents": 30},
                                                            {"name": "00001", "tokens": 500, "documents": 10}],
        "totals": {"en/web": {"documents": 40, "unique_documents": 40, "tokens": 1500}},
        "mix": {"weights": {"en/web": 1.0}, "applied": {"en/web": 1.0}}})
    report = make_report(spark, str(run), samples=4)
    return run, final, report, scored, copies


def spark_session():
    from pyspark.sql import SparkSession
    return SparkSession.getActiveSession()


def test_report_numbers_match_independent_counts(run_dir):
    run, docs, report, _, _ = run_dir
    on_disk = json.loads((run / "report" / "report.json").read_text())
    assert on_disk["version"] == 2 and set(SECTIONS) - {"thresholds", "drops"} <= set(on_disk)
    assert on_disk["notes"] == []     # every drop reason has its rule; the rules keep what the stages kept
    # funnel from the stats files, chars_in chained from the previous stage
    funnel = {r["stage"]: r for r in report["funnel"]}
    assert [r["stage"] for r in report["funnel"]] == ["extract", "filter", "classify", "dedup", "tokenize"]
    assert funnel["dedup"]["documents_in"] == 53 and funnel["dedup"]["documents_out"] == 47
    assert funnel["extract"]["dropped_by_reason"] == {"not_html": 15, "http_status": 5}
    assert funnel["tokenize"]["tokens_out"] == 12345
    # languages: documents, chars, token estimate with the measured chars/token, lang_score quantiles
    cpt = {"en": 4.0, "de": 3.0, "sw": 2.5}
    langs = {r["lang"]: r for r in report["languages"]}
    est = {l: sum(len(d["text"]) for d in docs if d["lang"] == l) / cpt[l] for l in LANGS}
    for lang in LANGS:
        mine = [d for d in docs if d["lang"] == lang]
        n = len(mine)
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
    _, docs, report, _, _ = run_dir
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


def test_drop_explorer_counts_equal_the_stage_stats(run_dir):
    run, _, report, scored, copies = run_dir
    stats = {s: json.loads((run / "stats" / f"{s}.json").read_text()) for s in ("filter", "classify", "dedup")}
    drops = report["drops"]
    assert set(drops) == {"filter", "classify", "dedup"}      # the stages with a rejected/ output
    for stage, info in drops.items():
        assert {k: v["count"] for k, v in info["reasons"].items()} == stats[stage]["rejected_by_reason"]
        assert info["total"] == stats[stage]["rejected"]
    truth = {d["id"]: d for d in scored}
    for reason, entry in drops["filter"]["reasons"].items():
        mine = [d for d in scored if d["drop_reason"] == reason]
        by_lang = {}
        for d in mine:
            by_lang[d["lang"] or "null"] = by_lang.get(d["lang"] or "null", 0) + 1
        assert entry["by_lang"] == dict(sorted(by_lang.items(), key=lambda kv: (-kv[1], kv[0])))
        assert sum(entry["by_source"].values()) == entry["count"]
        sampling = report["sampling"]
        per_lang_cap = sampling["per_reason"] + sampling["per_lang"] * len(sampling["languages"])
        assert min(entry["count"], sampling["per_reason"]) <= len(entry["samples"]) <= per_lang_cap
        for s in entry["samples"]:
            doc = truth[s["id"]]
            assert doc["drop_reason"] == reason and s["url"] == doc["url"]
            rule = next(r for r in RULES if r[0] == reason)
            assert s["score"]["column"] == rule[1] and s["score"]["value"] == pytest.approx(doc[rule[1]])
            assert s["score"]["limit"] == _limit(rule, doc["lang"])
        # every language sampled apart shows up to per_lang of its documents
        for lang in sampling["languages"]:
            assert sum(s["lang"] == lang for s in entry["samples"]) >= min(by_lang.get(lang, 0), sampling["per_lang"])
    dup = {s["id"]: s for e in drops["dedup"]["reasons"].values() for s in e["samples"]}
    assert {i: dup[i].get("duplicate_of") for i in dup} == {c["id"]: c["duplicate_of"] for c in copies}
    assert dup[copies[-1]["id"]]["excerpt"]["items"] == BOILERPLATE   # the lines line dedup took away


def _independent_kept(scored, rule_index=None, limits=None):
    kept = 0
    for d in scored:
        ok = True
        for i, r in enumerate(RULES):
            limit = limits.get(d["lang"], limits.get(None)) if i == rule_index else None
            if _fails(r, d[r[1]], d["lang"], limit):
                ok = False
        kept += ok
    return kept


def test_what_if_counts_match_an_independent_count(run_dir):
    _, _, report, scored, _ = run_dir
    section = report["thresholds"]["filter"]
    what = section["what_if"]
    assert what["kept_now"] == what["stage_kept"] == sum(d["drop_reason"] is None for d in scored)
    assert what["documents"] == len(scored) == section["documents"]
    for i, rule in enumerate(RULES):
        entry = what["rules"][rule[0]]
        assert [r["step"] for r in entry["rows"]] == sorted(r["step"] for r in entry["rows"])
        for row in entry["rows"]:
            limits = {None: row["default"], **{lang: v for lang, v in row["by_lang"].items()}}
            assert row["kept"] == _independent_kept(scored, i, limits), (rule[0], row)
            assert row["failing_this_rule"] == sum(_fails(rule, d[rule[1]], d["lang"],
                                                          limits.get(d["lang"], limits[None])) for d in scored)
        only = sum(1 for d in scored if [r[0] for r in RULES if _fails(r, d[r[1]], d["lang"])] == [rule[0]])
        assert entry["only_this_rule"] == only
    (current,) = [r for r in what["rules"]["toy_quality_min_words"]["rows"] if r["current"]]
    assert (current["default"], current["by_lang"]) == (50.0, {"de": 30.0})
    assert [r["default"] for r in what["rules"]["toy_quality_min_words"]["rows"]] == [30, 35, 40, 45, 50, 55, 60, 65, 70]
    classify = report["thresholds"]["classify"]["what_if"]
    assert classify["kept_now"] == classify["stage_kept"] == 47


def test_score_distributions_cover_every_scored_document(run_dir):
    _, _, report, scored, _ = run_dir
    dists = report["thresholds"]["filter"]["distributions"]
    assert set(dists) == {"toy_quality__words", "toy_quality__symbol_ratio", "toy_rep__dup_frac"}
    top = report["thresholds"]["filter"]["languages"]
    for column, dist in dists.items():
        values = [d[column] for d in scored]
        finite = [v for v in values if not math.isnan(v)]
        assert dist["count"] == len(finite) and dist["missing"] == len(values) - len(finite)
        assert sum(sum(c) for c in dist["groups"].values()) == len(finite)
        for group, counts in dist["groups"].items():
            members = [d for d in scored if not math.isnan(d[column]) and
                       ((d["lang"] or "null") == group or (group == "other" and (d["lang"] or "null") not in top))]
            assert sum(counts) == len(members), (column, group)
        edges = dist["edges"]
        counts, _ = np.histogram(finite, bins=len(edges) - 1, range=(edges[0], edges[-1]))
        assert [sum(c[i] for c in dist["groups"].values()) for i in range(len(edges) - 1)] == counts.tolist()
    limits = {(t["lang"], t["value"]) for t in dists["toy_quality__words"]["thresholds"]}
    assert limits == {("default", 50.0), ("de", 30.0)}
    assert {(t["lang"], t["value"]) for t in dists["toy_rep__dup_frac"]["thresholds"]} == {("default", 0.3), ("en", 0.25)}


def test_borderline_kept_and_would_come_back(run_dir):
    _, _, report, scored, _ = run_dir
    near = report["thresholds"]["filter"]["near"]["toy_quality_min_words"]
    rule = RULES[0]
    margins = sorted(d[rule[1]] - _limit(rule, d["lang"]) for d in scored
                     if d["drop_reason"] is None and not math.isnan(d[rule[1]]))
    assert [r["distance"] for r in near["borderline_kept"]] == pytest.approx(margins[:len(near["borderline_kept"])])
    alone = sorted(_limit(rule, d["lang"]) - d[rule[1]] for d in scored
                   if [r[0] for r in RULES if _fails(r, d[r[1]], d["lang"])] == [rule[0]])
    assert [r["distance"] for r in near["would_come_back"]] == pytest.approx(alone[:8])
    assert all(r["url"] for r in near["borderline_kept"])


def test_samples_are_reproducible_and_independent_of_partitions(run_dir):
    from pipeline.report.samples_spark import sample_rows

    run, _, report, _, _ = run_dir
    frame = spark_session().read.parquet(str(run / "rejected" / "filter"))
    draws = [[r["id"] for r in sample_rows(f, 18, 3, 2, ["en", "de"], [])]
             for f in (frame, frame.repartition(1), frame.repartition(7), frame.orderBy("url"))]
    assert all(d == draws[0] for d in draws) and draws[0]
    other = [r["id"] for r in sample_rows(frame, 19, 3, 2, ["en", "de"], [])]
    assert other != draws[0]
    again = make_report(spark_session(), str(run), out=str(run / "report_again"), samples=4)
    assert again["drops"] == report["drops"] and again["dedup"]["groups"] == report["dedup"]["groups"]
    assert again["thresholds"]["filter"]["near"] == report["thresholds"]["filter"]["near"]


def test_dedup_groups_and_frequent_lines(run_dir):
    _, _, report, _, copies = run_dir
    groups = report["dedup"]["groups"]
    assert set(groups) == {"minhash_duplicate", "exact_duplicate"}
    found = {g["kept"]["id"]: sorted(c["id"] for c in g["copies"]) for g in groups["minhash_duplicate"]}
    assert found == {copies[0]["duplicate_of"]: ["c1", "c2"], copies[2]["duplicate_of"]: ["c3", "c4"]}
    c1 = next(c for g in groups["minhash_duplicate"] for c in g["copies"] if c["id"] == "c1")
    assert [(d["kept"], d["copy"]) for d in c1["differences"]] == [("Line", "Row")]
    assert 0 < c1["jaccard"] < 1
    c4 = next(c for g in groups["minhash_duplicate"] for c in g["copies"] if c["id"] == "c4")
    assert c4["jaccard"] == 1.0 and c4["differences"] == []
    assert all(g["size"] == len(g["copies"]) + 1 for g in groups["minhash_duplicate"])
    lines = {r["line"]: r["documents"] for r in report["dedup"]["frequent_lines"]}
    assert lines == {BOILERPLATE[0]: 4, BOILERPLATE[1]: 4}     # three cut pages and the emptied one


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.sections, self.details, self.scripts = [], [], {}, []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "details" and "data-reason" in attrs:
            self.details[(attrs["data-stage"], attrs["data-reason"])] = int(attrs["data-count"])
        if tag == "script":
            self._in_script = attrs
            self.scripts.append([attrs, ""])

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def test_the_page_is_self_contained_and_its_counts_are_the_stats(run_dir):
    run, _, report, _, _ = run_dir
    page = _Page()
    page.feed((run / "report" / "index.html").read_text())
    assert page.sections == list(SECTIONS)
    assert not [t for t, a in page.tags if t in ("link", "img", "iframe")]
    assert all("src" not in attrs for attrs, _ in page.scripts)           # every script inline
    assert "Plotly.newPlot" in page.scripts[-1][1] and "plotly.js" in page.scripts[0][1].lower()[:2000]
    stats = {s: json.loads((run / "stats" / f"{s}.json").read_text()) for s in ("filter", "classify", "dedup")}
    assert page.details == {(s, r): n for s in stats for r, n in stats[s]["rejected_by_reason"].items()}
    (figures,) = [body for attrs, body in page.scripts if attrs.get("id") == "figures"]
    figures = json.loads(figures)
    words = [f for f in figures if "toy_quality__words" in f["layout"]["title"]["text"]]
    lines = {(s["x0"], s.get("line", {}).get("dash")) for f in words for s in f["layout"].get("shapes", [])}
    assert (50.0, "solid") in lines and (30.0, "dash") in lines          # the limit and the German one


def test_compare_side_by_side(run_dir, tmp_path, capsys):
    run, _, report, _, _ = run_dir
    other = json.loads(json.dumps(report))
    other["run"] = str(tmp_path / "b")
    next(r for r in other["funnel"] if r["stage"] == "dedup")["documents_out"] = 40
    other["tokenize"]["splits"]["train"]["tokens"] = 1700
    text = compare(report, other)
    assert any(l.split()[:2] == ["dedup", "documents_out"] and l.split()[-1] == "-7" for l in text.splitlines())
    assert any(l.startswith("train tokens") and l.split()[-1] == "200" for l in text.splitlines())
    b = tmp_path / "b"
    (b / "report").mkdir(parents=True)
    (b / "report" / "report.json").write_text(json.dumps(other))
    assert report_main(["--compare", str(run), str(b)]) == 0   # both reports exist: only the fates are joined
    assert "train tokens" in capsys.readouterr().out
    page = (b / "report" / "compare.html").read_text()
    for section in ("funnel", "reasons", "languages", "tokens", "changes"):
        assert f'<section id="{section}">' in page
    assert json.loads((b / "report" / "compare.json").read_text())["changes"]["available"] is False


def test_fate_changes_between_two_runs(spark, tmp_path):
    from pipeline.report.compare_spark import fate_changes

    def run(name, kept, rejected):
        root = tmp_path / name
        _parquet(root / "classify", [{"id": i, "url": f"https://x.example/{i}", "lang": "en"} for i in kept])
        _parquet(root / "rejected" / "filter", [{"id": i, "url": f"https://x.example/{i}", "lang": "en",
                                                 "drop_reason": r} for i, r in rejected.items()])
        return str(root)

    a = run("a", ["k1", "k2", "m1"], {"f1": "toy_min_words", "f2": "toy_min_words"})
    b = run("b", ["k1", "k2", "f1"], {"m1": "toy_max_dup", "f2": "toy_min_words"})
    changes = fate_changes(spark, a, b, seed=3)
    moved = {(t["a"], t["b"]): t["documents"] for t in changes["transitions"] if t["a"] != t["b"]}
    assert moved == {("filter: toy_min_words", "kept"): 1, ("kept", "filter: toy_max_dup"): 1}
    assert changes["changed"] == 2 and changes["documents"] == 5
    assert {(s["id"], s["a"]["fate"], s["b"]["fate"]) for s in changes["samples"]} == {
        ("f1", "filter: toy_min_words", "kept"), ("m1", "kept", "filter: toy_max_dup")}


def test_mix_counts_from_run_documents(run_dir):
    """jobs/mix --run: tokens per (lang, source, domain__label) = characters / measured chars per token."""
    from pipeline.mix.counts_spark import document_token_counts

    run, docs, _, _, _ = run_dir
    buckets, notes = document_token_counts(spark_session(), str(run))
    cpt = {"en": 4.0, "de": 3.0, "sw": 2.5}
    expected = {}
    for d in docs:
        key = (d["lang"], d["source"], d["domain__label"])
        expected[key] = expected.get(key, 0) + len(d["text"])
    assert {(b.lang, b.source, b.domain): b.tokens for b in buckets} == \
        {k: round(v / cpt[k[0]]) for k, v in expected.items()}
    assert any("estimated from characters" in n for n in notes)
