"""What every stage's driver does around its own rule, written once.

`execute` runs one stage from the table (pipeline/stages.py) on its inputs (by default the output
of the stage before it) and writes its stats file last (that file, with its run key, marks the stage complete: pipeline/resume.py).
`commit_outcome` is the epilogue of a document stage: every input row once, with a null
drop_reason when kept, split into <out>/<stage>/ and <out>/rejected/<stage>/, and the counts
aggregated from what was written (exact under task retries, unlike accumulators). A later stage
that scores ahead (pipeline/stages.py: classify) adds its scores to the kept documents in that
write, and the metadata of those columns (in the Parquet footer's Spark schema: no side file, which
polars would refuse in a bare directory read, and nothing that can outlive the data) records what
determined them; `scores_written_ahead` tells that later stage whether its input holds its scores.
`decide_batches` runs a stage's batch decision, with the kept documents scored ahead in that same
pass where the later stage can. `read_documents` reads a stage's input documents.
"""
from __future__ import annotations

import json
import time
from contextvars import ContextVar
from functools import partial
from typing import Callable

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import outputs, stages, storage
from pipeline.config import RunConfig
from pipeline.io import InputError, write_text
from pipeline.progress_spark import progress
from pipeline.scoring_ahead import decide_then_score
from pipeline.spark import map_batches, parquet_problem, path_matches, persist_on_disk, write_parquet

# The later stages that score the running stage's kept documents as commit_outcome writes them: set
# by `execute` for the stage it runs (a context variable: the stage functions need not pass it on).
_SCORING_AHEAD: ContextVar[list] = ContextVar("scoring_ahead", default=[])


def execute(spark: SparkSession, config: RunConfig, name: str, inputs: list[str] | None = None,
            run_key: str | None = None, running: list[str] | None = None) -> dict:
    """Run stage `name` on `inputs` (None: its default, pipeline.stages.default_inputs); its stats.
    `running`: the stages of the whole run, when this is one (later stages may score ahead in it)."""
    stage = stages.get(name)
    started = time.time()
    if inputs is None:
        inputs = stages.default_inputs(config, name)
    if stage.resumable:
        # The stats file marks the stage complete: gone while it runs, so an interrupted rerun is never
        # taken for complete (on object stores a commit is a copy, not an atomic rename).
        storage.delete(outputs.stats_file(config.output, name), storage.storage_options(config.spark.conf))
    ahead = _SCORING_AHEAD.set(stages.scoring_ahead(config, name, running or []))
    try:
        with progress(spark, name):       # one line: tasks done/total, elapsed, ETA (pipeline/progress_spark.py)
            stats = {"stage": name, **stage.load()(spark, config, inputs)}
    finally:
        _SCORING_AHEAD.reset(ahead)
    stats["seconds"] = round(time.time() - started, 2)
    if run_key is not None:
        stats["run_key"] = run_key
    if stage.resumable:
        write_text(outputs.stats_file(config.output, name), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def decide_batches(spark: SparkSession, config: RunConfig, frame: DataFrame, decide: Callable,
                   schema: pa.Schema, /, **kwargs) -> tuple[DataFrame, dict[str, list[str]]]:
    """A stage's decision in batches: map_batches(frame, decide, schema, **kwargs), whose batches
    get `drop_reason`. The later stages that score this stage's kept documents ahead and can do it
    in batches (pipeline/stages.py: score_kept) score them in this same pass
    (pipeline/scoring_ahead.py). Returns the decided frame and {later stage: the columns it added
    there}, for commit_outcome."""
    scorers, fused = [], {}
    for later in _SCORING_AHEAD.get():
        if later.score_kept:
            fields, scorer = later.kept_scorer(config, schema)
            scorers.append((scorer, fields))
            fused[later.name] = [field.name for field in fields]
    if not scorers:
        return map_batches(frame, decide, schema, **kwargs), {}
    out = pa.schema(list(schema) + [field for _, fields in scorers for field in fields])
    return map_batches(frame, decide_then_score, out, decide=partial(decide, **kwargs), scorers=scorers), fused


def commit_outcome(spark: SparkSession, config: RunConfig, stage: str, decided: DataFrame, *,
                   kept_drops: tuple[str, ...] = ("drop_reason",), persist: bool = True,
                   scored: dict[str, list[str]] | None = None) -> dict:
    """Write the kept and the rejected rows of `decided`; the outcome counts and the two paths.

    `kept_drops` are the decision columns the kept output does without; `persist` computes
    `decided` once for the two writes (off where the caller already holds what it reads).
    `scored`: the columns that later stages scoring ahead already added to `decided`
    (decide_batches); the others add theirs to the kept rows here."""
    kept_path, rejected_path = outputs.kept(config.output, stage), outputs.rejected(config.output, stage)
    ahead, scored = _SCORING_AHEAD.get(), scored or {}
    if persist:
        decided = persist_on_disk(decided)
    try:
        kept = decided.where(F.col("drop_reason").isNull()).drop(*kept_drops)
        for later in ahead:      # the kept documents only: what the later stage would score
            if later.name in scored:
                print(f"[{stage}] scored the kept documents for {later.name} as it decided", flush=True)
                added = scored[later.name]
            else:
                print(f"[{stage}] scoring the kept documents for {later.name} as they are written", flush=True)
                before = set(kept.columns)
                kept = later.add_scores(spark, config, kept)
                added = [c for c in kept.columns if c not in before]
            record = json.dumps({"written_by": stage, "identity": later.scores_identity(config)},
                                sort_keys=True, default=str)
            for column in added:
                kept = kept.withMetadata(column, {_scores_key(later.name): record})
        fused = [column for columns in scored.values() for column in columns]     # kept rows' only
        rejected = decided.where(F.col("drop_reason").isNotNull()).drop(*fused)
        write_parquet(kept, kept_path)
        write_parquet(rejected, rejected_path)
    finally:
        if persist:
            decided.unpersist()
    stats = {**outcome_stats(spark, kept_path, rejected_path), "outputs": {"kept": kept_path, "rejected": rejected_path}}
    if ahead:
        stats["scored_ahead"] = [later.name for later in ahead]
    return stats


def scores_written_ahead(spark: SparkSession, config: RunConfig, stage: str, inputs: list[str]) -> str | None:
    """The stage that wrote `stage`'s scores into every input, with what determines them now
    (models, their files, options): then `stage` only decides. None when any input lacks them."""
    expected = _canonical(stages.get(stage).scores_identity(config))
    writers = set()
    for record in _scores_records(spark, stage, inputs):
        if record is None or _canonical(record.get("identity")) != expected:
            return None
        writers.add(record.get("written_by"))
    return writers.pop() if len(writers) == 1 else None


def has_scores_from_ahead(spark: SparkSession, stage: str, inputs: list[str]) -> bool:
    """Whether some input holds `stage`'s scores written ahead, whatever determined them."""
    return any(record is not None for record in _scores_records(spark, stage, inputs))


def _scores_records(spark: SparkSession, stage: str, inputs: list[str]) -> list[dict | None]:
    """Per input, the record of `stage`'s scores written ahead into it (read from its schema, one
    footer per input), or None."""
    records = []
    for path in inputs:
        found = [field.metadata[_scores_key(stage)] for field in spark.read.parquet(path).schema
                 if _scores_key(stage) in (field.metadata or {})]
        records.append(json.loads(found[0]) if found else None)
    return records


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _scores_key(stage: str) -> str:
    return f"curate_scores_for_{stage}"


def outcome_stats(spark: SparkSession, kept_path: str, rejected_path: str) -> dict:
    """Records in, kept, rejected by reason, and the kept documents' languages and characters: both
    outputs aggregated in one action (a union of the two small aggregations) on the columns it reads,
    named (no schema inference): every Spark job has its fixed cost, a good part of a small stage."""
    # The columns read, named: Spark infers a Parquet schema with a job of its own (a footer read).
    kept = (spark.read.schema("lang string, text string").parquet(kept_path).groupBy(F.col("lang").alias("key"))
            .agg(F.count(F.lit(1)).alias("docs"), F.coalesce(F.sum(F.length("text")), F.lit(0)).alias("chars"))
            .select(F.lit(True).alias("kept"), "key", "docs", "chars"))
    rejected = (spark.read.schema("drop_reason string").parquet(rejected_path).groupBy(F.col("drop_reason").alias("key"))
                .agg(F.count(F.lit(1)).alias("docs"))
                .select(F.lit(False).alias("kept"), "key", "docs", F.lit(0).cast("long").alias("chars")))
    rows = kept.unionByName(rejected).collect()   # one row per language and per reason: small
    by_lang = dict(sorted(((row["key"] or "null"), row["docs"]) for row in rows if row["kept"]))
    by_reason = dict(sorted(((row["key"] or "null"), row["docs"]) for row in rows if not row["kept"]))
    return {
        "records_in": sum(by_lang.values()) + sum(by_reason.values()),
        "kept": sum(by_lang.values()),
        "rejected": sum(by_reason.values()),
        "rejected_by_reason": by_reason,
        "kept_chars": sum(row["chars"] for row in rows if row["kept"]),
        "kept_by_lang": by_lang,
    }


def read_documents(spark: SparkSession, inputs: list[str]) -> DataFrame:
    """The Parquet documents a stage reads; a missing input, or one that is not Parquet, is one line
    naming it, not a Java trace. (Outputs are committed whole, by rename: one that exists is complete.)"""
    for path in inputs:
        if not path_matches(spark, path):
            raise InputError(f"input not found: {path} (run the stage that writes it first, or give --input)")
        problem = parquet_problem(spark, path)
        if problem:
            raise InputError(f"input {path}: {problem}; a stage reads the Parquet documents an earlier "
                             f"stage wrote: give --input such a folder")
    return spark.read.parquet(*inputs)
