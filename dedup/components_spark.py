"""Connected components of a duplicate graph, by alternating large-star / small-star.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and
Beyond" (SoCC 2014). Near-duplicate detection yields pairs of document ids; one component is one
duplicate cluster, named by its smallest id. Everything is DataFrame joins, aggregates and
windows in the JVM: the driver sees one aggregate row per round, never an edge.

Edges are held oriented, `(src, dst)` with `dst < src`: a pointer from a node to a smaller
neighbour. The fixed point of the two operations is one star per component, every node pointing
at the component's minimum, so that minimum is read off as each node's `component`.

    comps = connected_components(pairs.select("src", "dst"))
    sizes = component_sizes(comps)
"""
from __future__ import annotations

from pyspark.sql import DataFrame, functions as F
from pyspark.sql.window import Window


def connected_components(edges: DataFrame, max_rounds: int = 50, checkpoint_every: int = 5) -> DataFrame:
    """`(node, component)` for every node of `edges` (`src`, `dst`: int64 ids, undirected).

    `component` is the smallest id in the node's component. Duplicate edges and self-loops are
    allowed (a node seen only in a self-loop is its own component); rows with a null endpoint
    are not edges and are ignored. A round is one large-star then one small-star; the round that
    changes no edge ends the loop, and RuntimeError is raised when `max_rounds` rounds were not
    enough. The plan is cut (checkpoint) every `checkpoint_every` rounds. The result is
    materialised, so it no longer depends on `edges`' lineage.
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

    for round_ in range(1, max_rounds + 1):
        # No repartition by node between rounds: with AQE on (Spark 4's default) a cached or
        # checkpointed frame reports unknown partitioning, so the next round shuffles anyway, and
        # a plain distinct() drops small-star's duplicates before its shuffle, not after.
        following = _small_star(_large_star(current)).distinct()
        # Caching stops each round recomputing all earlier ones; caching alone still lets the
        # logical plan grow by a few joins a round, which slows analysis, hence the periodic cut.
        following = _cut(following) if round_ % checkpoint_every == 0 else following.persist()
        changed, total = _difference(current, following)
        print(f"[dedup] components round {round_}: {changed} edge(s) changed, {total} edge(s)", flush=True)
        _release(current)
        current = following
        if changed == 0:
            # A round that changes nothing is at the fixed point, and the paper's convergence
            # proof leaves stars (one per component, on its minimum) as the only fixed point.
            break
    else:
        _release(current)
        raise RuntimeError(
            f"connected components did not converge in max_rounds={max_rounds} rounds "
            f"({changed} edge(s) still changing in the last); the algorithm needs O(log^2 n) rounds "
            "for n nodes, so raise max_rounds or check the edges for a pathological input")

    # Converged: every non-minimum node has exactly one pointer, to its component's minimum.
    parent = current.groupBy("src").agg(F.min("dst").alias("component")).withColumnRenamed("src", "node")
    components = (nodes.join(parent, "node", "left")
                       .select("node", F.coalesce("component", "node").alias("component")))
    components = _cut(components)
    _release(current)
    return components


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
    """Materialise `frame` and drop its lineage.

    A checkpoint directory, when the session has one, survives a lost executor (Spark leaves its
    files behind unless spark.cleaner.referenceTracking.cleanCheckpoints is set); otherwise the
    blocks go to executor storage (localCheckpoint, memory and disk), which is fine in local
    mode and on a cluster that does not lose executors.
    """
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _release(frame: DataFrame) -> None:
    frame.unpersist()
    # unpersist() only drops cache-manager entries; a checkpointed frame's blocks belong to the
    # RDD under its plan, which otherwise lingers until the JVM garbage-collects it. Spark logs a
    # WARN for it ("lineage ... cannot be recomputed"): true, and the frame is no longer used.
    plan = frame._jdf.queryExecution().analyzed()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)
