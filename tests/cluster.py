"""A real Spark standalone cluster on 127.0.0.1, started from the pyspark installation, for tests.

    with StandaloneCluster(tmp_path, workers=2) as cluster:
        cluster.submit(["jobs/run.py", "--conf", ...])     # spark-submit --master spark://127.0.0.1:<port>
        cluster.kill_worker(0)                              # SIGKILL to the worker and its executor

Every daemon runs in its own process group, so a worker is killed together with the executor JVM
and Python workers it started (as when a machine dies), and `stop()` leaves no process behind.
Everything binds to loopback; ports are picked free at start.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyspark

LOOPBACK = "127.0.0.1"
SPARK_HOME = Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def loopback_env(**extra: str) -> dict[str, str]:
    """The environment of every daemon and driver: loopback only, this interpreter for Python."""
    env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP=LOOPBACK, PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable, **extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYSPARK_GATEWAY_PORT", None)
    return env


class StandaloneCluster:
    def __init__(self, directory: Path, workers: int = 2, cores: int = 1, memory: str = "2g"):
        self.directory = Path(directory)
        self.count, self.cores, self.memory = workers, cores, memory
        self.port, self.ui_port = free_port(), free_port()
        self.master: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"spark://{LOOPBACK}:{self.port}"

    def __enter__(self) -> "StandaloneCluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 120) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.master = self._daemon("master", "org.apache.spark.deploy.master.Master", "--host", LOOPBACK,
                                   "--port", str(self.port), "--webui-port", str(self.ui_port))
        for i in range(self.count):
            self.workers.append(self._daemon(
                f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", LOOPBACK,
                "--cores", str(self.cores), "--memory", self.memory, "--webui-port", str(free_port()),
                "--work-dir", str(self.directory / f"work{i}"), self.url))
        deadline = time.time() + timeout
        while self.alive_workers() < self.count:
            for process in [self.master, *self.workers]:
                if process.poll() is not None:
                    raise RuntimeError(f"a Spark daemon exited with {process.returncode}; see {self.directory}/*.log")
            if time.time() > deadline:
                raise TimeoutError(f"{self.alive_workers()} of {self.count} workers registered in {timeout}s")
            time.sleep(0.5)

    def alive_workers(self) -> int:
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{self.ui_port}/json/", timeout=2) as reply:
                return int(json.load(reply).get("aliveworkers", 0))
        except (OSError, ValueError):
            return 0

    def submit_command(self, script_and_args: list[str], *, py_files: str | None = None,
                       conf: dict[str, str] | None = None) -> list[str]:
        settings = {"spark.executor.memory": "1g", "spark.driver.host": LOOPBACK,
                    "spark.driver.bindAddress": LOOPBACK, **(conf or {})}
        command = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", self.url]
        if py_files:
            command += ["--py-files", py_files]
        for key, value in settings.items():
            command += ["--conf", f"{key}={value}"]
        return command + script_and_args

    def kill_worker(self, index: int) -> None:
        """The machine dies: the worker, its executor and their Python workers, at once."""
        _kill_group(self.workers[index])

    def stop(self) -> None:
        for process in [*self.workers, self.master]:
            if process is not None:
                _kill_group(process)

    def _daemon(self, name: str, main_class: str, *args: str) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "wb")
        env = loopback_env(SPARK_WORKER_DIR=str(self.directory / "work"), SPARK_LOG_DIR=str(self.directory))
        # spark-class execs java, so the PID is the daemon's JVM; its own session is its process group.
        return subprocess.Popen([str(SPARK_HOME / "bin" / "spark-class"), main_class, *args], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
