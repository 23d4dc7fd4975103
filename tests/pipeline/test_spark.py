from pipeline.spark import plan_file_groups


def test_file_groups_balance_sizes_and_keep_every_file():
    paths = [f"f{i}" for i in range(10)]
    sizes = [100, 1, 1, 1, 1, 1, 1, 1, 1, 90]
    groups = plan_file_groups(paths, sizes, parallelism=1)
    assert sorted(p for g in groups for p in g) == sorted(paths)
    assert len(groups) == 4
    assert ["f0"] in groups and ["f9"] in groups  # the two big files are not packed together
    assert plan_file_groups(paths[:2], sizes[:2], parallelism=8) == [["f0"], ["f1"]]
