"""MinHash-LSH near-duplicate clusters in Spark: signatures -> band buckets -> candidate pairs ->
(optionally verified) -> connected components -> the keep policy.

Linear in the corpus: every document yields `bands` rows; a bucket yields its pairs while it is
small and a star (m - 1 pairs) once it is large, never m^2. Verification computes the exact
Jaccard similarity of each candidate pair and drops pairs under the threshold. A star only
verifies members against the bucket's centre, so in a large bucket two members similar to each
other but not to the centre are linked only if another band puts them in a smaller shared
bucket.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from dedup.components_spark import connected_components
from dedup.lsh import BAND_SCHEMA, PAIR_SCHEMA, band_rows, verified_pairs
from dedup.minhash import optimal_bands
from pipeline.config import MinHashConfig
from pipeline.spark import map_batches


@dataclass
class MinHashRun:
    clusters: DataFrame     # id, minhash_cluster (the kept id), minhash_cluster_size, duplicate_of (null if kept)
    num_perm: int
    bands: int
    rows: int
    candidate_pairs: int
    verified_pairs: int | None


def node_id(column: str = "id") -> Column:
    """64-bit integer name of a document, for the integer-only components step. Two documents
    share one with probability ~n^2 / 2^65 (about 3% at a billion documents, and then they
    only land in one cluster, where the keep policy still picks one of them)."""
    return F.xxhash64(column)


def lsh_parameters(config: MinHashConfig) -> tuple[int, int, int]:
    """(num_perm, bands, rows): as configured, else datasketch's optimum for the threshold.

    With verification on, a false positive costs one exact Jaccard and is then dropped, while a
    false negative is a duplicate kept: the search weighs misses 9:1 (14 x 9 at 0.8 with 128
    permutations finds 97.5% of pairs at Jaccard 0.85 where the even 9 x 13 finds 69%).
    """
    if config.bands and config.rows:
        return config.num_perm, config.bands, config.rows
    if config.verify:
        return optimal_bands(config.threshold, config.num_perm, false_positive_weight=0.1, false_negative_weight=0.9)
    return optimal_bands(config.threshold, config.num_perm)


def minhash_clusters(docs: DataFrame, config: MinHashConfig, segmentation: dict[str, str],
                     order: list[Column], exclude: DataFrame | None = None) -> MinHashRun:
    """Near-duplicate clusters of `docs` (columns id, text, lang and those `order` sorts on),
    leaving out the ids in `exclude` (documents an earlier step removed).

    Only documents in clusters of two or more come back; the first of each cluster in `order`
    is kept and names the cluster. The result is persisted on disk. `exclude` is applied to
    the narrow band rows rather than to the documents, so no text is shuffled for it.
    """
    num_perm, bands, rows = lsh_parameters(config)
    nodes = docs.select("id", node_id().alias("node"), "text", "lang")
    buckets = map_batches(nodes.select("node", "text", "lang"), band_rows, BAND_SCHEMA,
                          config=config, bands=bands, rows=rows, segmentation=segmentation)
    if exclude is not None:
        buckets = buckets.join(exclude.select(node_id().alias("node")), "node", "left_anti")
    shared = _shared_buckets(buckets)
    candidates = _candidate_pairs(shared, config.pair_bucket_size if config.verify else 1).persist(
        StorageLevel.DISK_ONLY)
    candidate_count = candidates.count()
    shared.unpersist()
    print(f"[dedup] minhash: {num_perm} permutations, {bands} bands x {rows} rows, "
          f"{candidate_count} candidate pair(s)", flush=True)
    edges, verified_count = candidates, None
    if config.verify and candidate_count:
        edges = _verify(candidates, nodes, config, segmentation).persist(StorageLevel.DISK_ONLY)
        verified_count = edges.count()
        print(f"[dedup] minhash: {verified_count} pair(s) at Jaccard >= {config.threshold}", flush=True)
    components = connected_components(edges.select("src", "dst"), max_rounds=config.max_rounds)
    # Everything but the text, which is what `order` may read: the shuffle stays small.
    members = components.join(docs.drop("text").withColumn("node", node_id()), "node").drop("node")
    group = Window.partitionBy("component")
    kept = F.first("id").over(group.orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow))
    clusters = (members.select("id", kept.alias("minhash_cluster"),
                               F.count(F.lit(1)).over(group).cast("int").alias("minhash_cluster_size"))
                       .withColumn("duplicate_of", F.when(F.col("id") != F.col("minhash_cluster"),
                                                          F.col("minhash_cluster")))
                       .persist(StorageLevel.DISK_ONLY))
    clusters.count()
    candidates.unpersist()
    if edges is not candidates:
        edges.unpersist()
    return MinHashRun(clusters, num_perm, bands, rows, candidate_count, verified_count)


def _shared_buckets(buckets: DataFrame) -> DataFrame:
    """Band rows of buckets holding two documents or more, with the bucket's size and smallest
    node; persisted, since both kinds of pairs read it (a small fraction of all band rows: the
    signatures are computed once)."""
    bucket = Window.partitionBy("band", "key")
    return (buckets.select("band", "key", "node", F.count(F.lit(1)).over(bucket).alias("size"),
                           F.min("node").over(bucket).alias("centre"))
                   .where(F.col("size") > 1)
                   .persist(StorageLevel.MEMORY_AND_DISK))


def _candidate_pairs(sized: DataFrame, pair_bucket_size: int) -> DataFrame:
    """(src, dst) pairs, src > dst, from documents sharing a band bucket (`_shared_buckets`).

    A bucket of up to `pair_bucket_size` members yields all its pairs, so that verification
    sees the links of a chain A~B~C even when A and C are too far apart; a larger bucket (mass
    boilerplate) yields a star on its smallest member, m - 1 pairs. Work stays linear: at most
    pair_bucket_size / 2 pairs per band row. Without verification stars alone give the same
    components.
    """
    stars = (sized.where(F.col("size") > pair_bucket_size)
                  .select(F.col("node").alias("src"), F.col("centre").alias("dst"))
                  .where(F.col("src") != F.col("dst")))
    small = sized.where(F.col("size") <= pair_bucket_size).select("band", "key", "node")
    pairs = (small.alias("a").join(small.alias("b"), ["band", "key"])
                  .where(F.col("a.node") > F.col("b.node"))
                  .select(F.col("a.node").alias("src"), F.col("b.node").alias("dst")))
    return stars.unionByName(pairs).distinct()


def _verify(candidates: DataFrame, nodes: DataFrame, config: MinHashConfig,
            segmentation: dict[str, str]) -> DataFrame:
    # Only documents in some pair: a semi-join on their ids, which Spark broadcasts while they
    # are few, keeps the rest of the corpus's text out of the pair joins' shuffles.
    involved = candidates.select(F.explode(F.array("src", "dst")).alias("node")).distinct()
    side = nodes.select("node", "text", "lang").join(involved, "node", "left_semi")
    pairs = (candidates
             .join(side.withColumnsRenamed({"node": "src", "text": "src_text", "lang": "src_lang"}), "src")
             .join(side.withColumnsRenamed({"node": "dst", "text": "dst_text", "lang": "dst_lang"}), "dst")
             .select("src", "dst", "src_text", "src_lang", "dst_text", "dst_lang"))
    return map_batches(pairs, verified_pairs, PAIR_SCHEMA, config=config, segmentation=segmentation)

