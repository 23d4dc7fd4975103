"""Semantic dedup in Spark: planted near-copies in a small corpus are found, point at the document
the keep policy prefers, and come out the same whatever the input partitioning."""
import itertools
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from dedup.keep_spark import keep_order
from dedup.semantic_spark import cluster_count, semantic_duplicates
from pipeline.config import SemanticDedupConfig

pytestmark = pytest.mark.spark

SCHEMA = "id string, text string, lang string, fetched_at timestamp"
CONFIG = SemanticDedupConfig(cluster_docs=10, max_iter=10, dim=256, eps=0.05, batch_size=8)
SEGMENTATION = {"zh": "chars", "default": "whitespace"}
VOCABULARY = ["".join(p) for p in itertools.product("bdfgklmnprstvz", "aeiou", "bdfgklmnprstvz", "aeiou")]
ZH = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，"
      "拥有众多的历史古迹和现代建筑。每年都有大量的游客来到这里参观故宫、长城和天坛等著名景点。")
T0 = datetime(2024, 1, 1)


def corpus():
    """40 documents: 6 groups of a base and two copies with one word changed (the base is the
    most recent), one pair whose copy is more recent than its base, one Chinese pair, 17
    unrelated documents and one without words. Returns (rows, expected duplicate_of)."""
    rng = np.random.default_rng(5)

    def text(n=120):
        return " ".join(rng.choice(VOCABULARY, n))

    def edit(base, position):
        tokens = base.split()
        tokens[position] = "changed"
        return " ".join(tokens)

    rows, expected = [], {}
    for g in range(6):
        base = text()
        rows.append((f"g{g}-base", base, "en", T0 + timedelta(days=10)))
        expected[f"g{g}-base"] = None
        for c, position in enumerate((20, 90), start=1):
            rows.append((f"g{g}-copy{c}", edit(base, position), "en", T0 + timedelta(days=c)))
            expected[f"g{g}-copy{c}"] = f"g{g}-base"
    base = text()
    rows += [("p-base", base, "en", T0), ("p-copy", edit(base, 60), "en", T0 + timedelta(days=3))]
    expected.update({"p-copy": None, "p-base": "p-copy"})           # the most recent one is kept
    rows += [("zh-base", ZH, "zh", T0 + timedelta(days=2)),
             ("zh-copy", ZH.replace("大量", "很多"), "zh", T0 + timedelta(days=1))]
    expected.update({"zh-base": None, "zh-copy": "zh-base"})
    for d in range(17):
        rows.append((f"d{d:02d}", text(int(rng.integers(40, 200))), "en", T0 + timedelta(days=d)))
        expected[f"d{d:02d}"] = None
    rows.append(("empty", " ... ", "en", T0 + timedelta(days=99)))  # no words, and the most recent
    expected["empty"] = None
    return rows, expected


def run(spark, rows, partitions, config=CONFIG):
    docs = spark.createDataFrame(rows, SCHEMA).repartition(partitions)
    frame = semantic_duplicates(docs, config, keep_order(docs, None), SEGMENTATION)
    result = {row["id"]: row.asDict() for row in frame.collect()}
    frame.unpersist()
    return result


@pytest.fixture(scope="module")
def results(spark):
    rows, expected = corpus()
    return {partitions: run(spark, rows, partitions) for partitions in (1, 5)}, expected


def test_planted_copies_point_at_the_preferred_document(results):
    by_partitions, expected = results
    found = by_partitions[5]
    assert len(found) == 40
    assert {doc: row["duplicate_of"] for doc, row in found.items()} == expected
    for doc, target in expected.items():
        row = found[doc]
        if target is not None:
            assert row["semantic_similarity"] > 0.95                    # measured: ~0.97 to 0.99
            assert row["semantic_cluster"] == found[target]["semantic_cluster"]
        elif row["semantic_similarity"] is not None:
            assert row["semantic_similarity"] < 0.5                     # unrelated: measured < 0.2


def test_clusters_and_the_document_without_words(results):
    found = results[0][5]
    assert cluster_count(39, CONFIG.cluster_docs) == 4
    clusters = {row["semantic_cluster"] for doc, row in found.items() if doc != "empty"}
    assert clusters <= set(range(4)) and len(clusters) >= 2
    assert found["empty"] == {"id": "empty", "semantic_cluster": None, "duplicate_of": None,
                              "semantic_similarity": None}
    # The first document of each cluster in keep order has nothing to compare with.
    firsts = [doc for doc, row in found.items() if row["semantic_similarity"] is None and doc != "empty"]
    assert sorted(found[doc]["semantic_cluster"] for doc in firsts) == sorted(clusters)


def test_the_result_does_not_depend_on_the_partitioning(results):
    one, five = results[0][1], results[0][5]
    assert one.keys() == five.keys()
    for doc in one:
        a, b = one[doc], five[doc]
        assert (a["semantic_cluster"], a["duplicate_of"]) == (b["semantic_cluster"], b["duplicate_of"]), doc
        assert (a["semantic_similarity"] is None) == (b["semantic_similarity"] is None)
        if a["semantic_similarity"] is not None:
            assert a["semantic_similarity"] == pytest.approx(b["semantic_similarity"], abs=1e-6)


def test_one_document_and_one_without_words(spark):
    rows = [("a", "a single document about nothing much", "en", T0), ("b", "", "en", T0)]
    found = run(spark, rows, 2)
    assert found == {"a": {"id": "a", "semantic_cluster": 0, "duplicate_of": None, "semantic_similarity": None},
                     "b": {"id": "b", "semantic_cluster": None, "duplicate_of": None, "semantic_similarity": None}}


def test_no_documents(spark):
    docs = spark.createDataFrame([], SCHEMA)
    frame = semantic_duplicates(docs, CONFIG, keep_order(docs, None), SEGMENTATION)
    assert frame.count() == 0
    assert [(f.name, f.dataType.simpleString()) for f in frame.schema.fields] == [
        ("id", "string"), ("semantic_cluster", "int"), ("duplicate_of", "string"), ("semantic_similarity", "float")]


def _sizes(found):
    return Counter(row["semantic_cluster"] for row in found.values() if row["semantic_cluster"] is not None)


def test_a_deep_tree_caps_every_cluster_whatever_the_partitioning(spark):
    rows, expected = corpus()
    # k-means of k <= 2 fitted on 4 documents a centroid, cells over 8 documents split again:
    # a tree three or four levels deep over 39 documents.
    config = replace(CONFIG, cluster_docs=5, max_cluster_docs=8, max_clusters=2, sample_per_cluster=4)
    one = run(spark, rows, 1, config)
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        seven = run(spark, rows, 7, config)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    assert {d: (r["semantic_cluster"], r["duplicate_of"]) for d, r in one.items()} == \
        {d: (r["semantic_cluster"], r["duplicate_of"]) for d, r in seven.items()}
    sizes = _sizes(one)
    assert max(sizes.values()) <= 8 and len(sizes) >= 5
    assert set(sizes) == set(range(len(sizes)))                          # numbered 0, 1, ...
    found = {d: r["duplicate_of"] for d, r in one.items() if r["duplicate_of"] is not None}
    assert all(expected[d] == target for d, target in found.items())     # never a wrong pair
    planted = sum(target is not None for target in expected.values())
    assert len(found) >= planted // 2                                    # a split may part a few copies


def test_identical_documents_the_k_means_cannot_split_are_cut_by_hash(spark):
    same = " ".join(VOCABULARY[:80])
    rows = [(f"s{i:02d}", same, "en", T0 + timedelta(days=i)) for i in range(30)]
    rows += [(f"o{i}", " ".join(VOCABULARY[100 + 50 * i:150 + 50 * i]), "en", T0) for i in range(6)]
    config = replace(CONFIG, cluster_docs=5, max_cluster_docs=8, max_clusters=4)
    found = run(spark, rows, 3, config)
    sizes = _sizes(found)
    assert max(sizes.values()) <= 8
    # The identical documents span several clusters; in each, all but the most recent one go.
    clusters = {found[f"s{i:02d}"]["semantic_cluster"] for i in range(30)}
    kept = [d for d in found if d.startswith("s") and found[d]["duplicate_of"] is None]
    assert len(clusters) >= 4 and len(kept) == len(clusters)
    assert all(found[f"o{i}"]["duplicate_of"] is None for i in range(6))


def test_bounded_k():
    assert cluster_count(10_000_000, 1000, 256) == 256 and cluster_count(3000, 1000, 256) == 3
    assert cluster_count(1, 1000, 256) == 1 and cluster_count(0, 1000, 256) == 0
