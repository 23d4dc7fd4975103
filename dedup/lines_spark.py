"""Line-level dedup (ccNet; Llama 3 section 3.1.1): lines that recur across many documents are
boilerplate (navigation, cookie notices, footers) and are cut from every document holding them.

Documents fall into buckets of about `bucket_docs` (hash of the id); within a bucket, a
normalised line held by more than `max_occurrences` documents is removed everywhere it occurs.
Occurrences are counted once per document: a line repeated inside one page is the repetition
filters' business. Everything runs in the JVM (split, normalise, xxhash64, higher-order filter),
so no text crosses into Python; only (bucket, line hash) pairs are shuffled, and only the
document ids of affected documents meet the text again.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.config import LineDedupConfig

LINES_REMOVED = "dedup__lines_removed"


def normalised_line(line: Column) -> Column:
    """ccNet's normalisation: lowercase, digits to 0, punctuation and symbols dropped, spaces
    collapsed. (ccNet also strips accents; Spark SQL has no NFD, and accented copies are rare.)"""
    text = F.regexp_replace(F.lower(line), r"\d", "0")
    text = F.regexp_replace(text, r"[\p{P}\p{S}]+", " ")
    return F.trim(F.regexp_replace(text, r"\s+", " "))


def line_hash(line: Column, min_chars: int) -> Column:
    """64-bit hash of the normalised line; null for lines too short to count (blank ones)."""
    normal = normalised_line(line)
    return F.when(F.length(normal) >= min_chars, F.xxhash64(normal))


def bucket_count(documents: int, bucket_docs: int) -> int:
    return max(1, math.ceil(documents / bucket_docs))


def remove_frequent_lines(docs: DataFrame, config: LineDedupConfig, documents: int) -> DataFrame:
    """`docs` with frequent lines cut from `text` and their number in `dedup__lines_removed`.

    Line breaks are kept as they were around the lines that stay. A document whose text ends up
    blank is the caller's to reject.
    """
    buckets = bucket_count(documents, config.bucket_docs)
    bucket = F.pmod(F.xxhash64("id"), F.lit(buckets))
    hashes = F.array_distinct(F.transform(F.split("text", "\n"), lambda line: line_hash(line, config.min_line_chars)))
    occurrences = (docs.select("id", bucket.alias("bucket"), F.explode(hashes).alias("hash"))
                       .where(F.col("hash").isNotNull()))
    frequent = (occurrences.groupBy("bucket", "hash").count()
                           .where(F.col("count") > config.max_occurrences).select("bucket", "hash"))
    to_remove = (occurrences.join(frequent, ["bucket", "hash"])
                            .groupBy("id").agg(F.collect_set("hash").alias("_remove")))
    lines = F.split("text", "\n")
    kept_lines = F.filter(lines, lambda line: ~F.coalesce(
        F.array_contains(F.col("_remove"), line_hash(line, config.min_line_chars)), F.lit(False)))
    return (docs.join(to_remove, "id", "left")
                .withColumn("_kept", F.when(F.col("_remove").isNull(), lines).otherwise(kept_lines))
                .withColumn(LINES_REMOVED, (F.size(lines) - F.size("_kept")).cast("int"))
                .withColumn("text", F.when(F.col("_remove").isNull(), F.col("text"))
                                     .otherwise(F.array_join("_kept", "\n")))
                .drop("_remove", "_kept"))


def blank(text: Column) -> Column:
    return F.trim(F.coalesce(text, F.lit(""))) == ""
