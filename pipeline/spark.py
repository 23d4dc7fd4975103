"""The one Spark adapter: session construction, input listing, batch stages via mapInArrow,
columns added from one column (add_columns), atomic Parquet writes and the Arrow schema of a frame.

Who imports pyspark: this module, the driver-side modules named `*_spark.py` (each stage's
DataFrame work, beside its batch logic) and the commands in `jobs/`; nothing else
(tests/test_layers.py checks it). Batch logic sees pyarrow batches only.
"""
from __future__ import annotations

import heapq
import os
import sys
from functools import partial
from typing import Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.pandas.types import from_arrow_schema, from_arrow_type, to_arrow_schema

from pipeline import storage
from pipeline.cli import VERBOSE_ENV
from pipeline.config import AUTO, SparkConfig, auto_shuffle_partitions
from pipeline.io import InputError, check_formats, expand_local, is_remote, staging_path

BatchFunction = Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def launched_by_spark_submit() -> bool:
    # spark-submit starts the JVM first and hands Python its gateway through these variables.
    return "PYSPARK_GATEWAY_PORT" in os.environ


# A stage's Parquet input splits into at least this many tasks per core (up to Spark's 128 MB per
# task): Spark's default of one per core gives, say, 300 MB on 2 cores three tasks, the last one
# running alone for a third of a Python-heavy stage (filter, classify). Small inputs still pack
# into few tasks (a task opens at least 4 MB), large ones are unchanged.
SCAN_SPLITS_PER_CORE = 3
_SCAN_SPLITS = "spark.sql.files.minPartitionNum"


def build_session(config: SparkConfig, app_name: str | None = None, *, verbose: bool | None = None) -> SparkSession:
    """A session on `config.master` (local[*] by default) unless spark-submit chose the master.

    Local runs bind the driver and its UI to `bind_address` (loopback by default) so a laptop run
    opens no port to the network, under spark-submit with a local master too: there the JVM already
    runs, and Spark's UI binds to $SPARK_LOCAL_IP or else every interface, so without that variable
    the UI is turned off (`--conf spark.ui.enabled=true` keeps it). Python workers use this
    interpreter, so they see the same packages as the driver.

    Quiet by default: no console progress bars, WARN logs (the runner prints its own progress line,
    pipeline/progress_spark.py). `verbose` (None: `--verbose` of pipeline/cli.py, through
    $CURATE_VERBOSE) brings Spark's progress bars and INFO logs back.

    Outputs every tool reads: timestamps as Parquet TIMESTAMP(MICROS, UTC) (not Spark's INT96), and
    no `.crc` side files in local output directories (checksums off on the local filesystem).
    """
    if verbose is None:
        verbose = os.environ.get(VERBOSE_ENV) == "1"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name or config.app_name)
    submitted = _submitted_conf() if launched_by_spark_submit() else {}
    master = None if launched_by_spark_submit() else config.master
    if master:
        builder = builder.master(master)
        builder = builder.config("spark.driver.memory", config.driver_memory)
    effective_master = master or submitted.get("spark.master", "")
    if effective_master.startswith("local") and config.bind_address:
        builder = (builder.config("spark.driver.bindAddress", config.bind_address)
                          .config("spark.driver.host", config.bind_address))
        if master:     # the JVM starts below, with this environment: its UI binds to SPARK_LOCAL_IP
            os.environ.setdefault("SPARK_LOCAL_IP", config.bind_address)
        elif "SPARK_LOCAL_IP" not in os.environ and "spark.ui.enabled" not in submitted \
                and "spark.ui.enabled" not in config.conf:
            # spark-submit started the JVM without SPARK_LOCAL_IP: its UI would listen on 0.0.0.0.
            builder = builder.config("spark.ui.enabled", "false")
            print(f"note: Spark UI off (it would bind to every interface): export SPARK_LOCAL_IP={config.bind_address} "
                  "before spark-submit to keep it on loopback", file=sys.stderr)
    auto = config.shuffle_partitions == AUTO   # `auto`: 2 per core here, sized per stage by jobs/stage_job.py
    builder = (builder.config("spark.sql.shuffle.partitions", str(200 if auto else config.shuffle_partitions))
                      .config("spark.sql.session.timeZone", "UTC")
                      .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                      .config("spark.python.worker.reuse", "true")
                      .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
                      .config("spark.ui.showConsoleProgress", "true" if verbose else "false")
                      .config("spark.sql.debug.maxToStringFields", "500"))  # score columns are many
    for key, value in config.conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("INFO" if verbose else "WARN")
    # The local filesystem is a ChecksumFileSystem: without this every Parquet file gets a `.crc`
    # beside it, which tools that read a directory (polars, duckdb globs) trip on. The instance is
    # the cached one every file:// path resolves to in this JVM (local-mode executors included).
    jvm = session.sparkContext._jvm
    jvm.org.apache.hadoop.fs.FileSystem.getLocal(session.sparkContext._jsc.hadoopConfiguration()).setWriteChecksum(False)
    if auto:
        session.conf.set("spark.sql.shuffle.partitions",
                         str(auto_shuffle_partitions(session.sparkContext.defaultParallelism)))
    if _SCAN_SPLITS not in config.conf and _SCAN_SPLITS not in submitted:
        session.conf.set(_SCAN_SPLITS, str(SCAN_SPLITS_PER_CORE * session.sparkContext.defaultParallelism))
    _share_storage_settings(session, config)
    return session


def _submitted_conf() -> dict[str, str]:
    """The settings spark-submit gave the JVM it started (master, --conf), read before the session exists."""
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


def _share_storage_settings(session: SparkSession, config: SparkConfig) -> None:
    """Give pyarrow the object-store settings Spark has.

    Hadoop reads `spark.hadoop.fs.s3a.*`; pyarrow (which executors open input files with, and the
    driver writes small files with) does not. The session's settings, those given with
    `spark-submit --conf` included, are merged into `config.conf`: the config travels to every
    executor with the stage's function, and `pipeline.storage.storage_options(config.spark.conf)`
    finds them there. The driver's own calls use them as the process default. Settings only in
    Hadoop's core-site.xml are not seen: give them as `spark.hadoop.fs.s3a.*` or as AWS_* variables.
    """
    conf = dict(session.sparkContext.getConf().getAll())
    config.conf.update({key: value for key, value in conf.items()
                        if key.startswith("spark.hadoop.fs.s3a.") and storage.storage_options({key: value})})
    storage.configure(config.conf)


def expand_inputs(spark: SparkSession, patterns: list[str]) -> list[tuple[str, int]]:
    """(path, byte size) of the files matched by `patterns` (local paths, directories, globs or
    Hadoop URIs), sorted by path.

    Only paths reach the driver. Remote patterns are globbed with Hadoop's FileSystem, so every
    scheme the cluster is configured for (s3a, hdfs, gs, abfs) works; the sizes come with the
    listing (FileStatus.getLen), never from a request per file.
    """
    local = [p for p in patterns if not is_remote(p)]
    files = [(path, os.stat(path).st_size) for path in (expand_local(local) if local else [])]
    for pattern in (p for p in patterns if is_remote(p)):
        files.extend(_expand_hadoop(spark, pattern))
    files = sorted(set(files))
    check_formats([path for path, _ in files])
    return files


def paths_frame(spark: SparkSession, paths: list[str], sizes: list[int] | None = None) -> DataFrame:
    """One row per task, each holding a list of files (`paths`), balanced by size.

    Every Python task costs a fixed fraction of a second, so many small files share a task,
    while a few large ones each get their own; there are enough tasks to keep every core busy.
    """
    groups = plan_file_groups(paths, sizes or [0] * len(paths), spark.sparkContext.defaultParallelism)
    # JVM only, one group per partition: spark.range's partition k holds id k, and a broadcast join
    # keeps that partitioning. (A DataFrame made from sc.parallelize runs a Python task per
    # partition to unpickle its rows: 2-12 s for 24 groups on a busy local[2], ~1 s this way.)
    table = spark.createDataFrame(list(enumerate(groups)), "id long, paths array<string>")
    ids = spark.range(0, len(groups), 1, numPartitions=len(groups))
    return ids.join(F.broadcast(table), "id").select("paths")


def plan_file_groups(paths: list[str], sizes: list[int], parallelism: int,
                     target_bytes: int = 256 << 20, min_task_bytes: int = 64 << 20) -> list[list[str]]:
    """Greedy largest-first packing of files into groups (tasks) of similar total size.

    The rule: files go largest first, each to the group with the smallest load so far (ties: fewer
    files, then the lower index), a heap of loads making it O(files log files). So every file at
    least as large as the mean load has a group to itself, and no group holds more than
    max(largest file, 2 x mean load): a group with two or more files received its last file, of
    size x, when it was the lightest (load <= mean), and every group already had a file >= x, so
    x <= mean. One file is never split across tasks: WARC records do not start at byte offsets a
    task could compute without reading (gzip members must be found by scanning), so a 1 GB file is
    one task's work, and a run of few files has at most one task per file.
    """
    total = sum(sizes)
    # Up to a dozen tasks per core: small tasks let a free core take over when a file holds more
    # HTML than its size suggests (sizes are only a proxy). But a Python task costs ~0.25 CPU s
    # whatever it holds, so none gets less than min_task_bytes (~2,500 pages, 10 s of extraction)
    # while every core still gets two; and none more than target_bytes.
    balanced = min(parallelism * 12, -(-total // min_task_bytes))
    count = max(parallelism * 2, balanced, -(-total // target_bytes))
    count = max(1, min(len(paths), count))
    groups: list[list[str]] = [[] for _ in range(count)]
    lightest = [(0, 0, index) for index in range(count)]       # (load, files, index): already a heap
    for size, path in sorted(zip(sizes, paths), key=lambda pair: (-pair[0], pair[1])):
        load, files, index = heapq.heappop(lightest)
        groups[index].append(path)
        heapq.heappush(lightest, (load + max(size, 1), files + 1, index))
    return [sorted(group) for group in groups if group]


def map_batches(frame: DataFrame, function: Callable[..., Iterator[pa.RecordBatch]],
                schema: pa.Schema, **kwargs) -> DataFrame:
    """Apply a batch stage (pyarrow batches in, batches of `schema` out) to every partition."""
    return frame.mapInArrow(partial(function, **kwargs), from_arrow_schema(schema))


def add_columns(frame: DataFrame, function: Callable[..., Iterator[pa.RecordBatch]], added: list[pa.Field],
                column: str = "text", **kwargs) -> DataFrame:
    """`frame` with the `added` fields that a batch stage computes from `column` alone.

    Unlike map_batches, only `column` travels to the Python workers and only the added fields come
    back (a scalar Arrow UDF: Spark keeps the rest of each row in the JVM and zips the results back
    on): a scoring pass over long texts ships each text once instead of every column both ways.
    `function` sees batches holding `column` and returns them with the added fields."""
    struct = pa.struct(added)
    names = [field.name for field in added]
    apply = partial(function, **kwargs)

    def batches(series: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        texts = (pa.record_batch([pa.array(values, pa.string(), from_pandas=True)], names=[column])
                 for values in series)
        for out in apply(texts):
            yield out.select(names).to_pandas()

    # Non-deterministic to Spark, so that the optimiser never copies the call into each field's
    # expression (the batch stage runs once per row, whatever reads its fields).
    computed = pandas_udf(batches, from_arrow_type(struct)).asNondeterministic()
    slot = "__added_columns"
    with_struct = frame.withColumn(slot, computed(F.col(column)))
    return with_struct.select(*[F.col(name) for name in frame.columns],
                              *[F.col(slot)[name].alias(name) for name in names])


def arrow_schema(frame: DataFrame, *added: pa.Field) -> pa.Schema:
    """`frame`'s schema in Arrow terms, with `added` fields after its own (a batch stage's output)."""
    return pa.schema(list(to_arrow_schema(frame.schema)) + list(added))


def write_parquet(frame: DataFrame, path: str) -> None:
    """Write `frame` to `path` atomically: Spark writes a staging directory beside it, which then
    replaces `path` by renames. A job killed mid-write leaves the previous output, or none, but never
    part of one: readers and the resume check (pipeline/resume.py) see only whole outputs."""
    staging = staging_path(path)
    frame.write.mode("overwrite").parquet(staging)
    replace_directory(frame.sparkSession, staging, path)


def replace_directory(spark: SparkSession, staging: str, final: str) -> None:
    """Move `staging` to `final` on the filesystem Spark resolves them on (local, HDFS, S3A...).

    The old output is renamed aside first (a rename onto an existing directory would nest inside
    it) and deleted last. On HDFS and local disks each rename is atomic; on object stores a rename
    is a copy, so there the guarantee rests on the stage's run key, which is written after this.
    """
    filesystem, target = _hadoop(spark, final)
    source, aside = _hadoop(spark, staging)[1], _hadoop(spark, staging_path(final) + ".old")[1]
    filesystem.delete(aside, True)
    if filesystem.exists(target) and not filesystem.rename(target, aside):
        raise OSError(f"cannot move the previous output {final} aside to {aside}")
    _drop_checksum_files(filesystem, source)
    if not filesystem.rename(source, target):
        raise OSError(f"cannot commit {staging} as {final}")
    filesystem.delete(aside, True)


def _drop_checksum_files(filesystem, directory) -> None:
    """Delete the `.crc` side files a local (checksummed) filesystem wrote: readers other than Hadoop
    (polars, duckdb, pyarrow datasets) take every file of a directory for data. Other filesystems
    (HDFS, S3A) write none, and are not listed for nothing."""
    if filesystem.getUri().getScheme() != "file" or not filesystem.exists(directory):
        return
    # the raw filesystem beneath: listing through the checksummed one hides the .crc files
    raw = filesystem.getRaw() if "ChecksumFileSystem" in _class_names(filesystem) else filesystem
    iterator, crcs = raw.listFiles(directory, True), []
    while iterator.hasNext():
        path = iterator.next().getPath()
        if path.getName().endswith(".crc"):
            crcs.append(path)
    for path in crcs:
        raw.delete(path, False)


def _class_names(java_object) -> set[str]:
    names, cls = set(), java_object.getClass()
    while cls is not None:
        names.add(cls.getSimpleName())
        cls = cls.getSuperclass()
    return names


def path_exists(spark: SparkSession, path: str) -> bool:
    filesystem, hadoop_path = _hadoop(spark, path)
    return filesystem.exists(hadoop_path)


def path_matches(spark: SparkSession, pattern: str) -> bool:
    """Whether a path or glob names anything, on the filesystem Spark reads it from."""
    filesystem, hadoop_path = _hadoop(spark, pattern)
    return bool(filesystem.globStatus(hadoop_path))


def parquet_problem(spark: SparkSession, pattern: str) -> str | None:
    """Why the first data file under `pattern` is not Parquet (None when it is, or nothing is there).

    Checks the magic bytes at both ends (`PAR1`, which a truncated file loses at its end) through
    the Hadoop filesystem Spark will read with: two small reads, before Spark's own footer reader
    would fail a job with a Java trace. Only the first file: the others are read by tasks, where a
    damaged one fails the job naming it."""
    filesystem, hadoop_path = _hadoop(spark, pattern)
    found = _first_data_file(filesystem, filesystem.globStatus(hadoop_path) or [])
    if found is None:
        return None
    path, size = found
    if size < 12:
        return f"{path} is {size} bytes, too short for a Parquet file"
    stream = filesystem.open(path)
    try:       # byte by byte: Py4J hands a Java byte[] to Python as a copy, so a buffer stays empty
        head = bytes(stream.read() for _ in range(4))
        stream.seek(size - 4)
        tail = bytes(stream.read() for _ in range(4))
    finally:
        stream.close()
    if head != b"PAR1" or tail != b"PAR1":
        return f"{path} is not a Parquet file: no PAR1 magic at its start and end"
    return None


def _first_data_file(filesystem, statuses):
    """(Hadoop Path, size) of the first file Spark would read: names starting with _ or . are not data."""
    for status in statuses:
        if not status.isDirectory():
            return status.getPath(), status.getLen()
        files = filesystem.listFiles(status.getPath(), True)
        while files.hasNext():
            entry = files.next()
            relative = entry.getPath().toUri().getPath()[len(status.getPath().toUri().getPath()):]
            if not any(part.startswith(("_", ".")) for part in relative.split("/") if part):
                return entry.getPath(), entry.getLen()
    return None


def _hadoop(spark: SparkSession, path: str):
    """(Hadoop FileSystem, Hadoop Path) for `path`, resolved as Spark resolves its reads and writes."""
    hadoop_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path


def persist_on_disk(frame: DataFrame) -> DataFrame:
    # Extraction is costly: compute it once, then split kept and rejected rows from disk.
    return frame.persist(StorageLevel.DISK_ONLY)


def _expand_hadoop(spark: SparkSession, pattern: str) -> list[tuple[str, int]]:
    filesystem, hadoop_path = _hadoop(spark, pattern)
    statuses = filesystem.globStatus(hadoop_path)
    if not statuses:
        raise InputError(f"input glob matches no file: {pattern}")
    found: list[tuple[str, int]] = []
    for status in statuses:
        if status.isDirectory():
            iterator = filesystem.listFiles(status.getPath(), True)
            while iterator.hasNext():
                child = iterator.next()
                path = child.getPath().toString()
                if not path.rsplit("/", 1)[-1].startswith(("_", ".")):
                    found.append((path, int(child.getLen())))
        else:
            found.append((status.getPath().toString(), int(status.getLen())))
    if not found:
        raise InputError(f"input has no readable files: {pattern}")
    return sorted(found)
