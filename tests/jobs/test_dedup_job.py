"""The dedup job on local[2], on a corpus with known structure: URL repeats, exact copies,
near-copies at known Jaccard, a chain A~B~C, far pairs, CJK near-copies and boilerplate lines."""
import json
import random

import pyarrow as pa
from pyspark.sql import functions as F
import pytest

from dedup.minhash import jaccard, shingle_hashes
from pipeline.stage_spark import execute
from pipeline.config import load_config
from pipeline.io import InputError
from tests.dedup.corpus import DAY, T0, cjk, doc, substitute, text_of, words, write

pytestmark = pytest.mark.spark

BOILERPLATE = "Subscribe to our newsletter for weekly updates!"
COOKIES = "We use cookies to improve your experience."
FOLLOW = "Follow us on social media"


def known_corpus() -> tuple[list[dict], dict]:
    rng = random.Random(7)
    rows, expected = [], {}
    # URL dedup: one URL crawled twice (different text): the later crawl wins.
    rows += [doc("url-old", text_of(words(rng, 120)), url="https://news.example/a", fetched_at=T0),
             doc("url-new", text_of(words(rng, 120)), url="https://news.example/a", fetched_at=T0 + DAY)]
    expected["url-old"] = ("url_duplicate", "url-new")
    # Exact dedup: copies differing in case and spacing; the most recent wins.
    base = text_of(words(rng, 150))
    rows += [doc("exact-1", base), doc("exact-2", "  " + base.upper().replace(" ", "   "), fetched_at=T0 + DAY),
             doc("exact-3", base)]
    expected["exact-1"] = expected["exact-3"] = ("exact_duplicate", "exact-2")
    # Near-copy: 3 substitutions in 300 words (Jaccard ~0.90); same crawl time, so the smaller id wins.
    near = words(rng, 300)
    rows += [doc("near-a", text_of(near)), doc("near-b", text_of(substitute(rng, near, [40, 150, 260])))]
    expected["near-b"] = ("minhash_duplicate", "near-a")
    # A chain: A~B and B~C pass 0.8, A~C does not; all three end in one cluster.
    chain_a = words(rng, 300)
    chain_b = substitute(rng, chain_a, [20, 60, 100, 140])
    chain_c = substitute(rng, chain_b, [170, 210, 250, 290])
    rows += [doc("chain-a", text_of(chain_a)), doc("chain-b", text_of(chain_b)), doc("chain-c", text_of(chain_c))]
    expected["chain-b"] = expected["chain-c"] = ("minhash_duplicate", "chain-a")
    # Far pair: half the text shared (Jaccard ~0.33): both stay.
    shared = words(rng, 150)
    rows += [doc("far-a", text_of(shared + words(rng, 150))), doc("far-b", text_of(shared + words(rng, 150)))]
    # CJK near-copy, shingled by characters: 2 characters changed in 400.
    han = cjk(rng, 400)
    rows += [doc("zh-a", han, lang="zh"), doc("zh-b", han[:100] + "的" + han[101:300] + "了" + han[301:], lang="zh")]
    expected["zh-b"] = ("minhash_duplicate", "zh-a")
    # Boilerplate: one line in 8 documents (> 6) goes everywhere; one in 3 documents stays.
    for i in range(8):
        lines = [text_of(words(rng, 60)), BOILERPLATE, FOLLOW]
        if i < 3:
            lines.append(COOKIES)
        rows.append(doc(f"boiler-{i}", "\n".join(lines)))
    # A page of nothing but frequent lines is emptied: rejected, not kept blank.
    rows += [doc("menu-0", BOILERPLATE + "\n\n" + BOILERPLATE), doc("menu-1", FOLLOW)]
    expected["menu-0"] = expected["menu-1"] = ("line_dedup_empty", None)
    # Unique documents.
    rows += [doc(f"solo-{i}", text_of(words(rng, 200))) for i in range(5)]
    return rows, expected


def test_known_structure(spark, tmp_path):
    rows, expected = known_corpus()
    assert jaccard(shingle_hashes(rows[7]["text"]), shingle_hashes(rows[9]["text"])) < 0.8  # chain ends apart
    config = load_config(None, [f"output={tmp_path}", "dedup.lines.max_occurrences=6"])
    stats = execute(spark, config, "dedup", [write(tmp_path / "in", rows, files=3)])

    rejected = {r["id"]: (r["drop_reason"], r["duplicate_of"])
                for r in spark.read.parquet(str(tmp_path / "rejected" / "dedup")).collect()}
    kept = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "dedup")).collect()}
    assert rejected == expected
    assert set(kept) | set(rejected) == {r["id"] for r in rows} and not set(kept) & set(rejected)
    assert stats["records_in"] == len(rows) == stats["kept"] + stats["rejected"]
    assert stats["rejected_by_reason"] == {"url_duplicate": 1, "exact_duplicate": 2, "minhash_duplicate": 4,
                                           "line_dedup_empty": 2}
    # Cluster columns: the kept document names its cluster and knows its size.
    assert kept["chain-a"]["dedup__minhash_cluster"] == "chain-a"
    assert kept["chain-a"]["dedup__minhash_cluster_size"] == 3
    assert kept["solo-0"]["dedup__minhash_cluster"] == "solo-0" and kept["solo-0"]["dedup__minhash_cluster_size"] == 1
    assert stats["minhash_cluster_sizes"] == {"2": 2, "3": 1}
    # Lines: the boilerplate is gone from all 8 pages, the 3-document line stays.
    for i in range(8):
        text = kept[f"boiler-{i}"]["text"]
        assert BOILERPLATE not in text and FOLLOW not in text and text.strip()
        assert (COOKIES in text) == (i < 3)
        assert kept[f"boiler-{i}"]["dedup__lines_removed"] == 2
    assert kept["solo-0"]["dedup__lines_removed"] == 0
    assert stats["lines_removed"] == {"lines": 8 * 2 + 2 + 1, "documents": 10}
    assert stats["duplicate_rate"]["lang"]["zh"] == {"documents": 2, "duplicates": 1, "rate": 0.5}
    assert not (tmp_path / "_checkpoints").exists()        # the stage's checkpoints went with it
    written = json.loads((tmp_path / "stats" / "dedup.json").read_text())
    assert written["minhash"]["bands"] * written["minhash"]["rows"] <= written["minhash"]["num_perm"]
    assert written["minhash"]["verified_pairs"] <= written["minhash"]["candidate_pairs"]


def _outcome(spark, output):
    rejected = spark.read.parquet(str(output / "rejected" / "dedup")).select("id", "drop_reason", "duplicate_of")
    kept = spark.read.parquet(str(output / "dedup")).select("id", "dedup__minhash_cluster")
    return sorted(map(tuple, rejected.collect())), sorted(map(tuple, kept.collect()))


def test_same_kept_set_across_partitionings_runs_and_verifications(spark, tmp_path):
    rows, _ = known_corpus()
    rng = random.Random(3)
    rng.shuffle(rows)
    outcomes = []
    # Run c verifies the former way (both texts on every pair) and cuts the components' lineage
    # every round: neither changes a decision.
    for files, run, extra in ((1, "a", []), (5, "b", []),
                              (3, "c", ["dedup.minhash.verify_by=text", "dedup.minhash.checkpoint_every=1"])):
        output = tmp_path / run
        config = load_config(None, [f"output={output}", "dedup.steps=[url,exact,minhash]",
                                    f"spark.shuffle_partitions={files + 1}", *extra])
        spark.conf.set("spark.sql.shuffle.partitions", str(files + 1))
        try:
            execute(spark, config, "dedup", [write(tmp_path / f"in-{run}", rows, files=files)])
        finally:
            spark.conf.set("spark.sql.shuffle.partitions", "2")
        outcomes.append(_outcome(spark, output))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert len(outcomes[0][0]) == 7


def test_quality_wins_over_recency_and_repeated_ids_are_rejected(spark, tmp_path):
    rng = random.Random(11)
    text = text_of(words(rng, 100))
    rows = [doc("low", text, fetched_at=T0 + DAY, quality__score=0.2), doc("high", text, quality__score=0.9),
            doc("none", text, fetched_at=T0 + 2 * DAY, quality__score=None)]
    rows.append(dict(rows[0]))  # the same record read twice
    config = load_config(None, [f"output={tmp_path}", "dedup.steps=[exact]"])
    stats = execute(spark, config, "dedup", [write(tmp_path / "in", rows, extra_fields=[pa.field("quality__score", pa.float64())])])
    rejected = sorted(map(tuple, spark.read.parquet(str(tmp_path / "rejected" / "dedup"))
                                      .select("id", "drop_reason", "duplicate_of").collect()))
    assert rejected == [("low", "duplicate_id", "low"), ("low", "exact_duplicate", "high"),
                        ("none", "exact_duplicate", "high")]
    assert [r["id"] for r in spark.read.parquet(str(tmp_path / "dedup")).collect()] == ["high"]
    assert stats["records_in"] == 4 and stats["kept"] == 1


def test_input_without_the_document_contract_is_refused(spark, tmp_path):
    path = tmp_path / "in"
    spark.createDataFrame([("a", "some text")], "id string, text string").write.parquet(str(path))
    with pytest.raises(InputError, match="lacks column"):
        execute(spark, load_config(None, [f"output={tmp_path}"]), "dedup", [str(path)])


def test_semantic_step_marks_edited_copies(spark, tmp_path):
    rng = random.Random(5)
    base = words(rng, 150)
    rows = [doc("sem-a", text_of(base)), doc("sem-b", text_of(substitute(rng, base, [70])), fetched_at=T0 + DAY),
            doc("sem-c", text_of(words(rng, 150))), doc("sem-d", "!!!")]
    config = load_config(None, [f"output={tmp_path}", "dedup.steps=[exact,semantic]"])
    stats = execute(spark, config, "dedup", [write(tmp_path / "in", rows)])
    rejected = {r["id"]: (r["drop_reason"], r["duplicate_of"])
                for r in spark.read.parquet(str(tmp_path / "rejected" / "dedup")).collect()}
    assert rejected == {"sem-a": ("semantic_duplicate", "sem-b")}  # sem-b is the more recent
    kept = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "dedup")).collect()}
    assert set(kept) == {"sem-b", "sem-c", "sem-d"}
    assert kept["sem-d"]["dedup__semantic_cluster"] is None        # no words: never clustered
    assert stats["rejected_by_reason"] == {"semantic_duplicate": 1}


def _exchanged_columns(frame) -> list[set[str]]:
    """The columns every shuffle (Exchange) of `frame`'s physical plan carries."""
    plan = frame._jdf.queryExecution().executedPlan()
    if plan.nodeName() == "AdaptiveSparkPlan":
        plan = plan.initialPlan()
    found, todo = [], [plan]
    while todo:
        node = todo.pop()
        if node.nodeName() == "Exchange":
            output = node.output()
            found.append({output.apply(i).name() for i in range(output.size())})
        children = node.children()
        todo += [children.apply(i) for i in range(children.size())]
    return found


def test_the_exact_step_after_url_dedup_shuffles_no_text(spark, tmp_path):
    from dedup.exact_spark import duplicates_by_key
    from dedup.keep_spark import keep_order
    from dedup.stage_spark import TEXT_KEY, _alive, narrow_keys

    rows, _ = known_corpus()
    docs = spark.read.parquet(write(tmp_path / "in", rows, files=2))
    order = keep_order(docs, None)
    narrow = narrow_keys(docs, None, ["url", "exact"])
    by_url = duplicates_by_key(narrow, F.col("url"), keep_order(docs, None, most_recent_first=True), "url_duplicate")
    exact = duplicates_by_key(_alive(narrow, [by_url]), F.col(TEXT_KEY), order, "exact_duplicate")
    # A corpus-sized anti-join is a shuffle join (this one would be broadcast): no broadcasts.
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        shuffles = _exchanged_columns(exact)
        assert sorted(map(tuple, exact.collect())) == [("exact-1", "exact_duplicate", "exact-2"),
                                                       ("exact-3", "exact_duplicate", "exact-2")]
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
    assert len(shuffles) >= 4               # the url window, the anti-join's two sides, the exact window
    assert any(TEXT_KEY in columns for columns in shuffles)   # the anti-join carries the hash...
    assert all("text" not in columns for columns in shuffles)  # ...never the text
