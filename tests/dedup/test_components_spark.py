"""Connected components by large-star / small-star, checked against known graphs and a union-find."""
import math
import random
import re
from pathlib import Path

import pytest

from dedup.components_spark import component_sizes, connected_components, reliable_checkpoints

pytestmark = pytest.mark.spark


def edge_frame(spark, pairs):
    return spark.createDataFrame(pairs, "src long, dst long")


def components_of(frame):
    return {row["node"]: row["component"] for row in frame.collect()}


def persisted_rdds(spark):
    return set(spark.sparkContext._jsc.getPersistentRDDs().keySet())


def rounds_logged(out):
    return max(int(n) for n in re.findall(r"\[dedup\] components round (\d+):", out))


def union_find_components(pairs):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is always the smallest id seen
    return {node: find(node) for node in list(parent)}


@pytest.mark.slow
def test_a_long_chain_ends_in_one_component_in_logarithmic_rounds(spark, capsys):
    n = 200
    # Alternate the direction of the pairs: the input is undirected.
    pairs = [(i, i + 1) if i % 2 else (i + 1, i) for i in range(n - 1)]
    result = components_of(connected_components(edge_frame(spark, pairs), checkpoint_every=2))
    assert result == {node: 0 for node in range(n)}
    # Label propagation needs n - 1 rounds on a path; large/small-star halves the path each round
    # or so (8 rounds that change edges, 1 that confirms, measured).
    assert rounds_logged(capsys.readouterr().out) <= math.ceil(math.log2(n)) + 2


def test_disjoint_stars_cliques_and_paths(spark):
    star = [(50, leaf) for leaf in range(51, 61)] + [(50, 7)]          # centre is not the minimum
    clique = [(a, b) for a in range(100, 106) for b in range(100, 106) if a < b]
    path = [(300, 200), (200, 250), (250, 201)]
    frame = connected_components(edge_frame(spark, star + clique + path))
    expected = {node: 7 for node in [50, 7, *range(51, 61)]}
    expected.update({node: 100 for node in range(100, 106)})
    expected.update({node: 200 for node in [200, 201, 250, 300]})
    assert components_of(frame) == expected
    sizes = {row["component"]: row["size"] for row in component_sizes(frame).collect()}
    assert sizes == {7: 12, 100: 6, 200: 4}


def test_duplicates_self_loops_and_null_endpoints(spark):
    pairs = [(1, 2), (2, 1), (1, 2), (2, 2), (3, 3), (3, 3), (5, 4), (4, 5), (4, None), (None, 9)]
    frame = connected_components(edge_frame(spark, pairs))
    # 3 appears only in self-loops and is its own component; 9 appears only beside a null.
    assert components_of(frame) == {1: 1, 2: 1, 3: 3, 4: 4, 5: 4}
    assert frame.count() == 5  # one row per node, whatever the duplicates
    assert [f.dataType.simpleString() for f in frame.schema.fields] == ["bigint", "bigint"]


def test_an_isolated_pair_and_no_cached_frames_left_behind(spark):
    before = persisted_rdds(spark)
    frame = connected_components(edge_frame(spark, [(9, 4)]), checkpoint_every=1)
    assert components_of(frame) == {4: 4, 9: 4}
    # Every round's frame was cached or checkpointed; only the (checkpointed) result is still held.
    result_rdd = frame._jdf.queryExecution().analyzed().rdd().id()
    assert persisted_rdds(spark) - before == {result_rdd}


@pytest.mark.slow
def test_same_result_whatever_the_input_partitioning(spark):
    rng = random.Random(7)
    pairs = [(rng.randrange(200), rng.randrange(200)) for _ in range(120)]
    frame = edge_frame(spark, pairs)
    one = sorted(connected_components(frame.repartition(1)).collect())
    seven = sorted(connected_components(frame.repartition(7)).collect())
    assert one == seven
    assert len(one) == len({node for pair in pairs for node in pair})


@pytest.mark.slow
def test_random_graph_matches_a_union_find(spark):
    rng = random.Random(2014)
    # Sparse (about 0.7 edges per node) so components range from pairs to a few hundred nodes;
    # ids are spread over int64 so nothing relies on them being small or dense.
    ids = rng.sample(range(1, 1 << 62), 1400)
    pairs = [(rng.choice(ids), rng.choice(ids)) for _ in range(1000)]
    pairs += pairs[:50] + [(a, a) for a in ids[:20]]  # duplicates and self-loops too
    expected = union_find_components(pairs)
    assert 50 < len(set(expected.values())) < len(expected)  # a non-trivial mix of components
    assert components_of(connected_components(edge_frame(spark, pairs))) == expected


def test_too_few_rounds_raise_and_release_their_frames(spark):
    before = persisted_rdds(spark)
    pairs = [(i, i + 1) for i in range(199)]
    with pytest.raises(RuntimeError, match="did not converge in max_rounds=3"):
        connected_components(edge_frame(spark, pairs), max_rounds=3, checkpoint_every=2)
    assert persisted_rdds(spark) - before == set()


def test_bad_arguments_are_refused_before_any_job(spark):
    frame = spark.createDataFrame([(1, 2)], "a long, b long")
    with pytest.raises(ValueError, match=r"lack column\(s\) \['dst', 'src'\]"):
        connected_components(frame)
    with pytest.raises(ValueError, match="max_rounds"):
        connected_components(edge_frame(spark, [(1, 2)]), max_rounds=0)


def test_reliable_checkpoints_are_files_kept_while_read_and_removed_at_the_end(spark, tmp_path):
    directory = tmp_path / "checkpoints"
    stale = directory / "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"       # what a killed driver left
    (stale / "rdd-1").mkdir(parents=True)
    (directory / "notes.txt").write_text("not a checkpoint: left alone")
    before_dir, before_rdds = spark.sparkContext.getCheckpointDir(), persisted_rdds(spark)
    pairs = [(i, i + 1) if i % 2 else (i + 1, i) for i in range(40)]
    with reliable_checkpoints(spark, str(directory)) as own:
        assert not stale.exists() and own.startswith("file:") and spark.sparkContext.getCheckpointDir() == own
        frame = connected_components(edge_frame(spark, pairs), checkpoint_every=1)
        assert components_of(frame) == {node: 0 for node in range(41)}
        # Every round was cut into files; each cut was deleted once the next one replaced it, so
        # only the result's checkpoint is left, and no cached frame.
        result_file = frame._jdf.queryExecution().analyzed().rdd().getCheckpointFile().get()
        assert [p.name for p in Path(own.removeprefix("file:")).iterdir()] == [result_file.rsplit("/", 1)[-1]]
        assert persisted_rdds(spark) - before_rdds == set()
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
    assert spark.sparkContext.getCheckpointDir() == before_dir
    (directory / "notes.txt").unlink()
    with reliable_checkpoints(spark, str(directory)):
        pass
    assert not directory.exists()                                      # nothing else there: removed


def test_reliable_checkpoints_are_removed_when_the_block_fails(spark, tmp_path):
    directory = tmp_path / "checkpoints"
    with pytest.raises(RuntimeError, match="did not converge"):
        with reliable_checkpoints(spark, str(directory)):
            connected_components(edge_frame(spark, [(i, i + 1) for i in range(60)]), max_rounds=2,
                                 checkpoint_every=1)
    assert not directory.exists()
