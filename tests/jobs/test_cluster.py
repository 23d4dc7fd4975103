"""The whole pipeline on a real Spark standalone cluster (a master and two workers on 127.0.0.1),
submitted with spark-submit as a user would, against a local[*] run of the same input: the same
kept and rejected documents at every stage and the same shard bytes. Then faults: a worker killed
mid-job, and the driver of jobs/run.py killed mid-run and rerun."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cluster import StandaloneCluster, loopback_env
from tests.jobs.demo_models import CONF, train_demo_models

pytestmark = [pytest.mark.spark, pytest.mark.slow]
REPO = CONF.parents[1]
STAGES = ("extract", "filter", "dedup", "classify")
DEADLINE_S = 900


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> str:
    return train_demo_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def code_zip(tmp_path_factory) -> str:
    """The project zip that `make dist` ships to executors with --py-files."""
    path = tmp_path_factory.mktemp("dist") / "curate.zip"
    subprocess.run([sys.executable, "-m", "pipeline.package", "--out", str(path)], cwd=REPO, check=True,
                   capture_output=True)
    return str(path)


def run_args(output: Path, models: str) -> list[str]:
    return ["--conf", str(CONF), "--output", str(output), "--set", models]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, models) -> dict:
    """A local[*] run (conf/default.yaml's master) in its own driver process."""
    output = tmp_path_factory.mktemp("local")
    finished = subprocess.run([sys.executable, "-m", "jobs.run", *run_args(output, models)], cwd=REPO,
                              env=loopback_env(), capture_output=True, text=True, timeout=DEADLINE_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return outcome(output)


def outcome(output: Path) -> dict:
    """What a run decided: per stage, the kept (id, text digest) and rejected (id, reason) rows,
    the stats counts, and the sha256 of every shard file and manifest."""
    result: dict = {}
    for stage in STAGES:
        kept = pq.read_table(output / stage, columns=["id", "text"]).to_pylist()
        rejected = pq.read_table(output / "rejected" / stage, columns=["id", "drop_reason"]).to_pylist()
        stats = json.loads((output / "stats" / f"{stage}.json").read_text())
        result[stage] = {
            "kept": sorted((r["id"], hashlib.sha256(r["text"].encode()).hexdigest()) for r in kept),
            "rejected": sorted((r["id"], r["drop_reason"]) for r in rejected),
            "counts": (stats["records_in"], stats["kept"], stats["rejected_by_reason"]),
        }
    shards = output / "shards"
    result["shards"] = {str(p.relative_to(shards)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(shards.rglob("*")) if p.is_file()}
    return result


def test_the_reference_run_is_not_trivial(reference):
    assert len(reference["extract"]["kept"]) > 40 and reference["dedup"]["rejected"]
    assert any(name.endswith(".ds") for name in reference["shards"]) and "train/manifest.json" in reference["shards"]


def test_a_standalone_cluster_run_equals_the_local_run(tmp_path, models, code_zip, reference):
    output = tmp_path / "out"
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster:
        finished = subprocess.run(cluster.submit_command(["jobs/run.py", *run_args(output, models)], py_files=code_zip),
                                  cwd=REPO, env=loopback_env(), capture_output=True, text=True, timeout=DEADLINE_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "=== curate run summary ===" in finished.stdout
    assert outcome(output) == reference


def test_a_worker_killed_mid_job_changes_nothing(tmp_path, models, code_zip, reference):
    output = tmp_path / "out"
    log = tmp_path / "driver.log"
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster, open(log, "w") as sink:
        driver = subprocess.Popen(cluster.submit_command(["jobs/run.py", *run_args(output, models)],
                                                         py_files=code_zip),
                                  cwd=REPO, env=loopback_env(), stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_for(output / "stats" / "filter.json", driver)   # dedup (many shuffles) is running
            cluster.kill_worker(0)
            assert driver.wait(timeout=DEADLINE_S) == 0, log.read_text()[-3000:]
        finally:
            if driver.poll() is None:
                driver.kill()
        assert cluster.alive_workers() == 1
    assert "Lost executor" in log.read_text()      # Spark saw the loss and recomputed what it held
    assert outcome(output) == reference


def test_a_driver_killed_mid_run_resumes_to_the_same_output(tmp_path, models, reference):
    output = tmp_path / "out"
    command = [sys.executable, "-m", "jobs.run", *run_args(output, models)]
    with open(tmp_path / "killed.log", "w") as sink:
        driver = subprocess.Popen(command, cwd=REPO, env=loopback_env(), stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            wait_for(output / "stats" / "filter.json", driver)
        finally:
            os.killpg(driver.pid, signal.SIGKILL)   # the driver, its JVM and its Python workers
            driver.wait(timeout=60)
    assert not (output / "stats" / "tokenize.json").exists()

    rerun = subprocess.run(command, cwd=REPO, env=loopback_env(), capture_output=True, text=True,
                           timeout=DEADLINE_S)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "[extract] complete with the same config" in rerun.stdout
    assert "[tokenize] complete" not in rerun.stdout
    assert outcome(output) == reference
    assert not [p.name for p in output.iterdir() if p.name.startswith("_staging")]


def wait_for(path: Path, process: subprocess.Popen, timeout: float = DEADLINE_S) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended ({process.returncode}) before {path} appeared")
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout}s")
        time.sleep(0.2)
