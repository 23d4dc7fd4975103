"""The decontam stage's driver side: evaluation n-grams found in the corpus, then drop or cut.

1. The evaluation sets become one sorted n-gram index on the driver (decontam/evalsets.py),
   broadcast to executors once.
2. Executors scan the documents in mapInArrow batches (decontam/stage.py) and emit an occurrence
   row per matched n-gram: the corpus crosses the network once, as ids and spans only.
3. N-grams found in more than `max_doc_frequency` documents are ignored (GPT-3's rule: text that
   common is not evidence of contamination): a groupBy over the occurrences, not the documents.
4. Per document, the benchmark with the most matched n-grams names the drop reason
   (`decontam_<benchmark>`); `action: drop` rejects it, `action: cut` removes the matched spans
   with a margin and keeps the rest (rejected when too little is left).
Every document leaves as kept (clean or cut) or rejected; the stats say how many of each, and per
benchmark the documents and n-grams matched and the share of its examples found in the corpus.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from decontam.evalsets import build_index
from decontam.ngrams import NgramSpec
from decontam.stage import OCCURRENCE_SCHEMA, cut_batches, find_matches
from pipeline.config import RunConfig
from pipeline.spark import arrow_schema, map_batches, persist_on_disk
from pipeline.stage_spark import commit_outcome, read_documents

STAGE = "decontam"
MATCHES, CUT_CHARS = "decontam__matches", "decontam__cut_chars"


def run_decontam(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    settings = config.decontam
    spec = NgramSpec(settings.ngram, settings.char_ngram)
    index = build_index(settings.eval_sets, settings.fields, spec)
    print(f"[decontam] {len(index.names)} benchmark(s), {index.ngrams} distinct n-grams "
          f"({index.hashes.nbytes + index.benchmarks.nbytes} bytes broadcast)", flush=True)
    docs = read_documents(spark, inputs)
    broadcast = spark.sparkContext.broadcast((index.hashes, index.benchmarks))
    occurrences = persist_on_disk(map_batches(docs.select("id", "text"), find_matches, OCCURRENCE_SCHEMA,
                                              index=broadcast, spec=spec))
    try:
        frequent = (occurrences.groupBy("ngram").agg(F.countDistinct("id").alias("docs"))
                               .where(F.col("docs") > settings.max_doc_frequency).select("ngram"))
        matches = persist_on_disk(occurrences.join(frequent, "ngram", "left_anti"))
        try:
            decided = _decide(docs, matches, index.names, settings)
            outcome = commit_outcome(spark, config, STAGE, decided, kept_drops=("drop_reason", "drop_detail"))
            info = _benchmark_stats(spark, matches, frequent, index, docs, settings.samples)
        finally:
            matches.unpersist()
    finally:
        occurrences.unpersist()
        broadcast.unpersist()
    kept = spark.read.parquet(outcome["outputs"]["kept"])
    info["cut_documents"] = kept.where(F.col(CUT_CHARS) > 0).count()
    return {**outcome, **info, "action": settings.action, "ngram": settings.ngram, "char_ngram": settings.char_ngram,
            "eval_ngrams": index.ngrams}


def _per_document(matches: DataFrame, names: list[str]) -> DataFrame:
    """(id, decontam__matches, reason, spans, first_span) of every document with a match."""
    counts = matches.groupBy("id", "benchmark").agg(F.countDistinct("ngram").alias("n"))
    top = Window.partitionBy("id").orderBy(F.desc("n"), F.asc("benchmark"))
    label = F.element_at(F.array(*[F.lit(name) for name in names]), F.col("benchmark") + 1)
    reason = (counts.withColumn("_rank", F.row_number().over(top)).where(F.col("_rank") == 1)
                    .select("id", F.concat(F.lit("decontam_"), label).alias("reason")))
    spans = matches.groupBy("id").agg(F.countDistinct("ngram").cast("int").alias(MATCHES),
                                      F.array_distinct(F.collect_list(F.struct("start", "end"))).alias("spans"),
                                      F.min(F.struct("start", "end")).alias("first_span"))
    return spans.join(reason, "id")


def _decide(docs: DataFrame, matches: DataFrame, names: list[str], settings) -> DataFrame:
    """Every document once: clean ones untouched, matched ones dropped or cut. A rejected document's
    `drop_detail` is its first matched passage (what the report's drop explorer shows)."""
    docs = docs.drop("drop_detail")
    found = _per_document(matches, names)
    clean = (docs.join(found.select("id"), "id", "left_anti")
                 .withColumn(MATCHES, F.lit(0)).withColumn(CUT_CHARS, F.lit(0).cast("long"))
                 .withColumn("drop_reason", F.lit(None).cast("string"))
                 .withColumn("drop_detail", F.lit(None).cast("string")))
    dirty = docs.join(found, "id")
    if settings.action == "drop":
        dirty = (dirty.withColumn(CUT_CHARS, F.lit(0).cast("long")).withColumn("drop_reason", F.col("reason"))
                      .drop("spans", "reason"))
    else:
        schema = arrow_schema(docs, pa.field(MATCHES, pa.int32()), pa.field(CUT_CHARS, pa.int64()),
                              pa.field("drop_reason", pa.string()), pa.field("first_span", pa.struct(
                                  [pa.field("start", pa.int64()), pa.field("end", pa.int64())])))
        dirty = map_batches(dirty, cut_batches, schema, output_schema=schema, margin=settings.cut_margin,
                            min_piece_chars=settings.min_piece_chars, max_pieces=settings.max_pieces)
    # a rejected text is the original (cut_batches keeps it whole), so the span points into it
    passage = F.expr("substring(text, first_span.start + 1, first_span.end - first_span.start)")
    dirty = dirty.withColumn("drop_detail", F.when(F.col("drop_reason").isNotNull(), passage))
    return clean.unionByName(dirty.select(*clean.columns))


def _benchmark_stats(spark: SparkSession, matches: DataFrame, frequent: DataFrame, index, docs: DataFrame,
                     samples: int) -> dict:
    """Per benchmark: documents and n-grams matched, the contamination rate, a sample of matches."""
    rows = matches.groupBy("benchmark").agg(F.countDistinct("id").alias("documents"),
                                            F.countDistinct("ngram").alias("ngrams")).collect()  # one per benchmark
    found = {index.names[r["benchmark"]]: (r["documents"], r["ngrams"]) for r in rows}
    matched = np.array([r["ngram"] for r in matches.select("ngram").distinct().collect()],  # at most the index
                       dtype=np.int64).view(np.uint64)
    rates = index.contamination(matched)
    benchmarks = {name: {"documents_matched": found.get(name, (0, 0))[0], "ngrams_matched": found.get(name, (0, 0))[1],
                         **rates[name]} for name in index.names}
    first = Window.partitionBy("id").orderBy("start")
    label = F.element_at(F.array(*[F.lit(name) for name in index.names]), F.col("benchmark") + 1)
    sample_cols = ["id", "url"] if "url" in docs.columns else ["id"]
    picked = (matches.withColumn("_first", F.row_number().over(first)).where(F.col("_first") == 1)
                     .orderBy(F.xxhash64("id"), "id").limit(samples)
                     .join(docs.select(*sample_cols, "text"), "id")
                     .select(*sample_cols, label.alias("benchmark"), "start", "end",
                             F.expr("substring(text, greatest(start - 99, 1), end - start + 200)").alias("excerpt"))
                     .orderBy(F.xxhash64("id"), "id").collect())                                # at most `samples`
    return {"benchmarks": benchmarks, "frequent_ngrams_ignored": frequent.count(),
            "samples": [row.asDict() for row in picked]}
