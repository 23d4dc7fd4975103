"""The dedup stage's driver side: URL, exact, MinHash-LSH, line-level and semantic deduplication.

Reads the previous stage's documents. Steps run in the order url -> exact -> minhash -> lines ->
semantic (dedup.steps picks a subset). Inside a duplicate group the keep policy chooses: highest
quality score when there is one, else most recent, else smallest id (URL dedup puts the most
recent crawl first). Writes <output>/dedup/ (kept, with dedup__minhash_cluster and
dedup__minhash_cluster_size, dedup__lines_removed, ...) and <output>/rejected/dedup/ (drop_reason
and duplicate_of, the id of the kept document). Each step's Spark work is its own module here
(exact_spark, minhash_spark, lines_spark, semantic_spark); the command is jobs/dedup.py.
"""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from dedup.components_spark import reliable_checkpoints, remove_if_empty
from dedup.exact_spark import duplicates_by_key, normalised_text_hash
from dedup.keep_spark import keep_order, quality_column
from dedup.lines_spark import LINES_REMOVED, blank, remove_frequent_lines
from dedup.minhash_spark import minhash_clusters
from pipeline.config import RunConfig
from pipeline.io import InputError, join
from pipeline.spark import persist_on_disk
from pipeline.stage_spark import commit_outcome, read_documents

STAGE = "dedup"
REQUIRED = ("id", "text", "lang", "url", "fetched_at")
CLUSTER, CLUSTER_SIZE = "dedup__minhash_cluster", "dedup__minhash_cluster_size"
TEXT_KEY = "_text_key"
SEMANTIC_CLUSTER, SEMANTIC_SIMILARITY = "dedup__semantic_cluster", "dedup__semantic_similarity"


def run_dedup(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    docs = read_documents(spark, inputs)
    missing = [c for c in REQUIRED if c not in docs.columns]
    if missing:
        raise InputError(f"dedup input lacks column(s) {missing}; it needs the document contract "
                         f"({', '.join(REQUIRED)}), as the extract and filter stages write it")
    quality = quality_column(docs, config.dedup.quality_column)
    order = keep_order(docs, quality)
    policy = [str(key).removeprefix("Column<'").removesuffix("'>") for key in order]  # "fetched_at DESC NULLS LAST"
    info: dict = {"steps": config.dedup.steps, "keep_policy": policy}
    held: list[DataFrame] = []      # frames persisted along the way, released at the end
    # Everything the stage persists may be recomputed after a lost executor: cached frames from
    # their lineage, cut lineage (connected components) from checkpoint files. Nothing is released
    # before the last read of the output (the stats below).
    try:
        with reliable_checkpoints(spark, checkpoint_directory(config)):
            try:
                decided = _deduplicate(docs, config, quality, order, info, held)
                outcome = commit_outcome(spark, config, STAGE, decided, kept_drops=("drop_reason", "duplicate_of"),
                                         persist=False)
                info.update(_duplicate_stats(decided))
            finally:
                for frame in held:
                    frame.unpersist()
    finally:
        if not config.dedup.checkpoint_dir:
            remove_if_empty(spark, join(config.output, "_checkpoints"))
    return {**outcome, **info}


def checkpoint_directory(config: RunConfig) -> str:
    """dedup.checkpoint_dir, else <output>/_checkpoints/dedup: on the output's filesystem, which
    every executor reaches (HDFS, S3A... or a shared disk), and hidden from listings by its '_'."""
    return config.dedup.checkpoint_dir or join(config.output, "_checkpoints", STAGE)


def _deduplicate(docs: DataFrame, config: RunConfig, quality: str | None, order: list, info: dict,
                 held: list[DataFrame]) -> DataFrame:
    """Every input row once, with drop_reason and duplicate_of (null when kept); persisted."""
    steps = config.dedup.steps
    docs, repeated = _unique_ids(docs, order, held)
    removed: list[DataFrame] = []   # (id, drop_reason, duplicate_of) of each decision step
    narrow = narrow_keys(docs, quality, steps)
    if "url" in steps:
        by_recency = keep_order(docs, quality, most_recent_first=True)
        removed.append(_held(duplicates_by_key(_alive(narrow, removed), F.col("url"), by_recency,
                                               "url_duplicate"), held))
    if "exact" in steps:
        removed.append(_held(duplicates_by_key(_alive(narrow, removed), F.col(TEXT_KEY), order,
                                               "exact_duplicate"), held))
    clusters = None
    if "minhash" in steps:
        exclude = _union(removed).select("id") if removed else None
        run = minhash_clusters(docs, config.dedup.minhash, config.filter.segmentation, order, exclude)
        clusters = run.clusters
        held.append(clusters)
        removed.append(clusters.where(F.col("duplicate_of").isNotNull())
                               .select("id", F.lit("minhash_duplicate").alias("drop_reason"), "duplicate_of"))
        info["minhash"] = {"num_perm": run.num_perm, "bands": run.bands, "rows": run.rows,
                           "threshold": config.dedup.minhash.threshold,
                           "candidate_pairs": run.candidate_pairs, "verified_pairs": run.verified_pairs}

    decided = _decide(docs, removed, clusters)
    if repeated is not None:
        decided = decided.unionByName(repeated, allowMissingColumns=True)
    if "lines" in steps:
        decided = _line_dedup(_held(decided, held), config)
    if "semantic" in steps:
        decided = _semantic_dedup(_held(decided, held), config, order, held)
    return _held(decided, held, count=False)


def narrow_keys(docs: DataFrame, quality: str | None, steps: list[str]) -> DataFrame:
    """What the URL and exact steps read: ids, keys and the keep policy's columns, never the
    text. The text is hashed where it lies, so the anti-joins and windows shuffle no text."""
    return docs.select("id", "url", "fetched_at", *([quality] if quality else []),
                       *([normalised_text_hash().alias(TEXT_KEY)] if "exact" in steps else []))


def _unique_ids(docs: DataFrame, order: list, held: list[DataFrame]) -> tuple[DataFrame, DataFrame | None]:
    """Every later step joins on id, so a repeated id (the same record read twice) would
    multiply rows: keep one row per id and reject the others as duplicate_id."""
    repeated = docs.groupBy("id").count().where(F.col("count") > 1).limit(1).count()
    if not repeated:
        return docs, None
    print("[dedup] some document ids occur more than once; keeping one row per id", flush=True)
    rank = F.row_number().over(Window.partitionBy("id").orderBy(*order, F.sha2("text", 256)))
    ranked = _held(docs.withColumn("_rank", rank), held, count=False)
    unique = ranked.where(F.col("_rank") == 1).drop("_rank")
    extra = (ranked.where(F.col("_rank") > 1).drop("_rank")
                   .withColumn("drop_reason", F.lit("duplicate_id")).withColumn("duplicate_of", F.col("id")))
    return unique, extra


def _alive(narrow: DataFrame, removed: list[DataFrame]) -> DataFrame:
    """The documents no earlier step removed (narrowed to what keys and the keep policy read)."""
    return narrow.join(_union(removed).select("id"), "id", "left_anti") if removed else narrow


def _decide(docs: DataFrame, removed: list[DataFrame], clusters: DataFrame | None) -> DataFrame:
    """Every document once, with drop_reason and duplicate_of (null when kept)."""
    decided = docs
    if removed:
        decided = decided.join(_union(removed), "id", "left")
    else:
        decided = decided.withColumn("drop_reason", F.lit(None).cast("string")) \
                         .withColumn("duplicate_of", F.lit(None).cast("string"))
    if clusters is not None:
        decided = (decided.join(clusters.select("id", F.col("minhash_cluster").alias(CLUSTER),
                                                F.col("minhash_cluster_size").alias(CLUSTER_SIZE)), "id", "left")
                          .withColumn(CLUSTER, F.coalesce(CLUSTER, "id"))
                          .withColumn(CLUSTER_SIZE, F.coalesce(CLUSTER_SIZE, F.lit(1))))
    return decided


def _line_dedup(decided: DataFrame, config: RunConfig) -> DataFrame:
    alive = decided.where(F.col("drop_reason").isNull())
    count = alive.count()
    cut = remove_frequent_lines(alive, config.dedup.lines, count)
    cut = cut.withColumn("drop_reason", F.when(blank(F.col("text")), F.lit("line_dedup_empty")))
    gone = decided.where(F.col("drop_reason").isNotNull()).withColumn(LINES_REMOVED, F.lit(None).cast("int"))
    return cut.unionByName(gone)


def _semantic_dedup(decided: DataFrame, config: RunConfig, order: list, held: list[DataFrame]) -> DataFrame:
    from dedup.semantic_spark import semantic_duplicates  # pyspark.ml: imported only when asked for

    alive = decided.where(F.col("drop_reason").isNull())
    found = semantic_duplicates(alive, config.dedup.semantic, order, config.filter.segmentation)
    held.append(found)
    found = found.select("id", F.col("semantic_cluster").alias(SEMANTIC_CLUSTER),
                         F.col("semantic_similarity").alias(SEMANTIC_SIMILARITY),
                         F.col("duplicate_of").alias("_semantic_of"))
    marked = (alive.join(found, "id", "left")
                   .withColumn("drop_reason", F.when(F.col("_semantic_of").isNotNull(), F.lit("semantic_duplicate")))
                   .withColumn("duplicate_of", F.col("_semantic_of")).drop("_semantic_of"))
    return marked.unionByName(decided.where(F.col("drop_reason").isNotNull()), allowMissingColumns=True)


def _duplicate_stats(decided: DataFrame, top_domains: int = 20) -> dict:
    """Cluster-size histogram and duplicate rates per language and per domain (the domains
    with most duplicates): aggregates, a few rows each on the driver."""
    stats: dict = {}
    if CLUSTER_SIZE in decided.columns:
        rows = (decided.where(F.col("drop_reason").isNull() & (F.col(CLUSTER_SIZE) > 1))
                       .groupBy(CLUSTER_SIZE).count().orderBy(CLUSTER_SIZE).collect())
        stats["minhash_cluster_sizes"] = {str(r[CLUSTER_SIZE]): r["count"] for r in rows}
    if LINES_REMOVED in decided.columns:
        row = decided.agg(F.coalesce(F.sum(LINES_REMOVED), F.lit(0)).alias("lines"),
                          F.count(F.when(F.col(LINES_REMOVED) > 0, 1)).alias("docs")).first()
        stats["lines_removed"] = {"lines": row["lines"], "documents": row["docs"]}
    duplicate = F.col("drop_reason").isNotNull() & (F.col("drop_reason") != "line_dedup_empty")
    rates = {}
    for column in ("lang", "domain"):
        if column not in decided.columns:
            continue
        grouped = (decided.groupBy(column).agg(F.count(F.lit(1)).alias("documents"),
                                               F.count(F.when(duplicate, 1)).alias("duplicates")))
        if column == "domain":
            grouped = grouped.orderBy(F.desc("duplicates"), F.asc(column)).limit(top_domains)
        rates[column] = {(r[column] or "null"): {"documents": r["documents"], "duplicates": r["duplicates"],
                                                 "rate": round(r["duplicates"] / r["documents"], 4)}
                         for r in grouped.collect()}
    stats["duplicate_rate"] = rates
    return stats


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _held(frame: DataFrame, held: list[DataFrame], count: bool = True) -> DataFrame:
    """Persist `frame` on disk (computed once however many steps read it), to be released at
    the end; `count` computes it now, so a step's small output is not recomputed from its window."""
    frame = persist_on_disk(frame)
    held.append(frame)
    if count:
        frame.count()
    return frame
