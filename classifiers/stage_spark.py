"""The classify stage's driver side: score documents with trained classifiers, then apply thresholds.

Reads the previous stage's documents. Every model in classify.models (a local directory or an
object-store URI) scores every document (classifiers/scoring.py, loaded once per Python worker): `<name>__score` for a binary model,
`<name>__<label>` per label and `<name>__label` (the most probable) for a multi-class one.
Scoring ahead (classify.score_ahead, on by default): when this run's classify reads the filter's
output, the models score the filter's kept documents in the filter's decision pass (`kept_scorer`,
run by pipeline/stage_spark.decide_batches; `add_scores` is the same as a pass of its own, for a
previous stage that does not decide in batches): one pass over the documents fewer, and the
filter's rejects are never scored. This stage then only decides, on the scores it finds
(`scored_in` in its stats says where they were computed).
Thresholds (binary models) keep documents by absolute score (min_score) or keep the top X% per
language (keep_top_percent, from Spark's approximate quantiles). Writes <output>/classify/ (kept,
with scores) and <output>/rejected/classify/ (drop_reason <name>_min_score). The command is
jobs/classify.py.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from classifiers.model_files import models_identity, with_storage_settings
from classifiers.scoring import TIMEOUT_COLUMN, TIMEOUT_REASON, label_column, score_batches, score_columns
from pipeline.config import ConfigError, RunConfig
from pipeline.storage import storage_options
from pipeline.spark import add_columns, persist_on_disk
from pipeline.stage_spark import commit_outcome, has_scores_from_ahead, read_documents, scores_written_ahead

STAGE = "classify"


def run_classify(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    settings = config.classify
    columns = _columns(config)
    docs = read_documents(spark, inputs)
    ahead = scores_written_ahead(spark, config, STAGE, inputs)
    if ahead:
        print(f"[classify] the scores were computed as the {ahead} stage wrote its documents: deciding only", flush=True)
        scored = docs
    else:
        stale = [c for c in _added_names(columns) if c in docs.columns]
        if stale and has_scores_from_ahead(spark, STAGE, inputs):
            print(f"[classify] the input's {', '.join(stale)} came from other models or options: scoring again", flush=True)
            docs = docs.drop(*stale)
        print(f"[classify] scoring with {', '.join(f'{n} ({d})' for n, d in settings.models.items())}", flush=True)
        scored = persist_on_disk(add_scores(spark, config, docs))
    try:
        cutoffs = _cutoffs(scored, settings.thresholds, columns)
        reason = F.when(F.col(TIMEOUT_COLUMN) > 0, F.lit(TIMEOUT_REASON)).otherwise(_reason(cutoffs))
        outcome = commit_outcome(spark, config, STAGE, scored.withColumn("drop_reason", reason),
                                 kept_drops=("drop_reason", TIMEOUT_COLUMN), persist=False)
    finally:
        if not ahead:
            scored.unpersist()
    return {**outcome, "models": settings.models, "min_score_by_lang": cutoffs,
            "scored_in": ahead or STAGE,
            "score_columns": {name: list(table) for name, table in columns.items()}}


def add_scores(spark: SparkSession, config: RunConfig, docs: DataFrame) -> DataFrame:
    """`docs` with every model's score (and label) columns and classify__timeout, computed on the
    executors from the text alone (only the text travels to Python): each model loads once per
    Python worker, a URI from a local copy fetched once per machine (classifiers/model_files.py),
    with the run's storage settings."""
    added, scorer = _scorer(config, docs.columns)
    return add_columns(docs, scorer, added)


def kept_scorer(config: RunConfig, schema: pa.Schema) -> tuple[list[pa.Field], Callable]:
    """add_scores as a batch function (batches with `text` in, the same with the score columns out),
    for the previous stage to run in its own decision pass (pipeline/stage_spark.decide_batches)."""
    return _scorer(config, schema.names)


def _scorer(config: RunConfig, present: list[str]) -> tuple[list[pa.Field], Callable]:
    """(the fields the models add, the batch function adding them) for an input with columns `present`."""
    settings = config.classify
    columns = _columns(config)
    added = _added_fields(columns)
    clash = set(present) & {f.name for f in added}
    if clash:
        raise ConfigError(f"key 'classify.models': the input already has column(s) {sorted(clash)}; "
                          "rename the model or score the earlier stage's output")
    return added, partial(with_storage_settings, apply=score_batches, options=storage_options(config.spark.conf),
                          models=settings.models, columns=columns, timeout_s=settings.timeout_s)


def scores_identity(config: RunConfig) -> dict:
    """What determines the scores, not the decisions: the models (their model.json: training
    data's sha256, files, normalisation), positive labels and the time limit. Thresholds are not
    in it, so re-tuning them never rescores."""
    settings = config.classify
    return {"models": settings.models, "model_files": models_identity(config),
            "positive_labels": settings.positive_labels, "timeout_s": settings.timeout_s}


def _columns(config: RunConfig) -> dict[str, dict[str, str]]:
    settings = config.classify
    if not settings.models:
        raise ConfigError("key 'classify.models': name at least one model directory, e.g. "
                          "--set 'classify.models={quality: models/quality}'")
    return {name: score_columns(name, directory, settings.positive_labels.get(name))
            for name, directory in settings.models.items()}


def _cutoffs(scored: DataFrame, thresholds: dict, columns: dict[str, dict[str, str]]) -> dict[str, dict[str, float]]:
    """{name: {lang or 'default': min_score}}, percentiles turned into scores per language."""
    cutoffs: dict[str, dict[str, float]] = {}
    for name, table in thresholds.items():
        if len(columns[name]) != 1:
            raise ConfigError(f"key 'classify.thresholds.{name}': thresholds apply to binary models only")
        column = next(iter(columns[name]))
        cutoffs[name] = {}
        percent_langs = {lang: rule["keep_top_percent"] for lang, rule in table.items() if "keep_top_percent" in rule}
        for lang, rule in table.items():
            if "min_score" in rule:
                cutoffs[name][lang] = float(rule["min_score"])
        if percent_langs:
            # One quantile per language present (a few rows on the driver); 'default' covers the
            # languages without their own rule, each cut at its own percentile.
            default = percent_langs.get("default")
            rows = (scored.groupBy("lang").agg(*[
                F.percentile_approx(column, 1 - p / 100, 10_000).alias(f"q{i}")
                for i, p in enumerate(sorted(set(percent_langs.values())))]).collect())
            levels = sorted(set(percent_langs.values()))
            for row in rows:
                lang = row["lang"] or "null"
                percent = percent_langs.get(lang, default if lang not in table else None)
                if percent is not None and row[f"q{levels.index(percent)}"] is not None:
                    cutoffs[name][lang] = float(row[f"q{levels.index(percent)}"])
            if default is not None:
                cutoffs[name].pop("default", None)
    return cutoffs


def _reason(cutoffs: dict[str, dict[str, float]]):
    """The first model whose cut the document misses names the drop reason."""
    reason = F.lit(None).cast("string")
    for name in reversed(list(cutoffs)):
        table = cutoffs[name]
        column = f"{name}__score"
        cut = F.lit(table.get("default"))
        for lang, value in table.items():
            if lang != "default":
                cut = F.when(F.col("lang") == lang, F.lit(value)).otherwise(cut)
        reason = F.when(cut.isNotNull() & (F.coalesce(F.col(column), F.lit(0.0)) < cut),
                        F.lit(f"{name}_min_score")).otherwise(reason)
    return reason


def _added_fields(columns: dict[str, dict[str, str]]) -> list[pa.Field]:
    """Per model in order, its float32 scores and its label column; then classify__timeout."""
    added = []
    for name, table in columns.items():
        added += [pa.field(c, pa.float32()) for c in table]
        if label_column(name, table):
            added.append(pa.field(label_column(name, table), pa.string()))
    added.append(pa.field(TIMEOUT_COLUMN, pa.float32()))   # 1: past classify.timeout_s (scores null)
    return added


def _added_names(columns: dict[str, dict[str, str]]) -> list[str]:
    return [field.name for field in _added_fields(columns)]
