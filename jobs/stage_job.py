"""The command line every stage job shares: parse, check before the JVM starts, build the
session, write the resolved config, run the stage, print a one-line outcome.

Also what jobs/run.py shares with it: `preflight` (every check before Spark starts: the running
stages' checks, then pipeline.preflight.check_run), `check_deferred` (what pyarrow could not check
there, with Spark's Hadoop filesystem, still before the first stage), `size_shuffle` (the `auto`
shuffle partitions of a stage from its input and the cluster's cores) and `resolved_yaml`.
"""
from __future__ import annotations

import dataclasses
import uuid

from pipeline import outputs, preflight as checks, stages, storage
from pipeline.cli import build_parser, parse_args_and_config, run_main
from pipeline.config import AUTO, ConfigError, RunConfig, auto_shuffle_partitions, dump_yaml
from pipeline.io import InputError, join, write_text
from pipeline.spark import build_session, launched_by_spark_submit
from pipeline.stage_spark import execute


def stage_main(name: str, doc: str, argv: list[str] | None) -> int:
    """`python -m jobs.<command>` for stage `name`: --input names what it reads, else it reads the
    output of the stage before it (pipeline.stages.default_inputs)."""
    stage = stages.get(name)
    previous = stages.previous_in_table(name)
    input_help = {} if name == "extract" else {"input_help": (
        f"Parquet documents (default: the output of the stage before {name} in the config's `stages`, "
        f"e.g. <output>/{previous})")}
    parser = build_parser(stage.command.removeprefix("jobs."), doc.split("\n\n")[0], **input_help)

    def job() -> int:
        # One stage runs: the files of the other configured stages (the demo's models) need not
        # exist, and only this stage's required (???) keys must be given.
        args, config = parse_args_and_config(parser, argv, stage_files=False, running=[name])
        inputs = config.input if args.input and name != "extract" else None
        deferred = preflight(config, [name], inputs)
        spark = build_session(config.spark, app_name=f"curate-{name}")
        check_deferred(spark, deferred)
        write_text(outputs.resolved_config(config.output), resolved_yaml(config))
        size_shuffle(spark, config, name, inputs if inputs is not None else stages.default_inputs(config, name))
        stats = execute(spark, config, name, config.input if args.input else None)
        print(f"[{name}] {stats['records_in']} {stage.unit}: {stats['kept']} kept, {stats['rejected']} rejected "
              f"{stats['rejected_by_reason']} -> {stats['outputs']['kept']}")
        return 0

    return run_main(job)


# ---- before the session ------------------------------------------------------------------------

def preflight(config: RunConfig, running: list[str], inputs: list[str] | None = None) -> list[tuple[str, str]]:
    """Everything knowable before Spark starts, in one place for the runner and the stage jobs: the
    storage settings (spark-submit's --conf included), each running stage's check
    (pipeline/stages.py), then the output probe and the first stage's input (pipeline/preflight.py).
    Returns what only Hadoop can check (check_deferred). Raises ConfigError/InputError: one line."""
    adopt_submitted_storage_settings(config)
    storage.configure(config.spark.conf)
    for name in running:
        stages.get(name).check_config(config)
    return checks.check_run(config, running[0], inputs) if running else []


def adopt_submitted_storage_settings(config: RunConfig) -> None:
    """Under spark-submit, the `spark.hadoop.fs.s3a.*` settings given with --conf join
    config.spark.conf (the config's own win), so the checks before the session reach the store
    the way the session will (pipeline.spark.build_session does the same once it exists)."""
    if not launched_by_spark_submit():
        return
    try:
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized()      # spark-submit's JVM: connects, starts no context
        submitted = dict(SparkConf().getAll())
    except Exception as err:   # the session will still get them; only the early checks miss them
        print(f"[preflight] could not read spark-submit's settings ({type(err).__name__}); "
              "object-store checks use the config's spark.conf only", flush=True)
        return
    found = {k: v for k, v in submitted.items()
             if k.startswith("spark.hadoop.fs.s3a.") and storage.storage_options({k: v})}
    config.spark.conf = {**found, **config.spark.conf}


# ---- once the session exists -------------------------------------------------------------------

def check_deferred(spark, deferred: list[tuple[str, str]]) -> None:
    """The outputs and inputs pyarrow could not open before the session (hdfs:// without libhdfs,
    schemes only Hadoop knows), checked with Spark's Hadoop filesystem before the first stage."""
    for kind, uri in deferred:
        try:
            filesystem, path = _hadoop(spark, uri)
            if kind == "output":
                probe = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(join(uri, f"_preflight-{uuid.uuid4().hex}"))
                stream = filesystem.create(probe, True)
                stream.write(bytearray(b"curate preflight probe\n"))
                stream.close()
                filesystem.delete(probe, False)
            elif not filesystem.globStatus(path):
                raise InputError(f"input not found: {uri} (run the stage that writes it first, or give --input)")
        except (InputError, ConfigError):
            raise
        except Exception as err:   # py4j: the Java exception's first line
            java = getattr(err, "java_exception", None)
            reason = " ".join(str(java.toString() if java is not None else err).split())[:300]
            if kind == "output":
                raise ConfigError(f"key 'output': cannot write under {uri}: {reason}") from None
            raise InputError(f"input unreadable: {uri}: {reason}") from None


def size_shuffle(spark, config: RunConfig, name: str, inputs: list[str]) -> None:
    """With spark.shuffle_partitions `auto`, set spark.sql.shuffle.partitions for stage `name` from
    the cluster's cores and the bytes of its input (pipeline.config.auto_shuffle_partitions). The
    extract stage's raw input says little about its shuffles (documents are a fraction of the WARC
    bytes): it gets the cores term only."""
    if config.spark.shuffle_partitions != AUTO:
        return
    cores = cluster_cores(spark)
    size = 0 if name == "extract" else input_bytes(spark, inputs)
    partitions = auto_shuffle_partitions(cores, size)
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    print(f"[{name}] shuffle partitions: {partitions} ({cores} cores, {size / 2 ** 30:.1f} GiB input)", flush=True)


def cluster_cores(spark) -> int:
    """The cores the job can use: Spark's default parallelism (the executors' cores registered
    now), or the executors asked for (spark.executor.instances, or dynamic allocation's explicit
    maxExecutors) times spark.executor.cores when that is more: executors still starting count."""
    context = spark.sparkContext
    conf = context.getConf()

    def number(key: str, default: int) -> int:
        try:
            return int(conf.get(key, str(default)))
        except ValueError:
            return default

    per_executor = number("spark.executor.cores", 1)
    asked = number("spark.executor.instances", 0)
    if conf.get("spark.dynamicAllocation.enabled", "false").lower() == "true" \
            and conf.contains("spark.dynamicAllocation.maxExecutors"):
        asked = max(asked, min(number("spark.dynamicAllocation.maxExecutors", 0), 100_000))
    return max(context.defaultParallelism, asked * per_executor)


def input_bytes(spark, paths: list[str]) -> int:
    """Total bytes under `paths` (files, directories, globs), as Spark's Hadoop filesystem sees
    them; what cannot be listed counts 0."""
    total = 0
    for uri in paths:
        try:
            filesystem, path = _hadoop(spark, uri)
            for status in filesystem.globStatus(path) or []:
                total += (filesystem.getContentSummary(status.getPath()).getLength() if status.isDirectory()
                          else status.getLen())
        except Exception:   # sizing is advice: never a reason to fail
            continue
    return int(total)


def resolved_yaml(config: RunConfig) -> str:
    """<output>/config.yaml: the config as run, credentials in spark.conf replaced by ***."""
    return dump_yaml(dataclasses.replace(config, spark=dataclasses.replace(
        config.spark, conf=storage.redacted(config.spark.conf))))


def _hadoop(spark, uri: str):
    """(Hadoop FileSystem, Path) for `uri`, resolved as Spark resolves its reads."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path
