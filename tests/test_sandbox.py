"""pipeline/sandbox.py: hard per-item time limits that fire inside C code, with real hangs.

The hang is a catastrophically backtracking `re` pattern: `(a+)+$` on 'a' * 40 + 'b' runs for
days inside the C regex engine (2^n steps; at 30 characters it already takes over 30 s), and
neither SIGALRM nor any Python-level check interrupts it.
"""
import ctypes
import faulthandler
import gc
import os
import re
import signal
import sys
import time

import pytest

from pipeline.sandbox import Failure, Sandbox

LIMIT = 0.5
SLACK = 1.0            # fork, kill, and the rerun of a chunk's first items, on a loaded machine


def hang() -> None:
    re.match(r"(a+)+$", "a" * 40 + "b")


def work(item: str) -> str:
    if item == "hang":
        hang()
    elif item == "boom":
        raise ValueError("bad item")
    elif item == "segfault":
        ctypes.string_at(0)
    return item.upper()


def work_batch(items: list[str]) -> list[str]:
    return [work(item) for item in items]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:      # a zombie is dead too
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_results_in_order_and_one_child_reused_across_batches():
    sandbox = Sandbox(work, LIMIT, chunk_size=3)
    assert sandbox.child_pid is None                       # lazy: nothing forked yet
    assert sandbox.map(list("abcdefg")) == list("ABCDEFG")
    pid = sandbox.child_pid
    assert pid is not None and pid != os.getpid()
    assert sandbox.map(["x", "y"]) == ["X", "Y"] and sandbox.map([]) == []
    assert sandbox.child_pid == pid and sandbox.restarts == 0
    sandbox.close()
    assert not alive(pid)


def test_a_hang_in_c_code_is_killed_at_its_limit_and_the_batch_goes_on():
    sandbox = Sandbox(work, LIMIT, chunk_size=4)
    sandbox.map(["warm"])
    first = sandbox.child_pid
    started = time.monotonic()
    results = sandbox.map(["a", "b", "hang", "c", "d", "e"])
    elapsed = time.monotonic() - started
    assert results[:2] == ["A", "B"] and results[3:] == ["C", "D", "E"]
    assert results[2] == Failure("timeout", f"> {LIMIT:g}s")
    assert LIMIT <= elapsed < LIMIT + SLACK
    assert not alive(first) and sandbox.restarts == 1       # killed, replaced once
    assert sandbox.map(["f"]) == ["F"]


def test_several_hangs_first_and_last_of_their_chunks():
    sandbox = Sandbox(work, LIMIT, chunk_size=3)
    started = time.monotonic()
    results = sandbox.map(["hang", "a", "b", "c", "d", "hang", "hang", "e"])
    elapsed = time.monotonic() - started
    assert [r if isinstance(r, str) else r.kind for r in results] == \
        ["timeout", "A", "B", "C", "D", "timeout", "timeout", "E"]
    assert 3 * LIMIT <= elapsed < 3 * (LIMIT + SLACK)


def test_batched_function_falls_back_to_one_item_at_a_time():
    sandbox = Sandbox(work_batch, LIMIT, chunk_size=4, batched=True, group_timeout_s=0.3)
    assert sandbox.map(list("abcdef")) == list("ABCDEF") and sandbox.fallbacks == 0
    started = time.monotonic()
    results = sandbox.map(["a", "hang", "b", "c", "d", "e"])
    elapsed = time.monotonic() - started
    assert results == ["A", Failure("timeout", f"> {LIMIT:g}s"), "B", "C", "D", "E"]
    assert sandbox.fallbacks == 1                           # only the chunk that held the hang
    assert 0.3 + LIMIT <= elapsed < 0.3 + LIMIT + SLACK


def test_a_crash_in_c_code_fails_that_item_only():
    sandbox = Sandbox(work, LIMIT, chunk_size=8)
    enabled = faulthandler.is_enabled()
    faulthandler.disable()                                  # the child would print its traceback
    try:
        results = sandbox.map(["a", "segfault", "b"])
    finally:
        if enabled:
            faulthandler.enable(file=sys.__stderr__)
    assert results[0] == "A" and results[2] == "B"
    assert results[1].kind == "crash" and "SIGSEGV" in results[1].detail


def test_an_exception_is_raised_in_the_caller_and_the_child_serves_on():
    sandbox = Sandbox(work, LIMIT)
    sandbox.map(["a"])
    pid = sandbox.child_pid
    with pytest.raises(ValueError, match="bad item") as caught:
        sandbox.map(["a", "boom", "c"])
    assert any("raised in the sandbox child" in note for note in caught.value.__notes__)
    assert sandbox.map(["z"]) == ["Z"] and sandbox.child_pid == pid


def test_chunks_by_count_and_by_weight():
    sandbox = Sandbox(work, LIMIT, chunk_size=3, weigh=len, chunk_weight=10)
    items = ["aaaa", "bbbb", "cccc", "d", "e", "f", "g", "hhhhhhhhhhhh", "i"]
    assert list(sandbox._chunks(items)) == [[0, 1], [2, 3, 4], [5, 6], [7], [8]]


def test_the_child_runs_what_the_parent_had_when_it_forked(monkeypatch):
    calls = []
    sandbox = Sandbox(lambda item: (calls.append(item), len(calls))[1], LIMIT)
    calls.append("before")
    assert sandbox.map(["x", "y"]) == [2, 3]                # the child's copy of `calls`
    assert calls == ["before"]                              # the parent's is untouched


def test_the_child_dies_with_its_parent():
    read_end, write_end = os.pipe()
    parent = os.fork()
    if parent == 0:                                         # a parent that dies without cleanup
        try:
            os.close(read_end)
            sandbox = Sandbox(work, 30)
            sandbox.map(["a"])
            os.write(write_end, str(sandbox.child_pid).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child = int(os.read(read_end, 32).decode())
    os.close(read_end)
    os.waitpid(parent, 0)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_an_unused_sandbox_kills_its_child_when_collected():
    sandbox = Sandbox(work, LIMIT)
    sandbox.map(["a"])
    pid = sandbox.child_pid
    del sandbox
    gc.collect()
    assert not alive(pid)


def test_the_child_ignores_ctrl_c():
    sandbox = Sandbox(work, LIMIT)
    sandbox.map(["a"])
    os.kill(sandbox.child_pid, signal.SIGINT)
    assert sandbox.map(["b"]) == ["B"] and sandbox.restarts == 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        Sandbox(work, 0)
    with pytest.raises(ValueError):
        Sandbox(work, 1, chunk_size=0)
