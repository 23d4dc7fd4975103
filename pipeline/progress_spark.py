"""One progress line per stage: Spark tasks done/total, elapsed time and an ETA.

    with progress(spark, "filter"):          # pipeline.stage_spark.execute, around the stage's run
        ...

A daemon thread polls Spark's status tracker (`spark.sparkContext.statusTracker()`): every Spark
stage seen active since the pipeline stage began counts, its completed tasks and its task count.
On a terminal the line is redrawn in place (`\\r`) every second; otherwise (a log file, a pipe, a
cluster's driver log) a plain line is printed every 30 seconds, so a short stage prints none. The
ETA assumes the known tasks' average time holds, and Spark plans a job's stages only when the job
starts: the total grows as a stage's later jobs begin, so it is an estimate for the work in sight.

Off under `--verbose`, where Spark's own console progress bars are on (pipeline/spark.py).
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

TTY_INTERVAL_S = 1.0
PLAIN_INTERVAL_S = 30.0


class StageProgress:
    """Polls a tracker (pyspark's StatusTracker: getActiveStageIds, getStageInfo) and prints the line."""

    def __init__(self, tracker, name: str, stream: TextIO, *, tty: bool | None = None,
                 interval: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.tracker, self.name, self.stream, self.clock = tracker, name, stream, clock
        self.tty = _isatty(stream) if tty is None else tty
        self.interval = interval if interval is not None else (TTY_INTERVAL_S if self.tty else PLAIN_INTERVAL_S)
        self.started = clock()
        self.tasks: dict[int, tuple[int, int]] = {}       # Spark stage id -> (completed tasks, tasks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def poll(self) -> None:
        active = set(self.tracker.getActiveStageIds())
        for stage_id in active | set(self.tasks):
            info = self.tracker.getStageInfo(stage_id)
            if info is not None:
                self.tasks[stage_id] = (int(info.numCompletedTasks), int(info.numTasks))

    def line(self) -> str:
        done = sum(d for d, _ in self.tasks.values())
        total = sum(t for _, t in self.tasks.values())
        elapsed = self.clock() - self.started
        eta = "--"
        if 0 < done < total:
            eta = _duration(elapsed / done * (total - done))
        elif total and done >= total:
            eta = "0s"
        return f"[{self.name}] tasks {done}/{total}, elapsed {_duration(elapsed)}, eta {eta}"

    def tick(self) -> None:
        try:
            self.poll()
        except Exception:       # noqa: BLE001 - the tracker of a stopping context; progress is never fatal
            return
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K")
            self._drawn = True
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def start(self) -> "StageProgress":
        self._thread = threading.Thread(target=self._run, name=f"progress-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._drawn:                         # leave the terminal's line clean for what follows
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@contextmanager
def progress(spark, name: str, stream: TextIO | None = None) -> Iterator[StageProgress | None]:
    """Print `name`'s progress line while the block runs (nothing under --verbose)."""
    if (spark.conf.get("spark.ui.showConsoleProgress", "false") or "false").lower() == "true":
        yield None
        return
    printer = StageProgress(spark.sparkContext.statusTracker(), name, stream or sys.stderr).start()
    try:
        yield printer
    finally:
        printer.stop()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
