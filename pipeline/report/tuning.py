"""Batch functions behind the threshold section (thresholds_spark.py runs them with mapInArrow): Arrow
batches of scored documents in, small partial aggregates out. No pyspark here.

Input batches (built by thresholds_spark.narrow): `_key` (document id), `lang`, `_h` (the seeded
sampling hash), `_x` (fails something outside the rules, e.g. a timeout), `_dropped` (the stage's
own decision) and `_s0.._sN` (score columns as float64, nulls kept as nulls).

The decision is filters/base.py's keep() in numpy, as the stage runs it: `min_x` fails below the
limit, `max_x` above it; a NaN score, a null score (unless the rule counts it as 0, as classify
does) and a null limit fail nothing.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.report.thresholds import Rule, shifted

WHAT_IF_SCHEMA = pa.schema([("r", pa.int32()), ("o", pa.bool_()), ("m", pa.int64()), ("count", pa.int64())])
NEAR_SCHEMA = pa.schema([("r", pa.int32()), ("side", pa.string()), ("d", pa.float64()), ("v", pa.float64()),
                         ("l", pa.float64()), ("_h", pa.int64()), ("_key", pa.string()), ("lang", pa.string())])


# --- columns of a batch -----------------------------------------------------------------------------

def scores(batch: pa.RecordBatch, index: int, missing_as_zero: bool = False) -> np.ndarray:
    column = batch.column(f"_s{index}")
    values = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    if column.null_count:
        nulls = pc.is_null(column).to_numpy(zero_copy_only=False)
        values[nulls] = 0.0 if missing_as_zero else np.nan
    return values


def flags(batch: pa.RecordBatch, name: str) -> np.ndarray:
    column = batch.column(name)
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=bool)


class Langs:
    """The batch's languages as codes, to turn a per-language table into a per-row array cheaply."""

    def __init__(self, batch: pa.RecordBatch):
        langs = np.array(["\0null" if l is None else l for l in batch.column("lang").to_pylist()], dtype=object)
        self.names, self.codes = np.unique(langs, return_inverse=True) if len(langs) else (np.array([]), np.array([], int))
        self.values = langs

    def limits(self, rule: Rule, k: int = 0) -> np.ndarray:
        table = np.array([_nan(shifted(rule.limit(None if n == "\0null" else n), k)) for n in self.names],
                         dtype=np.float64)
        return table[self.codes] if len(self.names) else np.empty(0)


def fails(rule: Rule, values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    active = ~np.isnan(limits) & ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        bad = values < limits if rule.op == "min" else values > limits
    return active & bad


def margins(rule: Rule, values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """How far inside the limit (>= 0 passes), NaN where the rule does not apply."""
    return values - limits if rule.op == "min" else limits - values


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


# --- decisions ----------------------------------------------------------------------------------------

def decide(batch: pa.RecordBatch, rules: Sequence[Rule], langs: Langs):
    """(values, limits, fails) per rule, and how many rules (timeouts included) each row fails."""
    values = [scores(batch, i, r.missing_as_zero) for i, r in enumerate(rules)]
    limits = [langs.limits(r) for r in rules]
    failed = [fails(r, v, l) for r, v, l in zip(rules, values, limits)]
    total = flags(batch, "_x").astype(np.int64)
    for f in failed:
        total = total + f
    return values, limits, failed, total


def what_if_batches(batches: Iterable[pa.RecordBatch], rules: Sequence[Rule],
                    plans: Sequence[Sequence[int]]) -> Iterator[pa.RecordBatch]:
    """(rule, the other rules pass, bits of the steps this rule passes at, documents) per batch;
    plans[i] lists rule i's steps, bit j standing for plans[i][j]."""
    for batch in batches:
        if not batch.num_rows:
            continue
        langs = Langs(batch)
        values, _, failed, total = decide(batch, rules, langs)
        rows = []
        for i, rule in enumerate(rules):
            others = (total - failed[i]) == 0
            bits = np.zeros(batch.num_rows, dtype=np.int64)
            for j, k in enumerate(plans[i]):
                bits |= (~fails(rule, values[i], langs.limits(rule, k))).astype(np.int64) << j
            keys, counts = np.unique(np.stack([others.astype(np.int64), bits]), axis=1, return_counts=True)
            rows += [{"r": i, "o": bool(o), "m": int(m), "count": int(n)} for (o, m), n in zip(keys.T, counts)]
        yield pa.RecordBatch.from_pylist(rows, schema=WHAT_IF_SCHEMA)


def near_batches(batches: Iterable[pa.RecordBatch], rules: Sequence[Rule], per_rule: int) -> Iterator[pa.RecordBatch]:
    """Each batch's own `per_rule` nearest rows per (rule, side): kept documents by their margin
    (borderline_kept), documents failing this rule alone by how far they miss it (would_come_back);
    ties broken by the seeded hash, then the key. Spark ranks the union of these."""
    for batch in batches:
        if not batch.num_rows:
            continue
        langs = Langs(batch)
        values, limits, failed, total = decide(batch, rules, langs)
        dropped = flags(batch, "_dropped")
        h = batch.column("_h").to_numpy(zero_copy_only=False)
        keys = np.array(batch.column("_key").to_pylist(), dtype=object)
        rows = []
        for i, rule in enumerate(rules):
            margin = margins(rule, values[i], limits[i])
            applies = ~np.isnan(margin)
            for side, mask, distance in (("borderline_kept", ~dropped & applies, margin),
                                         ("would_come_back", (total == 1) & failed[i], -margin)):
                where = np.nonzero(mask)[0]
                if not len(where):
                    continue
                order = np.lexsort((keys[where].astype(str), h[where], distance[where]))[:per_rule]
                for j in where[order]:
                    rows.append({"r": i, "side": side, "d": float(distance[j]), "v": float(values[i][j]),
                                 "l": float(limits[i][j]), "_h": int(h[j]), "_key": keys[j],
                                 "lang": None if langs.values[j] == "\0null" else langs.values[j]})
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=NEAR_SCHEMA)
