import os

import pytest

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
