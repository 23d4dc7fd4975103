"""The progress line of pipeline/progress_spark.py: redrawn in place on a terminal, plain periodic
lines otherwise. A fake status tracker stands in for Spark's."""
import io
import os
import pty
import time
from types import SimpleNamespace

from pipeline.progress_spark import StageProgress, progress


class FakeTracker:
    def __init__(self):
        self.stages = {}          # id -> [completed, total]
        self.active = set()

    def getActiveStageIds(self):
        return sorted(self.active)

    def getStageInfo(self, stage_id):
        if stage_id not in self.stages:
            return None
        done, total = self.stages[stage_id]
        return SimpleNamespace(numCompletedTasks=done, numTasks=total)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_line_counts_tasks_of_every_stage_seen_with_an_eta():
    tracker, clock = FakeTracker(), Clock()
    printer = StageProgress(tracker, "filter", io.StringIO(), tty=False, clock=clock)
    tracker.stages, tracker.active = {3: [0, 10]}, {3}
    printer.poll()
    assert printer.line() == "[filter] tasks 0/10, elapsed 0s, eta --"
    clock.now += 10
    tracker.stages[3] = [10, 10]
    tracker.active = {4}
    tracker.stages[4] = [5, 20]
    printer.poll()                 # stage 3 finished between polls: its last counts come from getStageInfo
    assert printer.line() == "[filter] tasks 15/30, elapsed 10s, eta 10s"
    clock.now += 125
    tracker.stages[4] = [20, 20]
    tracker.active = set()
    printer.poll()
    assert printer.line() == "[filter] tasks 30/30, elapsed 2m15s, eta 0s"


def test_plain_lines_without_a_terminal():
    tracker, stream = FakeTracker(), io.StringIO()
    tracker.stages, tracker.active = {0: [1, 4]}, {0}
    printer = StageProgress(tracker, "dedup", stream, interval=0.05).start()
    time.sleep(0.4)
    printer.stop()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("[dedup] tasks 1/4, elapsed") for line in lines)
    assert "\r" not in stream.getvalue()
    assert StageProgress(tracker, "x", io.StringIO()).interval == 30.0   # every 30 s by default


def test_redrawn_in_place_on_a_pseudo_terminal():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            tracker = FakeTracker()
            tracker.stages, tracker.active = {7: [2, 8]}, {7}
            printer = StageProgress(tracker, "extract", terminal, interval=0.05)
            assert printer.tty and StageProgress(tracker, "x", terminal).interval == 1.0
            printer.start()
            time.sleep(0.4)
            printer.stop()
        out = b""
        while True:
            import select
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            out += os.read(master, 65536)
        text = out.decode()
        assert text.count("\r[extract] tasks 2/8, elapsed") >= 2
        assert "\n" not in text.replace("\r\n", "")            # no new lines: one line redrawn
        assert text.endswith("\r\x1b[K")                       # cleared for what follows
    finally:
        os.close(master)
        os.close(slave)


def test_off_when_spark_prints_its_own_bars():
    spark = SimpleNamespace(conf=SimpleNamespace(get=lambda key, default=None: "true"))
    with progress(spark, "filter") as printer:
        assert printer is None
    tracker = FakeTracker()
    spark = SimpleNamespace(conf=SimpleNamespace(get=lambda key, default=None: "false"),
                            sparkContext=SimpleNamespace(statusTracker=lambda: tracker))
    stream = io.StringIO()
    with progress(spark, "filter", stream) as printer:
        assert printer is not None and printer.interval == 30.0
