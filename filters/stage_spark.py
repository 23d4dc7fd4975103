"""The filter stage's driver side: score every document, persist the scores, then decide.

Reads the previous stage's documents. Writes <output>/filter_scores/ (every document with its
score columns, persisted before any decision), <output>/filter/ (kept) and <output>/rejected/filter/
(drop_reason = <filter>_<rule>, or filter_timeout for a document past filter.timeout_s). With
filter.select_only=true it reuses filter_scores and applies the current thresholds only. The
per-batch work is filters/stage.py; nsfw_domains_v1's blocklists are a join
(filters/blocklist_spark.py), never loaded in a worker; the command is jobs/filter.py.
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from filters.blocklist_spark import blocklist_scores, worker_options
from filters.stage import TIMEOUT_COLUMN, build_chain, effective_thresholds, score_batches, select_batches
from filters.token_outlier import DEFAULT_BUCKETS, TokenOutlierFilter, load_reference, token_histogram
from pipeline import outputs
from pipeline.config import ConfigError, RunConfig
from pipeline.io import is_remote, join, read_text, write_text
from pipeline.spark import arrow_schema, map_batches, write_parquet
from pipeline.stage_spark import commit_outcome, decide_batches, read_documents

STAGE = "filter"
_MARKER = "_scoring_config.json"  # underscore: Spark and pyarrow skip it when reading the Parquet


def run_filter(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    scores_path = outputs.filter_scores(config.output)
    fingerprint = _scoring_fingerprint(config)
    if config.filter.select_only:
        _check_reusable(scores_path, fingerprint)
        print(f"[filter] select only: reusing scores in {scores_path}", flush=True)
    else:
        _score(spark, config, read_documents(spark, inputs), scores_path)
        write_text(join(scores_path, _MARKER), json.dumps({"fingerprint": fingerprint}))
    scored = spark.read.parquet(scores_path)
    value_thresholds = _percentile_thresholds(scored, config)
    decided, fused = decide_batches(spark, config, scored, select_batches,
                                    arrow_schema(scored, pa.field("drop_reason", pa.string())),
                                    config=config, value_thresholds=value_thresholds)
    # filter__timeout is 0 on every kept document: it stays in filter_scores and rejected/filter.
    outcome = commit_outcome(spark, config, STAGE, decided, kept_drops=("drop_reason", TIMEOUT_COLUMN), scored=fused)
    outcome["outputs"]["scores"] = scores_path
    return {**outcome, "filters": config.filter.filters, "thresholds": effective_thresholds(config.filter),
            "value_thresholds": value_thresholds}


def _score(spark: SparkSession, config: RunConfig, documents: DataFrame, scores_path: str) -> None:
    # nsfw_domains_v1's lists never reach a Python worker: the workers score it without them and
    # the join of filters/blocklist_spark.py writes its columns.
    extra = worker_options(config)
    if TokenOutlierFilter.name in config.filter.filters:
        extra[TokenOutlierFilter.name] = {"distribution": _corpus_distribution(spark, config, documents)}
    chain = build_chain(config.filter, extra)
    present = set(documents.columns)
    schema = arrow_schema(documents, *[f for f in chain.score_fields() if f.name not in present])
    print(f"[filter] scoring with {', '.join(config.filter.filters)}", flush=True)
    scored = map_batches(documents, score_batches, schema, config=config, extra_options=extra, output_schema=schema)
    with blocklist_scores(spark, config, documents, scored) as scored:
        write_parquet(scored, scores_path)


def _corpus_distribution(spark: SparkSession, config: RunConfig, documents: DataFrame) -> np.ndarray:
    """The corpus token histogram: a saved reference, or summed by Spark (nonzero bins only
    travel; the driver receives at most `buckets` rows, whatever the corpus size)."""
    options = config.filter.options.get(TokenOutlierFilter.name) or {}
    if options.get("reference"):
        return load_reference(options["reference"])
    buckets = int(options.get("buckets", DEFAULT_BUCKETS))
    segmentation = config.filter.segmentation
    sparse = pa.schema([pa.field("bucket", pa.int64()), pa.field("count", pa.float64())])

    def histogram(batches):
        for batch in batches:
            counts = token_histogram(batch.column("text").to_pylist(), batch.column("lang").to_pylist(),
                                     segmentation, buckets)
            nonzero = np.nonzero(counts)[0]
            yield pa.record_batch([pa.array(nonzero), pa.array(counts[nonzero])], schema=sparse)

    rows = (map_batches(documents.select("text", "lang"), histogram, sparse)
            .groupBy("bucket").agg(F.sum("count").alias("count")).collect())
    distribution = np.zeros(buckets, dtype=np.float64)
    for row in rows:
        distribution[row["bucket"]] = row["count"]
    path = join(outputs.stats_dir(config.output), "token_distribution.npy")
    if not is_remote(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, distribution)
        print(f"[filter] corpus token distribution ({int(distribution.sum())} tokens) saved to {path}", flush=True)
    return distribution


def _percentile_thresholds(scored: DataFrame, config: RunConfig) -> dict[str, dict[str, dict[str, float]]]:
    """`drop_top_percent` becomes a max_kl per language, from Spark's approximate quantiles.

    Per language, because the corpus distribution is dominated by the largest languages: every
    document of a small language is far from it, and one global cut would drop them all."""
    options = config.filter.options.get(TokenOutlierFilter.name) or {}
    percent = options.get("drop_top_percent")
    if TokenOutlierFilter.name not in config.filter.filters or percent is None:
        return {}
    if not 0 < float(percent) < 100:
        raise ConfigError(f"key 'filter.options.{TokenOutlierFilter.name}.drop_top_percent' must be in (0, 100)")
    column = f"{TokenOutlierFilter.prefix}__kl"
    cutoffs = (scored.where(F.col(column).isNotNull() & ~F.isnan(column))
                     .groupBy("lang").agg(F.percentile_approx(column, 1 - float(percent) / 100, 10_000).alias("cut"))
                     .collect())  # one row per language
    return {TokenOutlierFilter.name: {row["lang"] or "null": {"max_kl": row["cut"]} for row in cutoffs}}


def _scoring_fingerprint(config: RunConfig) -> str:
    """What determines the scores (not the thresholds): reruns with only new thresholds match it."""
    scoring = {"filters": config.filter.filters, "options": config.filter.options,
               "segmentation": config.filter.segmentation}
    return hashlib.sha256(json.dumps(scoring, sort_keys=True, default=str).encode()).hexdigest()


def _check_reusable(scores_path: str, fingerprint: str) -> None:
    marker = read_text(join(scores_path, _MARKER))
    if marker is None:
        raise ConfigError(f"filter.select_only: no persisted scores in {scores_path}; run the filter once without it")
    if json.loads(marker).get("fingerprint") != fingerprint:
        raise ConfigError("filter.select_only: the scores were computed with other filters, options or "
                          "segmentation; only thresholds may change. Rerun without select_only")
