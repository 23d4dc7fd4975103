"""The batch side of scoring ahead inside a decision pass (pipeline/stage_spark.decide_batches).

A stage that decides in batches (the filter: scores in, `drop_reason` out) can let the later
stages that score its kept documents ahead (classify) do so in that same pass: each decided batch's
kept rows go through their scorers, and the rejected rows get nulls. That saves a Python round trip
of every kept document (Arrow out of the JVM and back): on `local[2]`, about 60 us per 4.8 KB
document and core, half of what fastText's own predict costs (bench/classify.py).
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BatchFunction = Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def decide_then_score(batches: Iterable[pa.RecordBatch], decide: BatchFunction,
                      scorers: Sequence[tuple[BatchFunction, Sequence[pa.Field]]]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: `decide`'s batches, each with every scorer's fields appended, computed on its
    rows whose drop_reason is null (null on the others). A scorer sees those rows' `text` only."""
    for batch in decide(batches):
        kept = pc.is_null(batch.column("drop_reason")).to_numpy(zero_copy_only=False)
        # Row i of the batch is row slot[i] of the kept rows, or null.
        slot = pa.array(np.cumsum(kept) - 1, pa.int64(), mask=~kept)
        for scorer, fields in scorers:
            if kept.any():
                texts = batch.select(["text"]).filter(pa.array(kept))     # what a scorer reads
                scored = pa.Table.from_batches(list(scorer(iter([texts])))).combine_chunks()
                columns = [pc.take(scored.column(field.name).chunk(0), slot) for field in fields]
            else:
                columns = [pa.nulls(batch.num_rows, field.type) for field in fields]
            for field, column in zip(fields, columns):
                batch = batch.append_column(field, column)
        yield batch
