"""MinHash-LSH near-duplicate clusters in Spark: signatures -> band buckets -> candidate pairs ->
(optionally verified) -> connected components -> the keep policy.

Linear in the corpus: every document yields `bands` rows; a bucket yields its pairs while it is
small and a star (m - 1 pairs) once it is large, never m^2. Verification computes the exact
Jaccard similarity of each candidate pair and drops pairs under the threshold. A star only
verifies members against the bucket's centre, so in a large bucket two members similar to each
other but not to the centre are linked only if another band puts them in a smaller shared
bucket.

Only ids cross the network until verification, which then moves each document's text a bounded
number of times (once per verification partition holding one of its pairs), never once per pair.
Connected components cut their lineage with the session's checkpoints (reliable ones, in the
dedup stage: dedup.components_spark.reliable_checkpoints).
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from dedup.components_spark import connected_components
from dedup.lsh import BAND_SCHEMA, DOCUMENT_ROW, PAIR_ROW, PAIR_SCHEMA, band_rows, verified_groups, verified_pairs
from dedup.minhash import optimal_bands
from pipeline.config import MinHashConfig
from pipeline.spark import map_batches

VERIFY_PAIRS_PER_PARTITION = 20_000     # candidate pairs per verification partition, about
BROADCAST_NEED_BYTES = 64 << 20         # (node, partition) rows broadcast up to this size


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
        edges = _verify(candidates, nodes, config, segmentation, candidate_count).persist(StorageLevel.DISK_ONLY)
        verified_count = edges.count()
        print(f"[dedup] minhash: {verified_count} pair(s) at Jaccard >= {config.threshold}", flush=True)
    components = connected_components(edges.select("src", "dst"), max_rounds=config.max_rounds,
                                      checkpoint_every=config.checkpoint_every)
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


def _verify(candidates: DataFrame, nodes: DataFrame, config: MinHashConfig, segmentation: dict[str, str],
            candidate_count: int) -> DataFrame:
    """Candidate pairs at exact Jaccard >= threshold (src, dst, jaccard)."""
    if config.verify_by == "text":
        return _verify_text(candidates, nodes, config, segmentation)
    return _verify_grouped(candidates, nodes, config, segmentation, candidate_count)


def _verify_grouped(candidates: DataFrame, nodes: DataFrame, config: MinHashConfig,
                    segmentation: dict[str, str], candidate_count: int) -> DataFrame:
    """Pairs grouped by one side: pair (src, dst) goes to partition p = hash(dst) mod P, and each
    document's text goes once to every partition holding one of its pairs, at most P times
    however many pairs it is in (a bucket's centre or a boilerplate hub, once per partition rather
    than once per pair). Only ids are shuffled to find out which document goes where; the texts
    move in one shuffle, straight from where they were read. P grows with the pairs (about
    VERIFY_PAIRS_PER_PARTITION a partition), so a partition's shingle sets stay bounded.
    """
    spark = candidates.sparkSession
    count = max(int(spark.conf.get("spark.sql.shuffle.partitions")),
                -(-candidate_count // VERIFY_PAIRS_PER_PARTITION))
    part = F.pmod(F.hash("dst"), F.lit(count)).alias("part")
    pairs = candidates.select(part, "src", "dst")
    # (node, part) for every partition that needs the node's text: ids only.
    need = (pairs.select(F.col("src").alias("node"), "part")
                 .unionByName(pairs.select(F.col("dst").alias("node"), "part"))
                 .distinct())
    if 2 * candidate_count * 16 <= BROADCAST_NEED_BYTES:
        # The texts then stay where they were read until the one shuffle that groups them.
        need = F.broadcast(need)
    documents = (nodes.select("node", "text", "lang").join(need, "node")
                      .select(F.lit(DOCUMENT_ROW).cast("byte").alias("kind"), "part", F.col("node").alias("src"),
                              F.lit(None).cast("long").alias("dst"), "text", "lang"))
    rows = (documents.unionByName(pairs.select(F.lit(PAIR_ROW).cast("byte").alias("kind"), "part", "src", "dst",
                                               F.lit(None).cast("string").alias("text"),
                                               F.lit(None).cast("string").alias("lang")))
                     .repartition(count, "part")
                     .sortWithinPartitions("kind")          # a partition's documents before its pairs
                     .drop("part"))
    return map_batches(rows, verified_groups, PAIR_SCHEMA, config=config, segmentation=segmentation)


def _verify_text(candidates: DataFrame, nodes: DataFrame, config: MinHashConfig,
                 segmentation: dict[str, str]) -> DataFrame:
    """The former verification (dedup.minhash.verify_by 'text'), kept to measure against: both
    texts joined onto every pair, so a document's text is shuffled once per pair it is in."""
    # Only documents in some pair: a semi-join on their ids, which Spark broadcasts while they
    # are few, keeps the rest of the corpus's text out of the pair joins' shuffles.
    involved = candidates.select(F.explode(F.array("src", "dst")).alias("node")).distinct()
    side = nodes.select("node", "text", "lang").join(involved, "node", "left_semi")
    pairs = (candidates
             .join(side.withColumnsRenamed({"node": "src", "text": "src_text", "lang": "src_lang"}), "src")
             .join(side.withColumnsRenamed({"node": "dst", "text": "dst_text", "lang": "dst_lang"}), "dst")
             .select("src", "dst", "src_text", "src_lang", "dst_text", "dst_lang"))
    return map_batches(pairs, verified_pairs, PAIR_SCHEMA, config=config, segmentation=segmentation)
