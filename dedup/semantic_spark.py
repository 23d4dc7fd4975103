"""Semantic dedup in Spark (SemDeDup, Abbas et al. 2023): embed every document, cluster the
embeddings with k-means, and inside each cluster mark a document as a duplicate of the most
similar more-preferred one when their cosine similarity exceeds 1 - eps.

k-means makes the pairwise step affordable: a cluster of m documents costs m^2 / 2 similarities,
so k = ceil(n / cluster_docs) keeps the total near n * cluster_docs instead of n^2. A pair split
across two clusters is never compared (SemDeDup's approximation; near-copies sit close together,
so they rarely are). Only embeddings are shuffled, never text.

The embeddings are hash-partitioned by id and sorted within partitions before k-means, so its
seeded initialisation sees the same input whatever the partitioning of `docs`: the same config
gives the same clusters and the same duplicates from one run to the next.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.ml.clustering import KMeans
from pyspark.ml.functions import array_to_vector
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from dedup.embeddings import EMBEDDING_SCHEMA, embedding_rows
from dedup.semdedup import near_duplicates
from pipeline.config import SemanticDedupConfig
from pipeline.spark import map_batches

RESULT_SCHEMA = "id string, semantic_cluster int, duplicate_of string, semantic_similarity float"
_VECTOR, _RANK, _EMPTY = "_semantic_vector", "_semantic_rank", "_semantic_empty"


def cluster_count(documents: int, cluster_docs: int) -> int:
    """k-means k: about `cluster_docs` documents a cluster, at least 1, at most one a document."""
    return min(documents, max(1, math.ceil(documents / cluster_docs))) if documents else 0


def semantic_duplicates(docs: DataFrame, config: SemanticDedupConfig, order: list[Column],
                        segmentation: dict[str, str]) -> DataFrame:
    """One row per document of `docs` (columns id, text, lang and whatever `order` sorts on):
    id, semantic_cluster, duplicate_of (the id of the more-preferred document it duplicates;
    null when kept), semantic_similarity (its highest similarity to an earlier document of its
    cluster; null for a cluster's first).

    `order` is the keep policy (dedup.keep_spark.keep_order): the first document of a cluster
    in that order is the most preferred. Documents without words are never duplicates and are
    left out of k-means: their semantic_cluster is null. The result is persisted on disk; the
    caller unpersists it when done.
    """
    spark = docs.sparkSession
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    embedded = (map_batches(docs.select("id", "text", "lang"), embedding_rows, EMBEDDING_SCHEMA,
                            config=config, segmentation=segmentation)
                .repartition(partitions, "id").sortWithinPartitions("id")
                .persist(StorageLevel.DISK_ONLY))
    counts = embedded.agg(F.count(F.lit(1)).alias("all"),
                          F.count(F.when(~F.col("empty"), 1)).alias("present")).first()
    total, present = int(counts["all"]), int(counts["present"])
    k = cluster_count(present, config.cluster_docs)
    print(f"[dedup] semantic: {total} document(s), {total - present} without words, "
          f"k-means k={k}", flush=True)
    if total == 0:
        embedded.unpersist()
        return spark.createDataFrame([], RESULT_SCHEMA)

    vectors = embedded.where(~F.col("empty")).select("id", "embedding")
    if k > 1:
        # Spark's KMeans needs k >= 2; it caches its own copy of the vectors while it fits.
        features = vectors.select("id", "embedding", array_to_vector("embedding").alias(_VECTOR))
        model = KMeans(k=k, seed=config.seed, maxIter=config.max_iter, featuresCol=_VECTOR,
                       predictionCol="semantic_cluster").fit(features)
        clustered = model.transform(features).drop(_VECTOR)
    else:
        clustered = vectors.withColumn("semantic_cluster", F.lit(0))

    # The keep policy may read any column of docs except the text; ids are unique in docs.
    keys = docs.drop("text", "embedding", "semantic_cluster")
    rank = F.row_number().over(Window.partitionBy("semantic_cluster").orderBy(*order))
    ranked = (clustered.join(keys, "id")
                       .select("id", F.col("semantic_cluster").cast("int").alias("semantic_cluster"),
                               rank.alias(_RANK), "embedding"))
    found = ranked.groupBy("semantic_cluster").applyInPandas(_cluster_duplicates(config.eps), RESULT_SCHEMA)
    empties = embedded.where(F.col("empty")).select(
        "id", F.lit(None).cast("int").alias("semantic_cluster"), F.lit(None).cast("string").alias("duplicate_of"),
        F.lit(None).cast("float").alias("semantic_similarity"))
    result = found.unionByName(empties).persist(StorageLevel.DISK_ONLY)
    duplicates = result.agg(F.count("duplicate_of")).first()[0]    # materialises the result
    print(f"[dedup] semantic: {duplicates} duplicate(s) at cosine > {1 - config.eps:g}", flush=True)
    embedded.unpersist()
    return result


def _cluster_duplicates(eps: float):
    """The applyInPandas function: one cluster's rows (id, semantic_cluster, rank, embedding),
    sorted by rank, through near_duplicates."""

    def run(group: pd.DataFrame) -> pd.DataFrame:
        group = group.sort_values(_RANK, kind="stable").reset_index(drop=True)
        vectors = np.stack(group["embedding"].to_numpy()).astype(np.float32, copy=False)
        # Rows a block: the (block x cluster size) float32 similarity block stays under ~64 MiB.
        block = max(1, min(1024, (16 << 20) // max(len(vectors), 1)))
        is_duplicate, duplicate_of, similarity = near_duplicates(vectors, eps, block)
        ids = group["id"].to_numpy(dtype=object)
        targets = np.where(is_duplicate, ids[np.maximum(duplicate_of, 0)], None)
        return pd.DataFrame({
            "id": ids,
            "semantic_cluster": group["semantic_cluster"].astype("int32").to_numpy(),
            "duplicate_of": pd.Series(targets, dtype=object),
            # Nullable so NaN (nothing earlier to compare with) arrives in Spark as null.
            "semantic_similarity": pd.array(np.where(np.isnan(similarity), None, similarity), dtype="Float32"),
        })

    return run
