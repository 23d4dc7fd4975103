"""Input and output files, local or on any Hadoop-style URI: listing, formats, opening, small writes.

The driver only lists paths (`pipeline.spark.expand_inputs`); each task opens its own files
with `open_input`, so no record ever travels through the driver.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import BinaryIO

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz", ".wat", ".wat.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
_CRAWL_ID = re.compile(r"CC-(?:MAIN|NEWS)-\d{4}-\d{2}")
# s3a:// and s3n:// are Hadoop's names for what pyarrow calls s3://.
_PYARROW_SCHEMES = {"s3a": "s3", "s3n": "s3"}


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


def open_input(path: str) -> BinaryIO:
    """A seekable binary file for a local path or a URI (s3://, s3a://, gs://, hdfs://...)."""
    if not is_remote(path):
        return open(path[len("file://"):] if path.startswith("file://") else path, "rb")
    import pyarrow.fs

    scheme, rest = path.split("://", 1)
    uri = f"{_PYARROW_SCHEMES.get(scheme, scheme)}://{rest}"
    filesystem, inner = pyarrow.fs.FileSystem.from_uri(uri)
    return filesystem.open_input_file(inner)


def write_text(path: str, text: str) -> None:
    """Write a small file (stats, config) next to Spark's output, locally or on a URI."""
    if not is_remote(path):
        local = Path(path[len("file://"):] if path.startswith("file://") else path)
        local.parent.mkdir(parents=True, exist_ok=True)
        temporary = local.with_name(local.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(local)
        return
    import pyarrow.fs

    scheme, rest = path.split("://", 1)
    filesystem, inner = pyarrow.fs.FileSystem.from_uri(f"{_PYARROW_SCHEMES.get(scheme, scheme)}://{rest}")
    with filesystem.open_output_stream(inner) as stream:
        stream.write(text.encode("utf-8"))


def staging_path(path: str) -> str:
    """`<parent>/_staging.<name>`, where a stage writes before it commits: the leading underscore
    hides it from Hadoop and pyarrow listings of the parent."""
    parent, _, name = path.rstrip("/").rpartition("/")
    return f"{parent}/_staging.{name}" if parent else f"_staging.{name}"


def read_text(path: str) -> str | None:
    """A small file written by write_text, or None when it does not exist."""
    try:
        with open_input(path) as fh:
            return fh.read().decode("utf-8")
    except (FileNotFoundError, OSError):
        return None


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def _walk(directory: str) -> list[str]:
    # Spark's own markers (_SUCCESS, .crc files) are not inputs.
    return [os.path.join(root, name)
            for root, dirs, names in os.walk(directory)
            for name in sorted(names)
            if not name.startswith(("_", "."))]
