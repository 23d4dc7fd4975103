"""URL and exact-text dedup: one document per key, chosen by the keep policy.

Both are one window over a narrow frame (id, key and the columns the policy reads): the text
itself is hashed where it lies and never shuffled.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window


def normalised_text_hash(column: str = "text") -> Column:
    """sha256 of the text lowercased, whitespace runs collapsed and trimmed: copies that differ
    only in case or spacing are one document. 256 bits: no collision at any corpus size."""
    normal = F.trim(F.regexp_replace(F.lower(F.col(column)), r"\s+", " "))
    return F.sha2(normal, 256)


def duplicates_by_key(frame: DataFrame, key: Column, order: list[Column], reason: str) -> DataFrame:
    """(id, drop_reason, duplicate_of) for every document whose key is shared with a document
    earlier in `order`; documents with a null key are never duplicates."""
    keyed = frame.withColumn("_key", key).where(F.col("_key").isNotNull())
    group = Window.partitionBy("_key").orderBy(*order)
    first = F.first("id").over(group.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    return (keyed.select("id", first.alias("duplicate_of"))
                 .where(F.col("id") != F.col("duplicate_of"))
                 .select("id", F.lit(reason).alias("drop_reason"), "duplicate_of"))
