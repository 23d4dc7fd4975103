"""The whole pipeline on a real Spark standalone cluster (a master and two workers on 127.0.0.1),
submitted with spark-submit as a user would, against a local[*] run of the same input: the same
kept and rejected documents at every stage and the same shard bytes. Then faults: a worker killed
mid-job (as dedup starts, inside the MinHash connected-components rounds, and while tokenize's
executors write shards), and the driver of jobs/run.py killed mid-run and rerun. Each kill is
timed from outside, by watching the driver's output or the files the run writes.

The input is the bundled sample plus the bad-input corpus (tests/badinput.py: corrupt gzip members,
lying Content-Length, binary payloads, lying charsets, a 50 MB page and JSONL line, empty records,
broken JSON lines), so every run also shows that bad input is counted at every stage. Only the
10,000-deep HTML case stays out: its outcome depends on a time limit, so two runs may differ."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.stages import DOCUMENT_STAGES
from tests.badinput import MAKERS, make_deep_nesting
from tests.cluster import StandaloneCluster, loopback_env
from tests.jobs.demo_models import CONF, SAMPLES, train_demo_models

pytestmark = [pytest.mark.spark, pytest.mark.slow]
REPO = CONF.parents[1]
# The document stages the config runs (an optional stage such as decontam writes nothing here).
STAGES = tuple(stage for stage in DOCUMENT_STAGES if stage in yaml.safe_load(CONF.read_text())["stages"])
DEADLINE_S = 900
SAMPLE = SAMPLES / "sample.warc.gz"
SHARD_TOKENS = 2000
SAMPLE_RECORDS = sum(json.loads((SAMPLES / "expected.json").read_text())["records"].values())


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> str:
    return train_demo_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, int]:
    """The input directory and how many records it holds."""
    directory = tmp_path_factory.mktemp("corpus")
    shutil.copy(SAMPLE, directory / SAMPLE.name)
    records = SAMPLE_RECORDS
    for make in MAKERS:
        if make is not make_deep_nesting:
            case = make(directory)
            records += len(case.good_urls) + sum(case.expected_rejections.values())
    return directory, records


@pytest.fixture(scope="module")
def code_zip(tmp_path_factory) -> str:
    """The project zip that `make dist` ships to executors with --py-files."""
    path = tmp_path_factory.mktemp("dist") / "curate.zip"
    subprocess.run([sys.executable, "-m", "pipeline.package", "--out", str(path)], cwd=REPO, check=True,
                   capture_output=True)
    return str(path)


def run_args(output: Path, models: str, corpus: tuple[Path, int]) -> list[str]:
    # Two shuffle partitions, one per core: test-sized data in fewer, larger tasks. Shards of about
    # 2,000 tokens: a dozen or so shard-writing tasks, so a kill can land among them.
    return ["--conf", str(CONF), "--input", str(corpus[0]), "--output", str(output), "--set", models,
            "--set", "spark.shuffle_partitions=2", "--set", f"tokenize.shard_tokens={SHARD_TOKENS}"]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, models, corpus) -> Path:
    """The output of a local[*] run (conf/default.yaml's master) in its own driver process."""
    output = tmp_path_factory.mktemp("local")
    finished = subprocess.run([sys.executable, "-m", "jobs.run", *run_args(output, models, corpus)], cwd=REPO,
                              env=loopback_env(), capture_output=True, text=True, timeout=DEADLINE_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return output


@pytest.fixture(scope="module")
def reference(reference_run) -> dict:
    return outcome(reference_run)


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


def test_every_record_is_accounted_for_at_every_stage(reference, reference_run, corpus):
    records = corpus[1]
    for stage in STAGES:
        records_in, kept, by_reason = reference[stage]["counts"]
        assert records_in == records == kept + sum(by_reason.values()), stage
        assert len(reference[stage]["kept"]) == kept and len(reference[stage]["rejected"]) == sum(by_reason.values())
        assert all(reason for _, reason in reference[stage]["rejected"]), stage   # every rejection says why
        records = kept
    tokenize = json.loads((reference_run / "stats" / "tokenize.json").read_text())
    assert tokenize["records_in"] == records == tokenize["kept"] + tokenize["rejected"]
    assert tokenize["splits"]["train"]["unique_documents"] + tokenize["splits"]["valid"]["unique_documents"] \
        == tokenize["kept"]
    extract_reasons = reference["extract"]["counts"][2]
    assert {"too_large", "malformed_record", "decode_error", "not_html"} <= set(extract_reasons)
    assert reference["dedup"]["rejected"] and "train/manifest.json" in reference["shards"]


def test_a_standalone_cluster_run_equals_the_local_run(tmp_path, models, corpus, code_zip, reference):
    output = tmp_path / "out"
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster:
        command = cluster.submit_command(["jobs/run.py", *run_args(output, models, corpus)], py_files=code_zip)
        finished = subprocess.run(command, cwd=REPO, env=loopback_env(), capture_output=True, text=True,
                                  timeout=DEADLINE_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "=== curate run summary ===" in finished.stdout
    assert outcome(output) == reference


def test_a_worker_killed_mid_job_changes_nothing(tmp_path, models, corpus, code_zip, reference):
    output = tmp_path / "out"
    log = tmp_path / "driver.log"
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster, open(log, "w") as sink:
        driver = subprocess.Popen(cluster.submit_command(["jobs/run.py", *run_args(output, models, corpus)],
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


def run_and_kill_a_worker(tmp_path: Path, models, corpus, code_zip, kill_when, extra: list[str] = ()) -> str:
    """Submit the run to a two-worker cluster, kill worker 0 once `kill_when(output, log)` holds,
    let the run finish on the other; returns the driver's log."""
    output = tmp_path / "out"
    log = tmp_path / "driver.log"
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster, open(log, "w") as sink:
        command = cluster.submit_command(["jobs/run.py", *run_args(output, models, corpus), *extra], py_files=code_zip)
        driver = subprocess.Popen(command, cwd=REPO, env=loopback_env(), stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: kill_when(output, log), driver)
            cluster.kill_worker(0)
            print(f"worker 0 killed; the driver's last line then: {log.read_text().strip().splitlines()[-1]!r}")
            assert driver.wait(timeout=DEADLINE_S) == 0, log.read_text()[-3000:]
        finally:
            if driver.poll() is None:
                driver.kill()
        assert cluster.alive_workers() == 1
    text = log.read_text()
    assert "Lost executor" in text      # Spark saw the loss and recomputed what it held
    return text


def test_a_worker_killed_inside_the_components_rounds_changes_nothing(tmp_path, models, corpus, code_zip,
                                                                      reference):
    """Every round is cut (checkpoint_every=1) and the kill comes as round 1 ends: round 2 and the
    clusters built on the components then read cuts whose data the dead executor held, which
    only reliable checkpoints (files) still have ('Checkpoint block not found' with local ones)."""
    killed_in_dedup = []

    def after_round_one(output: Path, log: Path) -> bool:
        if "[dedup] components round 1:" not in log.read_text():
            return False
        killed_in_dedup.append(not (output / "stats" / "dedup.json").exists())
        return True

    text = run_and_kill_a_worker(tmp_path, models, corpus, code_zip, after_round_one,
                                 ["--set", "dedup.minhash.checkpoint_every=1"])
    assert killed_in_dedup == [True]
    assert outcome(tmp_path / "out") == reference
    assert not (tmp_path / "out" / "_checkpoints").exists()          # removed when the stage ended
    assert "Checkpoint block not found" not in text


def test_a_worker_killed_while_shards_are_written_changes_nothing(tmp_path, models, corpus, code_zip, reference):
    """The kill comes as the first shard file appears in the staging directory: the shard tasks
    of the dead executor run again on the other one, and no torn or extra file reaches shards/."""
    killed_in_writes = []

    def first_shard_file(output: Path, log: Path) -> bool:
        staging = output / "_staging.shards"
        if not any(path.is_file() for split in ("train", "valid") for path in (staging / split).glob("*")):
            return False
        killed_in_writes.append(not (output / "shards").exists())
        return True

    run_and_kill_a_worker(tmp_path, models, corpus, code_zip, first_shard_file)
    assert killed_in_writes == [True]
    assert outcome(tmp_path / "out") == reference


def test_a_driver_killed_mid_run_resumes_to_the_same_output(tmp_path, models, corpus, reference):
    output = tmp_path / "out"
    command = [sys.executable, "-m", "jobs.run", *run_args(output, models, corpus)]
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


def wait_until(condition, process: subprocess.Popen, timeout: float = DEADLINE_S) -> None:
    """Poll `condition()` every 20 ms (a kill point is a short window) while `process` runs."""
    deadline = time.time() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended ({process.returncode}) before the kill point")
        if time.time() > deadline:
            raise TimeoutError(f"no kill point in {timeout}s")
        time.sleep(0.02)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = DEADLINE_S) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended ({process.returncode}) before {path} appeared")
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout}s")
        time.sleep(0.2)
