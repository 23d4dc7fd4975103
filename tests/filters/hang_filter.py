"""A test-only filter whose scoring hangs inside C code on documents that hold MARKER.

The hang is a catastrophically backtracking `re` pattern: `(a+)+$` on 'a' * 40 + 'b' runs for
days inside the C regex engine (over 30 s from 30 characters on), where no Python signal
handler or check can interrupt it. Not registered on import (so that the real filter list stays
as it is for every other test): `registered()` adds it for the duration of a test.

In a Spark job, Python workers are other processes than the test's: `HangConfig` (a FilterConfig)
registers the filter in whichever process unpickles it, and the stage's function carries the
run's config to every worker. The classes here are pickled by value (cloudpickle), so a worker
needs no `tests` package on its path.
"""
from __future__ import annotations

import contextlib
import dataclasses
import re

import numpy as np

from filters.base import Batch, DocumentFilter, Scores
import filters.registry as registry
from pipeline.config import FilterConfig

MARKER = "CATASTROPHIC-BACKTRACKING"
NAME = "hang_test_v1"


class HangFilter(DocumentFilter):
    name = NAME
    prefix = "hang_test"

    def score(self, batch: Batch) -> Scores:
        for text in batch.texts:
            if MARKER in (text or ""):
                re.match(r"(a+)+$", "a" * 40 + "b")
        return {"chars": np.array([len(text or "") for text in batch.texts], dtype=np.float64)}


def ensure_registered() -> None:
    # Through the module: a by-value copy of this function must reach the worker's own registry.
    if registry._REGISTRY.get(NAME) is None:
        registry.register(HangFilter)


@contextlib.contextmanager
def registered():
    ensure_registered()
    try:
        yield HangFilter
    finally:
        registry._REGISTRY.pop(NAME, None)


@dataclasses.dataclass
class HangConfig(FilterConfig):
    """A FilterConfig that registers HangFilter where it is unpickled (a Spark worker)."""

    def __setstate__(self, state):
        self.__dict__.update(state)
        ensure_registered()
