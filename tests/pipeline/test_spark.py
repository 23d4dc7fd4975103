import os
import random

import pytest

from pipeline.spark import expand_inputs, plan_file_groups


def test_file_groups_balance_sizes_and_keep_every_file():
    paths = [f"f{i:02d}" for i in range(40)]
    sizes = [1000 << 20, 900 << 20] + [10 << 20] * 38
    groups = plan_file_groups(paths, sizes, parallelism=1)
    assert sorted(p for g in groups for p in g) == sorted(paths)
    assert len(groups) == 12                              # enough tasks for dynamic balancing
    assert ["f00"] in groups and ["f01"] in groups        # the two big files are not packed together
    small_loads = sorted(len(g) for g in groups if g not in (["f00"], ["f01"]))
    assert small_loads[-1] - small_loads[0] <= 1           # small files spread evenly


def test_few_files_get_one_task_each():
    assert plan_file_groups(["a", "b"], [5, 5], parallelism=8) == [["a"], ["b"]]


def test_a_small_corpus_gets_two_tasks_per_core_not_a_dozen():
    """Each Python task costs a fixed ~0.25 CPU s: 100 files of 100 KB fill 4 tasks on 2 cores, and
    the 12-a-core split starts only where each task still gets min_task_bytes."""
    assert len(plan_file_groups([f"f{i}" for i in range(100)], [100 << 10] * 100, parallelism=2)) == 4
    assert len(plan_file_groups([f"f{i}" for i in range(100)], [10 << 20] * 100, parallelism=2)) == 16
    assert len(plan_file_groups([f"f{i}" for i in range(400)], [10 << 20] * 400, parallelism=2)) == 24


def _quadratic_plan(paths, sizes, parallelism, target_bytes=256 << 20, min_task_bytes=64 << 20):
    """The planner as it was (a scan of every group per file): the heap must give the same groups."""
    total = sum(sizes)
    count = max(parallelism * 2, min(parallelism * 12, -(-total // min_task_bytes)), -(-total // target_bytes))
    count = max(1, min(len(paths), count))
    groups, loads = [[] for _ in range(count)], [0] * count
    for size, path in sorted(zip(sizes, paths), key=lambda pair: (-pair[0], pair[1])):
        lightest = min(range(count), key=lambda i: (loads[i], len(groups[i])))
        groups[lightest].append(path)
        loads[lightest] += max(size, 1)
    return [sorted(group) for group in groups if group]


@pytest.mark.parametrize("seed", range(5))
def test_the_heap_plans_what_the_scan_planned(seed):
    rng = random.Random(seed)
    paths = [f"s3a://b/{i:05d}.warc.gz" for i in range(rng.randint(1, 400))]
    sizes = [rng.choice([0, 10, 1 << 20, rng.randint(1, 2 << 30)]) for _ in paths]
    parallelism = rng.randint(1, 16)
    assert plan_file_groups(paths, sizes, parallelism) == _quadratic_plan(paths, sizes, parallelism)


def test_crawl_scale_plans_are_balanced():
    # 90,000 files: mostly a few MB, 5% of ~1 GB and a few of 6 GB, so small files share tasks.
    rng = random.Random(7)
    paths = [f"s3a://bucket/crawl/segments/{i // 100}/{i:06d}.jsonl.gz" for i in range(90_000)]
    sizes = [rng.choices([rng.randint(1, 5 << 20), rng.randint(900 << 20, 1200 << 20), 6 << 30],
                         weights=[94, 5, 1])[0] for _ in paths]
    groups = plan_file_groups(paths, sizes, parallelism=200)
    assert 10_000 < len(groups) < 90_000
    assert sorted(p for g in groups for p in g) == sorted(paths)
    size_of = dict(zip(paths, sizes))
    loads = [sum(max(size_of[p], 1) for p in g) for g in groups]
    mean = sum(loads) / len(loads)
    assert max(loads) <= max(max(sizes), 2 * mean)


def test_listing_returns_sizes_without_asking_per_file(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.jsonl").write_bytes(b"y" * 3)
    # Local patterns need no session: the sizes come from the walk itself.
    assert expand_inputs(None, [str(tmp_path)]) == [(str(tmp_path / "a.warc.gz"), 10),
                                                    (str(tmp_path / "sub" / "b.jsonl"), 3)]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port` (Linux /proc), as hex strings."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.spark
@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux /proc/net/tcp")
def test_a_local_session_listens_on_loopback_only(spark):
    loopback = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
    ui_port = int(spark.sparkContext.uiWebUrl.rsplit(":", 1)[1])
    driver_port = int(spark.conf.get("spark.driver.port"))
    for port in (ui_port, driver_port):
        addresses = _listening_addresses(port)
        assert addresses and addresses <= loopback, (port, addresses)


@pytest.mark.spark
def test_the_paths_frame_holds_one_group_per_task_without_python_tasks(spark):
    from pipeline.spark import paths_frame

    paths = [f"/data/f{i:03d}.warc.gz" for i in range(60)]
    frame = paths_frame(spark, paths, [100 + i for i in range(60)])
    groups = plan_file_groups(paths, [100 + i for i in range(60)], spark.sparkContext.defaultParallelism)
    per_partition = frame.rdd.glom().map(lambda rows: [row["paths"] for row in rows]).collect()
    assert per_partition == [[group] for group in groups]   # one task per group, in plan order
    # Built in the JVM: a frame made from a Python RDD runs a Python task per partition to unpickle
    # its rows before the extract task starts (seconds on a small run).
    lineage = frame._jdf.queryExecution().toRdd().toDebugString()
    assert "PythonRDD" not in lineage, lineage


@pytest.mark.spark
def test_outcome_stats_counts_both_outputs_in_one_job(spark, tmp_path):
    from pipeline.stage_spark import outcome_stats

    kept, rejected = str(tmp_path / "kept"), str(tmp_path / "rejected")
    spark.createDataFrame([("en", "abc"), ("en", "de"), (None, "xyz1"), ("fr", None)],
                          "lang string, text string").repartition(3).write.parquet(kept)
    spark.createDataFrame([("a", "x"), ("b", "y"), ("a", "z")],
                          "drop_reason string, text string").write.parquet(rejected)
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("outcome-stats-test", "outcome_stats")
    try:
        stats = outcome_stats(spark, kept, rejected)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert stats == {"records_in": 7, "kept": 4, "rejected": 3, "rejected_by_reason": {"a": 2, "b": 1},
                     "kept_chars": 9, "kept_by_lang": {"en": 2, "fr": 1, "null": 1}}
    jobs = tracker.getJobIdsForGroup("outcome-stats-test")
    # One collect (AQE may submit its shuffle map stages as jobs of their own: at most one per side).
    assert len(jobs) <= 3, jobs


@pytest.mark.spark
def test_a_stage_input_splits_into_three_tasks_per_core(spark, tmp_path):
    """36 MB of Parquet on local[2]: Spark's default split (one task per core, at most 128 MB each)
    gives 2 tasks; a Python-heavy stage wants enough to balance (pipeline.spark.SCAN_SPLITS_PER_CORE)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.spark import SCAN_SPLITS_PER_CORE

    rng = np.random.default_rng(0)
    for k in range(4):   # incompressible: the files weigh what they hold
        blobs = [rng.bytes(1 << 20) for _ in range(9)]
        pq.write_table(pa.table({"blob": pa.array(blobs, pa.binary())}), tmp_path / f"part-{k}.parquet",
                       row_group_size=1, compression="none")
    cores = spark.sparkContext.defaultParallelism
    assert spark.conf.get("spark.sql.files.minPartitionNum") == str(SCAN_SPLITS_PER_CORE * cores)
    assert spark.read.parquet(str(tmp_path)).rdd.getNumPartitions() >= SCAN_SPLITS_PER_CORE * cores
