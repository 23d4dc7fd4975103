"""Which document of a duplicate group survives: the keep policy every dedup step shares.

Highest quality score when the documents carry one, else the most recent fetch, else the
smallest id. The id comes last in every ordering, so the choice is total and deterministic:
the same kept set whatever the partitioning or the run.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.config import ConfigError


def quality_column(frame: DataFrame, configured: str) -> str | None:
    """The score column the keep policy ranks by, or None.

    'auto' picks `quality_score` or the one column ending in `quality__score` (a classifier's
    output); '' or 'none' turns ranking by quality off; any other name must exist.
    """
    if configured in ("", "none"):
        return None
    if configured != "auto":
        if configured not in frame.columns:
            raise ConfigError(f"key 'dedup.quality_column': the input has no column '{configured}' "
                              f"(columns: {', '.join(frame.columns)})")
        return configured
    candidates = [c for c in frame.columns if c == "quality_score" or c.endswith("quality__score")]
    if len(candidates) > 1:
        raise ConfigError(f"key 'dedup.quality_column': auto found several quality columns {candidates}; name one")
    return candidates[0] if candidates else None


def keep_order(frame: DataFrame, quality: str | None, most_recent_first: bool = False) -> list[Column]:
    """Sort keys: the first row of a group in this order is the one kept.

    `most_recent_first` puts fetched_at before quality (URL dedup: the latest crawl of a page
    wins, Llama 3); ties always end on the smallest id.
    """
    by_quality = [F.col(quality).desc_nulls_last()] if quality else []
    by_time = [F.col("fetched_at").desc_nulls_last()] if "fetched_at" in frame.columns else []
    keys = by_time + by_quality if most_recent_first else by_quality + by_time
    return keys + [F.col("id").asc()]
