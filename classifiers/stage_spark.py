"""Classify: score documents with trained quality and domain classifiers, then apply thresholds.

    spark-submit jobs/classify.py --conf conf/x.yaml --output out/run1 \
        --set 'classify.models={quality: models/quality}' \
        --set 'classify.thresholds={quality: {default: {keep_top_percent: 30}, de: {min_score: 0.4}}}'

Reads <output>/dedup (or --input Parquet documents). Every model in classify.models scores every
document (loaded once per Python worker): `<name>__score` for a binary model, `<name>__<label>`
per label and `<name>__label` (the most probable) for a multi-class one. Thresholds (binary models) keep documents by absolute score
(min_score) or keep the top X% per language (keep_top_percent, from Spark's approximate
quantiles). Writes <output>/classify/ (kept, with scores), <output>/rejected/classify/
(drop_reason <name>_min_score) and <output>/stats/classify.json.
"""
from __future__ import annotations

import sys
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from classifiers.scoring import label_column, score_batches, score_columns
from jobs.stage_job import stage_main
from jobs.stage_stats import outcome_stats, write_stats
from pipeline.config import ConfigError, RunConfig
from pipeline.io import join
from pipeline.spark import map_batches, persist_on_disk, write_parquet

STAGE = "classify"


def run_classify(spark: SparkSession, config: RunConfig, input_paths: list[str] | None = None) -> dict:
    started = time.time()
    settings = config.classify
    if not settings.models:
        raise ConfigError("key 'classify.models': name at least one model directory, e.g. "
                          "--set 'classify.models={quality: models/quality}'")
    columns = {name: score_columns(name, directory, settings.positive_labels.get(name))
               for name, directory in settings.models.items()}
    docs = spark.read.parquet(*(input_paths or [join(config.output, "dedup")]))
    print(f"[classify] scoring with {', '.join(f'{n} ({d})' for n, d in settings.models.items())}", flush=True)
    schema = _arrow_schema(docs, columns)
    scored = persist_on_disk(map_batches(docs, score_batches, schema, models=settings.models, columns=columns))
    try:
        cutoffs = _cutoffs(scored, settings.thresholds, columns)
        decided = scored.withColumn("drop_reason", _reason(cutoffs))
        kept_path, rejected_path = join(config.output, STAGE), join(config.output, "rejected", STAGE)
        write_parquet(decided.where(F.col("drop_reason").isNull()).drop("drop_reason"), kept_path)
        write_parquet(decided.where(F.col("drop_reason").isNotNull()), rejected_path)
    finally:
        scored.unpersist()
    stats = {"stage": STAGE, **outcome_stats(spark, kept_path, rejected_path), "models": settings.models,
             "score_columns": {name: list(table) for name, table in columns.items()},
             "min_score_by_lang": cutoffs, "seconds": round(time.time() - started, 2),
             "outputs": {"kept": kept_path, "rejected": rejected_path}}
    write_stats(join(config.output, "stats", f"{STAGE}.json"), stats)
    return stats


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


def _arrow_schema(frame: DataFrame, columns: dict[str, dict[str, str]]):
    """The input's schema plus, per model in order, its float32 scores and its label column."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    base = to_arrow_schema(frame.schema)
    added = []
    for name, table in columns.items():
        added += [pa.field(c, pa.float32()) for c in table]
        if label_column(name, table):
            added.append(pa.field(label_column(name, table), pa.string()))
    clash = set(base.names) & {f.name for f in added}
    if clash:
        raise ConfigError(f"key 'classify.models': the input already has column(s) {sorted(clash)}; "
                          "rename the model or score the earlier stage's output")
    return pa.schema(list(base) + added)


def main(argv: list[str] | None = None) -> int:
    return stage_main(STAGE, __doc__, run_classify, argv,
                      input_help="Parquet documents (default: <output>/dedup, the dedup stage's output)")


if __name__ == "__main__":
    sys.exit(main())
