from pipeline.spark import plan_file_groups


def test_file_groups_balance_sizes_and_keep_every_file():
    paths = [f"f{i:02d}" for i in range(40)]
    sizes = [1000, 900] + [10] * 38
    groups = plan_file_groups(paths, sizes, parallelism=1)
    assert sorted(p for g in groups for p in g) == sorted(paths)
    assert len(groups) == 12                              # enough tasks for dynamic balancing
    assert ["f00"] in groups and ["f01"] in groups        # the two big files are not packed together
    small_loads = sorted(len(g) for g in groups if g not in (["f00"], ["f01"]))
    assert small_loads[-1] - small_loads[0] <= 1           # small files spread evenly


def test_few_files_get_one_task_each():
    assert plan_file_groups(["a", "b"], [5, 5], parallelism=8) == [["a"], ["b"]]
