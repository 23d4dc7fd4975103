"""Input and output files, local or on any Hadoop-style URI: listing, formats, opening, small writes.

The driver only lists paths (`pipeline.spark.expand_inputs`); each task opens its own files
with `open_input`, so no record ever travels through the driver. Opening and writing go through
pipeline/storage.py, the one place that builds filesystems, buffers and retries.
"""
from __future__ import annotations

import glob
import os
import re
from typing import BinaryIO, Mapping

from pipeline import storage

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz", ".wat", ".wat.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
_CRAWL_ID = re.compile(r"CC-(?:MAIN|NEWS)-\d{4}-\d{2}")


class InputError(ValueError):
    """A path the user gave cannot be used; the message names it."""


def input_format(path: str) -> str | None:
    """'warc', 'jsonl' or 'parquet' from the file name, None when unknown."""
    name = path.lower().rsplit("/", 1)[-1]
    for fmt, suffixes in (("warc", WARC_SUFFIXES), ("jsonl", JSONL_SUFFIXES), ("parquet", PARQUET_SUFFIXES)):
        if name.endswith(suffixes):
            return fmt
    return None


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def source_label(path: str, configured: str) -> str:
    """The document `source`: the configured label, or with `auto` the Common Crawl crawl id."""
    if configured != "auto":
        return configured
    match = _CRAWL_ID.search(path)
    if match:
        return f"cc/{match.group(0)}"
    return "web" if input_format(path) == "warc" else "text"


def expand_local(patterns: list[str]) -> list[str]:
    """Files matched by local paths, directories (walked) and globs, sorted and de-duplicated.
    Raises InputError naming the first pattern that matches nothing."""
    found: list[str] = []
    for pattern in patterns:
        local = pattern[len("file://"):] if pattern.startswith("file://") else pattern
        matches = sorted(glob.glob(local, recursive=True)) if glob.has_magic(local) else \
            ([local] if os.path.exists(local) else [])
        if not matches:
            raise InputError(f"input not found: {pattern}" if not glob.has_magic(local)
                             else f"input glob matches no file: {pattern}")
        files = [f for m in matches for f in (_walk(m) if os.path.isdir(m) else [m])]
        if not files:
            raise InputError(f"input has no readable files: {pattern}")
        found.extend(os.path.abspath(f) for f in files)
    return sorted(set(found))


def check_local_inputs(patterns: list[str]) -> None:
    """Raise InputError for a local input that is missing, empty or of unknown format."""
    local = [p for p in patterns if not is_remote(p)]
    if local:
        check_formats(expand_local(local))


def check_formats(paths: list[str]) -> None:
    unknown = [p for p in paths if input_format(p) is None]
    if unknown:
        raise InputError(f"cannot tell the format of {unknown[0]}"
                         f"{f' (and {len(unknown) - 1} more)' if len(unknown) > 1 else ''}: expected one of "
                         f"{', '.join(WARC_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES)}")


def open_input(path: str, options: Mapping[str, str] | None = None) -> BinaryIO:
    """A buffered, seekable binary file for a local path or a URI (s3://, s3a://, gs://, hdfs://...).
    Remote reads are retried on transient errors (pipeline/storage.py); what stays unreadable raises
    an OSError naming the file. `options`: storage settings (`storage.storage_options`), else the
    process's defaults."""
    return storage.open_input(path, options)


def write_text(path: str, text: str, options: Mapping[str, str] | None = None) -> None:
    """Write a small file (stats, config) next to Spark's output, locally or on a URI. Local files
    are written beside and renamed into place."""
    storage.write_bytes(path, text.encode("utf-8"), options)


def staging_path(path: str) -> str:
    """`<parent>/_staging.<name>`, where a stage writes before it commits: the leading underscore
    hides it from Hadoop and pyarrow listings of the parent."""
    parent, _, name = path.rstrip("/").rpartition("/")
    return f"{parent}/_staging.{name}" if parent else f"_staging.{name}"


def read_text(path: str, options: Mapping[str, str] | None = None) -> str | None:
    """A small file written by write_text, or None when it does not exist. Other errors (after the
    storage retries) propagate: 'unreadable' must not pass for 'absent'."""
    try:
        return storage.read_bytes(path, options).decode("utf-8")
    except FileNotFoundError:
        return None


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def _walk(directory: str) -> list[str]:
    # Spark's own markers (_SUCCESS, .crc files) are not inputs.
    return [os.path.join(root, name)
            for root, dirs, names in os.walk(directory)
            for name in sorted(names)
            if not name.startswith(("_", "."))]
