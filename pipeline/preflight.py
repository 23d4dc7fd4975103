"""Fail fast: the locations a run needs, checked before Spark starts, so a run never fails after
hours for a reason knowable at the start.

The runner (jobs/run.py) and each stage's command (jobs/stage_job.py) call, in this order and
before `build_session`: every running stage's `check` (pipeline/stages.py: extract's is
`check_extract` here, classify's loads every model, tokenize's loads the tokenizer), then
`check_run`: `--output` is writable (a probe file written and deleted under it) and the first
stage's input exists and its first bytes can be read. Local paths and object-store URIs alike,
through pipeline/storage.py, with the storage settings of `config.spark.conf`.

A URI that pyarrow cannot open here (hdfs:// without libhdfs, a scheme only Hadoop knows) is not
an error: `check_run` returns it, and the job checks it with Spark's own Hadoop filesystem right
after the session starts, still before the first stage. Errors are ConfigError (the output, key
'output') or InputError (an input), one line each: the job prints it and exits with status 2.
Ground floor: no pyspark, no stage package.
"""
from __future__ import annotations

import uuid

from pipeline import stages, storage
from pipeline.config import ConfigError, RunConfig
from pipeline.io import InputError, check_formats, check_local_inputs, expand_local, is_remote, join

PROBE_BYTES = 4            # enough to know a file opens and reads


def options_of(config: RunConfig) -> dict[str, str]:
    """The storage settings a run's own I/O uses (pipeline/storage.py reads `fs.s3a.*` keys)."""
    return storage.storage_options(config.spark.conf)


def check_run(config: RunConfig, first: str, inputs: list[str] | None = None) -> list[tuple[str, str]]:
    """Run-level checks: the output is writable, and the input of `first` (the first stage that
    runs; `inputs` when the user named them, else its default) exists and reads. Returns the
    (kind, uri) pairs pyarrow could not check here ("output" or "input"), for the job to check
    with Hadoop once the session exists."""
    deferred = []
    if not check_output(config):
        deferred.append(("output", config.output))
    if first != "extract":                   # extract's own check reads config.input (--input included)
        paths = inputs if inputs is not None else stages.default_inputs(config, first)
        deferred += [("input", uri) for uri in check_documents(paths, options_of(config))]
    return deferred


def check_output(config: RunConfig) -> bool:
    """A probe file written and deleted under `output`: ConfigError naming the key and the reason
    when that fails. False when pyarrow cannot open the output's filesystem here (checked later)."""
    output = config.output
    if not output:
        raise ConfigError("key 'output': give the run's output directory or URI (--output)")
    if not _openable(output, options_of(config)):
        return False
    probe = join(output, f"_preflight-{uuid.uuid4().hex}")
    try:
        storage.write_bytes(probe, b"curate preflight probe\n", options_of(config), attempts=2)
        storage.delete(probe, options_of(config))
    except OSError as err:
        raise ConfigError(f"key 'output': cannot write under {output}: {_one_line(err)}") from None
    return True


def check_extract(config: RunConfig) -> None:
    """The extract stage's check (pipeline/stages.py): every input pattern names files of a known
    format, and the first file of each opens and reads."""
    deferred = check_input_files(config.input, options_of(config))
    if deferred:
        print(f"[preflight] input {', '.join(deferred)}: checked by Spark once the session starts", flush=True)


def check_input_files(patterns: list[str], options: dict[str, str]) -> list[str]:
    """Raw inputs (WARC, JSONL, Parquet files): each pattern matches files of a known format and its
    first file reads. Returns the patterns pyarrow cannot open here."""
    check_local_inputs(patterns)             # exists, not empty, known formats: one line naming the path
    deferred = []
    for pattern in patterns:
        if not is_remote(pattern):
            _read_first_bytes(expand_local([pattern])[0], options)
            continue
        if not _openable(pattern, options):
            deferred.append(pattern)
            continue
        files = _listed(pattern, options)
        if not files:
            raise InputError(f"input glob matches no file: {pattern}" if _is_glob(pattern)
                             else f"input not found: {pattern}")
        check_formats([path for path, _ in files])
        _read_first_bytes(files[0][0], options)
    return deferred


def check_documents(paths: list[str], options: dict[str, str]) -> list[str]:
    """A stage's Parquet input (a previous stage's output or --input): it exists and its first file
    reads; the message is the one pipeline.stage_spark.read_documents would give after the JVM
    started. Returns the paths pyarrow cannot open here."""
    deferred = []
    for path in paths:
        if is_remote(path) and not _openable(path, options):
            deferred.append(path)
            continue
        files = _listed(path, options)
        if not files and not _exists(path, options):
            raise InputError(f"input not found: {path} (run the stage that writes it first, or give --input)")
        if files:
            _read_first_bytes(files[0][0], options)
    return deferred


def _listed(pattern: str, options: dict[str, str]) -> list[tuple[str, int]]:
    try:
        return storage.list_files(pattern, options)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise InputError(f"cannot list input {pattern}: {_one_line(err)}") from None


def _exists(path: str, options: dict[str, str]) -> bool:
    try:
        return storage.exists(path, options)
    except OSError as err:
        raise InputError(f"cannot reach input {path}: {_one_line(err)}") from None


def _read_first_bytes(path: str, options: dict[str, str]) -> None:
    try:
        with storage.open_input(path, options, buffer_size=1 << 16, attempts=2) as handle:
            handle.read(PROBE_BYTES)
    except OSError as err:
        raise InputError(f"input unreadable: {path}: {_one_line(err)}") from None


def _openable(uri: str, options: dict[str, str]) -> bool:
    """Whether pyarrow has a filesystem for `uri` here (no request is made)."""
    try:
        storage.filesystem(uri, options)
        return True
    except (OSError, ValueError, ImportError):   # e.g. hdfs:// without libhdfs; ArrowInvalid is a ValueError
        return False


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[{")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]
