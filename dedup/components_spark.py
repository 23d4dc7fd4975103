"""Connected components of a duplicate graph, by alternating large-star / small-star.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and
Beyond" (SoCC 2014). Near-duplicate detection yields pairs of document ids; one component is one
duplicate cluster, named by its smallest id. Everything is DataFrame joins, aggregates and
windows in the JVM: the driver sees one aggregate row per round, never an edge.

Edges are held oriented, `(src, dst)` with `dst < src`: a pointer from a node to a smaller
neighbour. The fixed point of the two operations is one star per component, every node pointing
at the component's minimum, so that minimum is read off as each node's `component`.

Lineage is cut by checkpoints. With a checkpoint directory on the session (the dedup stage sets
one on the output's filesystem: `reliable_checkpoints`), they are files that outlive any executor,
so an executor lost during or after the rounds costs a recomputation from the last cut, never the
job. Without one (unit tests, a notebook) they fall back to executor-local blocks
(localCheckpoint), which a lost executor takes with it.

    with reliable_checkpoints(spark, "<output>/_checkpoints/dedup"):
        comps = connected_components(pairs.select("src", "dst"))
        sizes = component_sizes(comps)
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

from pyspark.sql import DataFrame, SparkSession, functions as F
from pyspark.sql.window import Window


def connected_components(edges: DataFrame, max_rounds: int = 50, checkpoint_every: int = 5) -> DataFrame:
    """`(node, component)` for every node of `edges` (`src`, `dst`: int64 ids, undirected).

    `component` is the smallest id in the node's component. Duplicate edges and self-loops are
    allowed (a node seen only in a self-loop is its own component); rows with a null endpoint
    are not edges and are ignored. A round is one large-star then one small-star; the round that
    changes no edge ends the loop, and RuntimeError is raised when `max_rounds` rounds were not
    enough. The plan is cut (checkpoint) every `checkpoint_every` rounds, and the result is cut
    too, so it no longer depends on `edges`' lineage.

    Nothing a later plan reads is released: a round's cached frame may go (its lineage, back to
    the last cut, can recompute it), but a cut is kept until the next cut replaces it, since every
    frame in between reads it. The result's checkpoint stays for the caller (in the checkpoint
    directory, which `reliable_checkpoints` removes at its end).
    """
    if max_rounds < 1 or checkpoint_every < 1:
        raise ValueError(f"max_rounds ({max_rounds}) and checkpoint_every ({checkpoint_every}) must be >= 1")
    missing = {"src", "dst"} - set(edges.columns)
    if missing:
        raise ValueError(f"edges lack column(s) {sorted(missing)}; they have {edges.columns}")
    pairs = (edges.select(F.col("src").cast("long").alias("src"), F.col("dst").cast("long").alias("dst"))
                  .na.drop())
    nodes = pairs.select(F.explode(F.array("src", "dst")).alias("node")).distinct()
    oriented = pairs.where(F.col("src") != F.col("dst")).select(
        F.greatest("src", "dst").alias("src"), F.least("src", "dst").alias("dst"))
    current = oriented.distinct().persist()
    anchor: DataFrame | None = None     # the last cut: every frame computed since reads it

    try:
        for round_ in range(1, max_rounds + 1):
            # No repartition by node between rounds: with AQE on (Spark 4's default) a cached or
            # checkpointed frame reports unknown partitioning, so the next round shuffles anyway, and
            # a plain distinct() drops small-star's duplicates before its shuffle, not after.
            following = _small_star(_large_star(current)).distinct()
            # Caching stops each round recomputing all earlier ones; caching alone still lets the
            # logical plan grow by a few joins a round, which slows analysis, hence the periodic cut.
            cut = round_ % checkpoint_every == 0
            following = _cut(following) if cut else following.persist()
            changed, total = _difference(current, following)
            print(f"[dedup] components round {round_}: {changed} edge(s) changed, {total} edge(s)", flush=True)
            current.unpersist()             # the cache only; a cut's data stays while it is the anchor
            if cut:
                # `following` reads nothing before it any more: the previous cut can go.
                _release_cut(anchor)
                anchor = following
            current = following
            if changed == 0:
                # A round that changes nothing is at the fixed point, and the paper's convergence
                # proof leaves stars (one per component, on its minimum) as the only fixed point.
                break
        else:
            raise RuntimeError(
                f"connected components did not converge in max_rounds={max_rounds} rounds "
                f"({changed} edge(s) still changing in the last); the algorithm needs O(log^2 n) rounds "
                "for n nodes, so raise max_rounds or check the edges for a pathological input")

        # Converged: every non-minimum node has exactly one pointer, to its component's minimum.
        parent = current.groupBy("src").agg(F.min("dst").alias("component")).withColumnRenamed("src", "node")
        components = (nodes.join(parent, "node", "left")
                           .select("node", F.coalesce("component", "node").alias("component")))
        return _cut(components)
    finally:
        # On success the result is cut and reads none of these; on failure nothing reads them.
        current.unpersist()
        _release_cut(anchor)


def component_sizes(components: DataFrame) -> DataFrame:
    """`(component, size)`: how many nodes each component holds."""
    return components.groupBy("component").agg(F.count(F.lit(1)).alias("size"))


def _large_star(edges: DataFrame) -> DataFrame:
    """Hang every node's larger neighbours off the smallest of it and its neighbours.

    For the edge (v, u), u < v, this emits (v, m(u)) with m(u) = min(u, smaller neighbours of u):
    u's larger neighbours cannot lower m(u), so one min over u's own pointers gives it.
    """
    smallest = edges.groupBy("src").agg(F.min("dst").alias("m")).withColumnRenamed("src", "dst")
    return (edges.join(smallest, "dst", "left")
                 .select("src", F.coalesce("m", "dst").alias("dst")))


def _small_star(edges: DataFrame) -> DataFrame:
    """Connect every node and its smaller neighbours to the smallest of them.

    A window rather than groupBy + join: the edges are shuffled by `src` once, and the min rides
    along on each row. It emits u -> m once per edge of u; the caller's distinct() drops the
    copies, mostly in its partial aggregation before the shuffle.
    """
    m = F.min("dst").over(Window.partitionBy("src"))
    return (edges.select(F.explode(F.array("src", "dst")).alias("src"), m.alias("dst"))
                 .where(F.col("src") != F.col("dst")))


def _difference(old: DataFrame, new: DataFrame) -> tuple[int, int]:
    """(edges in exactly one of old and new, edges in new), from one action.

    Both frames are distinct, so a full outer join on the whole edge pairs both sides up; the
    count is exact where a checksum (GraphFrames sums ids) could miss a change.
    """
    joined = (old.withColumn("in_old", F.lit(True))
                 .join(new.withColumn("in_new", F.lit(True)), ["src", "dst"], "full"))
    row = joined.agg(F.count(F.when(F.col("in_old").isNull() | F.col("in_new").isNull(), 1)).alias("changed"),
                     F.count("in_new").alias("total")).first()
    return int(row["changed"]), int(row["total"])


def _cut(frame: DataFrame) -> DataFrame:
    """Materialise `frame` and drop its lineage: a reliable checkpoint (files in the session's
    checkpoint directory, which survive a lost executor) when there is a directory, else a local
    one (blocks in executor storage, memory and disk: fine in local mode, lost with an executor).
    An eager reliable checkpoint computes the plan once (measured: each row once)."""
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _release_cut(frame: DataFrame | None) -> None:
    """Drop a cut frame's data: its blocks (local checkpoint) or its files (reliable checkpoint).
    Only for a cut no plan still reads."""
    if frame is None:
        return
    frame.unpersist()
    plan = frame._jdf.queryExecution().analyzed()
    if plan.getClass().getSimpleName() != "LogicalRDD":
        return
    rdd = plan.rdd()
    # unpersist() only drops cache-manager entries; a checkpointed frame's blocks belong to the
    # RDD under its plan. (Spark logs a WARN for it, "lineage ... cannot be recomputed": true, and
    # nothing reads it any more.)
    rdd.unpersist(False)
    checkpoint_file = rdd.getCheckpointFile()
    if checkpoint_file.isDefined():
        _delete(frame.sparkSession, checkpoint_file.get())


@contextmanager
def reliable_checkpoints(spark: SparkSession, directory: str) -> Iterator[str]:
    """Checkpoints of this session go under `directory` (any Hadoop path: local, HDFS, S3A...)
    for the duration of the block; yields the session's own subdirectory of it (Spark names it
    with a UUID).

    That subdirectory is deleted when the block ends, on success or failure: a DataFrame
    checkpoint cannot be read back by another application, so a rerun has no use for it. What a
    killed driver left (other UUID-named subdirectories) is deleted when the block starts, so
    give each concurrent job a directory of its own; nothing else under `directory` is touched,
    and `directory` itself goes when it is left empty. The session's previous checkpoint
    directory, if any, is restored.
    """
    context = spark.sparkContext
    previous = context._jsc.sc().checkpointDir()       # scala Option[String]
    for child in _children(spark, directory):
        if _UUID.fullmatch(child.rsplit("/", 1)[-1]):
            _delete(spark, child)
    context.setCheckpointDir(directory)
    own = context.getCheckpointDir()
    try:
        yield own
    finally:
        getattr(context._jsc.sc(), "checkpointDir_$eq")(previous)
        _delete(spark, own)
        remove_if_empty(spark, directory)


def remove_if_empty(spark: SparkSession, directory: str) -> None:
    """Delete `directory` if it exists and holds nothing."""
    filesystem, hadoop_path = _hadoop(spark, directory)
    if filesystem.exists(hadoop_path) and not _children(spark, directory):
        filesystem.delete(hadoop_path, False)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _hadoop(spark: SparkSession, path: str):
    hadoop_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path


def _children(spark: SparkSession, path: str) -> list[str]:
    filesystem, hadoop_path = _hadoop(spark, path)
    if not filesystem.exists(hadoop_path):
        return []
    return [status.getPath().toString() for status in filesystem.listStatus(hadoop_path)]


def _delete(spark: SparkSession, path: str) -> None:
    filesystem, hadoop_path = _hadoop(spark, path)
    filesystem.delete(hadoop_path, True)
