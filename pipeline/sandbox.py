"""Hard per-item time limits: f(item) for every item of a batch, in a supervised child process.

A limit inside the process (SIGALRM, a watchdog thread) acts only between Python bytecodes: C
code that hangs (lxml, resiliparse, a backtracking `re` pattern, a model's predict) is never
interrupted. Here the work runs in a child process, which the supervisor (the caller) can kill:

- One child per Sandbox, forked lazily on the first batch by the process that owns the Sandbox
  (a Spark Python worker; Spark reuses them, so a cached Sandbox serves every later batch and
  task of that worker) and kept until an item hangs or the Sandbox is closed. Forked, it shares
  the parent's loaded code and models (copy on write) and sees what the parent registered or
  patched before the fork (a test-only filter, a monkeypatched extractor).
- Items travel in chunks, one message each way per chunk (`chunk_size` items, at most
  `chunk_weight` by `weigh`). Before each item the child writes its index and start time to
  shared memory; the supervisor sleeps in poll() until the chunk's answer or the deadline of the
  item in progress: one round trip per chunk, nothing per item.
- An item past its deadline: the supervisor SIGKILLs the child, records Failure("timeout") for
  that item, forks a new child and sends the rest of the chunk again, including the items
  before the hung one (their results died with the child). A hung item costs its limit, plus a
  fork (milliseconds), plus a second run of the items of its chunk before it.
- Batched functions (`batched=True`: fn(list of items) -> list of results, for code that is much
  faster on a batch: a classifier's predict, a filter chain): the child runs fn on a whole
  chunk under the chunk's limit `group_timeout_s` (a chunk of one item: `timeout_s`). A chunk
  past it is killed and run again one item at a time, fn([item]), each under `timeout_s`, until
  the item that hangs; the items after it, and those before it, go back to batched calls. There
  a hung item costs group_timeout_s + timeout_s, plus single calls for the items before it and
  a batched call for the others; fn must give an item the same result alone as in a batch.
- A child that dies on its own (a segfault in C code, the OOM killer) gives Failure("crash")
  for the item in progress. An exception raised by fn is raised again in the caller, with the
  child's traceback added as a note: what fn raises must be picklable, like what it returns.
- The child dies with its parent (PR_SET_PDEATHSIG on Linux, and EOF on its pipe), ignores
  SIGINT (the parent handles it), and leaves by os._exit, never returning into the parent's code.

Linux (fork) only. The parent must hold no lock that another of its threads could be holding
when it forks: Spark's Python workers run batch functions on their main thread, no others.
The child's memory is the parent's, copy on write: pages the child writes are duplicated.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import signal
import sys
import time
import traceback
import weakref
from dataclasses import dataclass
from multiprocessing import Pipe
from typing import Any, Callable, Sequence

_PR_SET_PDEATHSIG = 1
# Time beyond the limit that the child may take to receive a chunk and to send its results back.
_TRANSFER_GRACE_S = 60.0
_RECEIVING = -1.0                        # progress index while the child unpickles a chunk


@dataclass(frozen=True)
class Failure:
    """The result of an item that did not finish: kind `timeout` (killed at its deadline) or
    `crash` (the child died on its own, e.g. a segfault in C code)."""
    kind: str
    detail: str


class SandboxError(RuntimeError):
    """The supervision itself failed: the child could not take or answer a chunk."""


class Sandbox:
    """Runs `fn(item)` (or batched, fn(items)) for the items of `map(items)` in a child process,
    each item under a hard limit of `timeout_s` seconds; see the module docstring."""

    def __init__(self, fn: Callable[[Any], Any], timeout_s: float, *, chunk_size: int = 64,
                 weigh: Callable[[Any], int] | None = None, chunk_weight: int = 0,
                 batched: bool = False, group_timeout_s: float | None = None):
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.fn = fn
        self.timeout_s = float(timeout_s)
        self.group_timeout_s = float(group_timeout_s or timeout_s)
        self.batched = batched
        self.chunk_size = chunk_size
        self.weigh = weigh
        self.chunk_weight = chunk_weight
        self.restarts = 0                    # children forked after the first
        self.fallbacks = 0                   # batched chunks run again one item at a time
        self._started = False
        self._memory = mmap.mmap(-1, 16)     # shared with the child: [start time, item index]
        self._progress = memoryview(self._memory).cast("d")
        self._holder: list[_Child] = []      # the live child, if any (reached by the finalizer)
        weakref.finalize(self, _stop_all, self._holder)

    def map(self, items: Sequence[Any]) -> list[Any]:
        """A result per item, in order; Failure where an item hung or crashed the child."""
        results: list[Any] = [None] * len(items)
        for chunk in self._chunks(items):
            self._run(items, chunk, results)
        return results

    def close(self) -> None:
        """Kill the child now (a later map forks a new one)."""
        _stop_all(self._holder)

    @property
    def child_pid(self) -> int | None:
        return self._holder[0].pid if self._holder else None

    # ---------------------------------------------------------------- supervisor

    def _chunks(self, items: Sequence[Any]):
        chunk: list[int] = []
        weight = 0
        for i, item in enumerate(items):
            w = self.weigh(item) if self.weigh and self.chunk_weight else 0
            if chunk and (len(chunk) >= self.chunk_size or (self.chunk_weight and weight + w > self.chunk_weight)):
                yield chunk
                chunk, weight = [], 0
            chunk.append(i)
            weight += w
        if chunk:
            yield chunk

    def _run(self, items: Sequence[Any], chunk: list[int], results: list[Any]) -> None:
        if not self.batched or len(chunk) == 1:
            self._run_items(items, chunk, results)
        elif not self._run_group(items, chunk, results):
            # One at a time until the item that fails; the others go back to a batched call.
            rest = self._run_items(items, chunk, results, until_failure=True)
            if rest:
                self._run(items, rest, results)

    def _run_group(self, items: Sequence[Any], chunk: list[int], results: list[Any]) -> bool:
        """The chunk as one call of the batched fn; False when it must be run item by item."""
        outcome = self._exchange("group", [items[i] for i in chunk], 1, self.group_timeout_s)
        if outcome[0] == "ok":
            if len(outcome[1]) != len(chunk):
                raise SandboxError(f"the batched function returned {len(outcome[1])} results for "
                                   f"{len(chunk)} items")
            for i, value in zip(chunk, outcome[1]):
                results[i] = value
            return True
        if outcome[0] == "error":
            self._raise(outcome)
        self.fallbacks += 1                  # too slow, or crashed: find the item, one at a time
        return False

    def _run_items(self, items: Sequence[Any], pending: list[int], results: list[Any],
                   until_failure: bool = False) -> list[int]:
        """Item by item; with `until_failure`, stops at the first item that fails and returns
        the items still without a result (their results died with the child)."""
        pending = list(pending)
        lost = 0
        while pending:
            outcome = self._exchange("items", [items[i] for i in pending], len(pending), self.timeout_s)
            status = outcome[0]
            if status == "ok":
                for i, value in zip(pending, outcome[1]):
                    results[i] = value
                return []
            if status == "error":
                self._raise(outcome)
            if status in ("timeout", "crash"):
                _, index, detail = outcome
                results[pending.pop(index)] = Failure(status, detail)
                if until_failure:
                    return pending
                lost = 0
                continue
            # "lost": no item to blame (the child died between items, or was killed just as
            # the item it had been running finished): run the pending items again.
            lost += 1
            if lost > 3:
                raise SandboxError(f"the sandbox child failed {lost} times without running an item: "
                                   f"{outcome[1]}")
        return []

    def _exchange(self, mode: str, chunk: list[Any], count: int, limit: float) -> tuple:
        """Send a chunk, wait for its answer; ("ok", results), ("error", ...), ("timeout" |
        "crash", index, detail) or ("lost", detail). `count` units of progress, each under `limit`."""
        child = self._child()
        self._progress[0], self._progress[1] = time.monotonic(), _RECEIVING
        try:
            child.conn.send((mode, chunk))
        except (BrokenPipeError, ConnectionError, EOFError):   # died between two chunks
            return ("lost", f"child process died: {self._discard(child)}")
        return self._wait(child, count, limit)

    def _wait(self, child: "_Child", count: int, limit: float) -> tuple:
        """Until the child answers, or a unit of progress passes its deadline. Progress index
        -1: the child is receiving the chunk; `count`: it is sending the results. Neither is an
        item's time: they get the limit plus a grace period."""
        progress = self._progress
        while True:
            index, started = int(progress[1]), progress[0]
            allowed = limit if 0 <= index < count else limit + _TRANSFER_GRACE_S
            # Sleep until the deadline, but never past one `limit`: while the child receives or
            # sends, an item may start meanwhile, with its own deadline.
            remaining = min(started + allowed - time.monotonic(), max(limit, 0.05))
            if remaining > 0 and child.conn.poll(remaining):
                try:
                    return child.conn.recv()
                except (EOFError, OSError):
                    status = self._discard(child)
                    index = int(progress[1])
                    if 0 <= index < count:
                        return ("crash", index, f"child process died: {status}")
                    return ("lost", f"child process died: {status}")
            if (int(progress[1]), progress[0]) != (index, started):
                continue                                  # the next item started meanwhile
            if time.monotonic() - started < allowed:
                continue
            self._discard(child)                          # SIGKILL, reaped: progress is final
            if (int(progress[1]), progress[0]) != (index, started) or not 0 <= index < count:
                return ("lost", f"child process killed after {allowed:g}s between items")
            return ("timeout", index, f"> {limit:g}s")

    @staticmethod
    def _raise(outcome: tuple) -> None:
        _, _, error, trace = outcome
        error.add_note(f"raised in the sandbox child:\n{trace}")
        raise error

    def _child(self) -> "_Child":
        if self._holder:
            return self._holder[0]
        if self._started:
            self.restarts += 1
        self._started = True
        parent_conn, child_conn = Pipe(duplex=True)
        parent_pid = os.getpid()
        for stream in (sys.stdout, sys.stderr):   # unflushed output would be written twice
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        pid = os.fork()
        if pid == 0:                              # the child: never return from here
            code = 0
            try:
                parent_conn.close()
                _die_with_parent(parent_pid)
                _serve(child_conn, self._progress, self.fn, self.batched)
            except BaseException:                 # noqa: BLE001 - nothing may escape the child
                code = 1
            finally:
                os._exit(code)
        child_conn.close()
        child = _Child(pid, parent_conn)
        self._holder.append(child)
        return child

    def _discard(self, child: "_Child") -> str:
        """Kill and reap the child; how it ended."""
        if self._holder and self._holder[0] is child:
            self._holder.clear()
        return child.stop()


@dataclass
class _Child:
    pid: int
    conn: Any

    def stop(self) -> str:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:                 # reaped elsewhere (SIGCHLD ignored)
            status = None
        try:
            self.conn.close()
        except OSError:
            pass
        if status is None:
            return "unknown status"
        if os.WIFSIGNALED(status):
            return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit code {os.WEXITSTATUS(status)}"


def _stop_all(holder: list[_Child]) -> None:
    while holder:
        holder.pop().stop()


def _die_with_parent(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):             # not Linux: EOF on the pipe still ends the child
        pass
    if os.getppid() != parent_pid:                # the parent died before prctl took effect
        os._exit(0)


def _serve(conn, progress: memoryview, fn: Callable[[Any], Any], batched: bool) -> None:
    """The child's loop: a chunk in, its results (or the first exception) out. Per unit of
    work, the start time is written before the index: the supervisor reads the index first, so
    a time it reads is never older than the index's."""
    clock = time.monotonic
    while True:
        try:
            mode, items = conn.recv()
        except (EOFError, OSError):               # the parent closed the pipe or died
            return
        index = 0
        try:
            if mode == "group":
                progress[0], progress[1] = clock(), 0
                results = fn(items)
                count = 1
            else:
                results = []
                for index, item in enumerate(items):
                    progress[0] = clock()
                    progress[1] = index
                    results.append(fn([item])[0] if batched else fn(item))
                count = len(items)
            progress[0] = clock()
            progress[1] = count                   # sending
            reply = ("ok", results)
        except BaseException as err:              # noqa: BLE001 - reported to the caller
            reply = ("error", index, err, traceback.format_exc())
        try:
            conn.send(reply)
        except Exception as err:                  # noqa: BLE001 - an unpicklable result or error
            conn.send(("error", index, SandboxError(f"cannot send the result back: {err!r}"),
                       traceback.format_exc()))
