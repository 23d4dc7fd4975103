"""A stdout wrapper that timestamps every line a stage prints, for the benchmarks that time a stage's
steps from its own progress lines (bench/minhash.py, bench/semantic.py)."""
from __future__ import annotations

import time


class LineClock:
    """stdout wrapper that timestamps every line (the stage's own '[dedup] ...' progress)."""

    def __init__(self, stream, start: float):
        self.stream, self.start, self.lines, self._buffer = stream, start, [], ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            elapsed = time.perf_counter() - self.start
            self.lines.append((elapsed, line))
            self.stream.write(f"    [{elapsed:7.1f}s] {line}\n")
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)
