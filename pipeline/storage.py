"""Every file the pipeline reads or writes outside Spark's own readers goes through here: local paths
and object-store URIs, opened with pyarrow and configured from the same `fs.s3a.*` settings Spark uses.

Why one place:
- pyarrow does not read Hadoop's configuration, so without this module executors would not see the
  endpoint and credentials given with `--conf spark.hadoop.fs.s3a.*` (they would reject every file).
- readers such as warcio ask for 16 KiB at a time; on an object store every unbuffered read is a
  ranged GET. `open_input` puts a several-MB buffer in front, so a 1 GB WARC costs ~130 GETs, not 65,000.
- object stores fail transiently (throttling, reset connections, stalled reads). `open_input` retries
  those with exponential backoff, re-opening at the offset it had reached, and counts each retry
  (`retry_count()`) so a stage can report them. What still fails after the retries raises an `OSError`
  naming the file: the task fails, Spark retries it, and in the end the job fails. Nothing is dropped.

Settings (`storage_options` picks them out of a Spark conf; `fs.s3a.` and `spark.hadoop.fs.s3a.` keys both work):
  fs.s3a.endpoint, .endpoint.region, .access.key, .secret.key, .session.token,
  .path.style.access, .connection.ssl.enabled           -> pyarrow.fs.S3FileSystem
  fs.s3a.connection.establish.timeout, .connection.timeout -> connect / request timeouts
  fs.s3a.retry.limit (retries after the first try, default 4), fs.s3a.retry.interval (base delay,
  default 500ms): the read retries below. Durations take Hadoop's forms ("500ms", "2s", "1m", or ms).
Unset settings fall back to pyarrow's defaults (AWS_* environment variables, ~/.aws, instance metadata).

Who retries what: reads (`open_input`, `read_bytes`) are retried here, on an S3 client whose own
retries are off, so every retry is counted. Writes and metadata calls (`open_output`, `list_files`,
`exists`, ...) use the S3 client's standard retry strategy: a multipart upload cannot be replayed
from here. `write_bytes` (small files) is retried whole.

On the driver, `configure()` sets the process's default settings (pipeline.spark.build_session calls
it); executors receive the settings in the run config (`config.spark.conf`) and pass them explicitly.
Ground floor: pyarrow only.
"""
from __future__ import annotations

import io
import os
import random
import re
import threading
import time
from typing import BinaryIO, Mapping

import pyarrow.fs as pafs

# Hadoop key suffixes (after `fs.s3a.`) this module understands.
S3A_KEYS = ("endpoint", "endpoint.region", "access.key", "secret.key", "session.token", "path.style.access",
            "connection.ssl.enabled", "connection.establish.timeout", "connection.timeout",
            "retry.limit", "retry.interval")
SECRET_KEYS = ("fs.s3a.access.key", "fs.s3a.secret.key", "fs.s3a.session.token")
_S3_SCHEMES = ("s3", "s3a", "s3n")
DEFAULT_BUFFER = 8 << 20
DEFAULT_ATTEMPTS = 5
DEFAULT_BASE_DELAY_S = 0.5      # then 1, 2, 4 s (with jitter): ~7 s of patience before a task fails
_MAX_DELAY_S = 10.0

# Errors that another try cannot fix: fail at once (the task still fails with the file named).
_PERMANENT_TYPES = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
_PERMANENT_MARKERS = ("is a directory", "ACCESS_DENIED", "NO_SUCH", "NoSuchKey", "NoSuchBucket", "InvalidAccessKeyId",
                      "SignatureDoesNotMatch", "Path does not exist", "HTTP status 400", "HTTP status 401",
                      "HTTP status 403", "HTTP status 404", "HTTP status 416")

_lock = threading.Lock()
_retries = 0
_defaults: dict[str, str] = {}
_filesystems: dict[tuple, pafs.FileSystem] = {}


# ---------------------------------------------------------------------------------------------------
# Settings and filesystems


def storage_options(spark_conf: Mapping[str, str] | None) -> dict[str, str]:
    """The storage settings in a Spark conf (or in a mapping already returned by this function),
    keyed by their Hadoop names (`fs.s3a.endpoint`, ...)."""
    found: dict[str, str] = {}
    for key, value in (spark_conf or {}).items():
        name = key[len("spark.hadoop."):] if key.startswith("spark.hadoop.") else key
        if name.startswith("fs.s3a.") and name[len("fs.s3a."):] in S3A_KEYS and value is not None:
            found[name] = str(value)
    return found


def redacted(options: Mapping[str, str]) -> dict[str, str]:
    """`options` with credentials replaced by `***`, for logs and written configs."""
    return {k: ("***" if any(k.endswith(s) for s in SECRET_KEYS) else v) for k, v in options.items()}


def configure(options: Mapping[str, str] | None) -> None:
    """Default settings for calls in this process that pass no `options` (the driver's)."""
    global _defaults
    _defaults = storage_options(options)


def filesystem(uri: str, options: Mapping[str, str] | None = None) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path inside it) for a local path, file:// or any URI pyarrow knows.
    S3 filesystems (s3://, s3a://, s3n://) are built from `options` and cached per process."""
    return _filesystem(uri, options, client_retries=True)


def _filesystem(uri: str, options: Mapping[str, str] | None, client_retries: bool):
    scheme, rest = _split(uri)
    if scheme is None:
        return pafs.LocalFileSystem(), os.path.abspath(rest)
    if scheme in _S3_SCHEMES:
        settings = storage_options(options if options is not None else _defaults)
        key = ("s3", client_retries, tuple(sorted(settings.items())))
        with _lock:
            if key not in _filesystems:
                _filesystems[key] = _s3(settings, client_retries)
        return _filesystems[key], rest
    return pafs.FileSystem.from_uri(uri)


def _s3(settings: Mapping[str, str], client_retries: bool) -> pafs.S3FileSystem:
    endpoint = settings.get("fs.s3a.endpoint") or None
    ssl = settings.get("fs.s3a.connection.ssl.enabled", "true").strip().lower() != "false"
    if endpoint and "://" in endpoint:               # Hadoop accepts http://host:port as the endpoint
        prefix, endpoint = endpoint.split("://", 1)
        ssl = prefix.lower() == "https"
    kwargs = dict(access_key=settings.get("fs.s3a.access.key") or None,
                  secret_key=settings.get("fs.s3a.secret.key") or None,
                  session_token=settings.get("fs.s3a.session.token") or None,
                  region=settings.get("fs.s3a.endpoint.region") or None,
                  endpoint_override=endpoint.rstrip("/") if endpoint else None,
                  scheme="https" if ssl else "http",
                  retry_strategy=pafs.AwsStandardS3RetryStrategy(
                      max_attempts=_attempts(settings) if client_retries else 1))
    path_style = settings.get("fs.s3a.path.style.access")
    if path_style is not None:
        # Hadoop's meaning. Unset, pyarrow's rule applies: virtual hosts on AWS, path style on a custom endpoint.
        kwargs["force_virtual_addressing"] = path_style.strip().lower() != "true"
    for name, setting in (("connect_timeout", "fs.s3a.connection.establish.timeout"),
                          ("request_timeout", "fs.s3a.connection.timeout")):
        if settings.get(setting):
            kwargs[name] = _seconds(settings[setting])
    return pafs.S3FileSystem(**kwargs)


# ---------------------------------------------------------------------------------------------------
# Reading, with retries


def retry_count() -> int:
    """Transient read errors retried by this process so far."""
    return _retries


class ReadError(OSError):
    """A file could not be read (after the retries): an I/O failure, not damage in its bytes.
    Readers that turn damaged bytes into counted rejections let this one through."""


def open_input(uri: str, options: Mapping[str, str] | None = None, buffer_size: int = DEFAULT_BUFFER,
               attempts: int | None = None) -> BinaryIO:
    """A buffered, seekable binary reader for a local path or URI, retrying transient errors.

    Opening raises FileNotFoundError / PermissionError / IsADirectoryError, or ReadError, each naming
    the file; a read that still fails after the retries raises ReadError naming the file."""
    settings = storage_options(options if options is not None else _defaults)
    raw = _RetryingFile(uri, settings, attempts or _attempts(settings), _base_delay(settings))
    # Local disks read ahead in the kernel: a 1 MB buffer is plenty. Remote, each refill is a GET.
    return io.BufferedReader(raw, buffer_size if _split(uri)[0] else min(buffer_size, 1 << 20))


def read_bytes(uri: str, options: Mapping[str, str] | None = None) -> bytes:
    """A whole (small) file. FileNotFoundError when it does not exist."""
    with open_input(uri, options) as fh:
        return fh.read()


class _RetryingFile(io.RawIOBase):
    """A pyarrow input file that survives transient errors: each failed open or read is retried
    after a backoff, re-opening the file at the offset reached (a read has no side effects)."""

    def __init__(self, uri: str, settings: Mapping[str, str], attempts: int, base_delay_s: float):
        super().__init__()
        self.name = uri
        self._uri, self._settings = uri, settings
        self._attempts, self._base_delay_s = max(1, attempts), base_delay_s
        self._position = 0
        self._file = None
        self._retrying(self._open, "open")
        self._size = self._file.size()

    def _open(self):
        fs, path = _filesystem(self._uri, self._settings, client_retries=False)
        self._file = fs.open_input_file(path)   # one HEAD request (size), then ranged GETs
        if self._position:
            self._file.seek(self._position)

    def _retrying(self, action, what: str):
        for attempt in range(1, self._attempts + 1):
            try:
                return action()
            except OSError as err:
                if _permanent(err) or attempt == self._attempts:
                    tries = f" after {attempt} tries" if attempt > 1 else ""
                    # At open, FileNotFoundError & co. keep their type (callers test for them).
                    kind = type(err) if what == "open" and isinstance(err, _PERMANENT_TYPES) else ReadError
                    raise kind(f"cannot {what} {self._uri}{tries}: {err}") from err
                _count_retry()
                self._close_file()
                time.sleep(_backoff(self._base_delay_s, attempt))
                if what == "read":
                    self._open_quietly()

    def _open_quietly(self):
        # A failed re-open is retried by the next round of the read loop (self._file stays None).
        try:
            self._open()
        except OSError:
            self._file = None

    def readinto(self, buffer) -> int:
        if self._position >= self._size:
            return 0

        def read():
            if self._file is None:
                self._open()
            data = self._file.read(len(buffer))
            if not data and self._position < self._size:
                raise OSError(f"unexpected end of data at offset {self._position} of {self._size}")
            return data

        data = self._retrying(read, "read")
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        # RawIOBase.readall reads 8 KiB at a time: one request each. Read the rest in large pieces.
        chunks = []
        while self._position < self._size:
            piece = bytearray(min(self._size - self._position, 64 << 20))
            count = self.readinto(piece)
            if not count:
                break
            chunks.append(bytes(piece[:count]))
        return b"".join(chunks)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        if self._file is not None:
            try:
                self._file.seek(self._position)
            except OSError:
                self._close_file()   # re-opened at the new offset by the next read
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _close_file(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    def close(self):
        self._close_file()
        super().close()


def _permanent(err: OSError) -> bool:
    text = str(err)
    return isinstance(err, _PERMANENT_TYPES) or any(marker in text for marker in _PERMANENT_MARKERS)


def _count_retry() -> None:
    global _retries
    with _lock:
        _retries += 1


def _backoff(base_delay_s: float, attempt: int) -> float:
    # Exponential with jitter, so the tasks throttled together do not come back together.
    return min(_MAX_DELAY_S, base_delay_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _attempts(settings: Mapping[str, str]) -> int:
    limit = settings.get("fs.s3a.retry.limit")
    return int(limit) + 1 if limit else DEFAULT_ATTEMPTS


def _base_delay(settings: Mapping[str, str]) -> float:
    interval = settings.get("fs.s3a.retry.interval")
    return _seconds(interval) if interval else DEFAULT_BASE_DELAY_S


_DURATION = re.compile(r"^\s*([0-9.]+)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)


def _seconds(value: str) -> float:
    """Hadoop durations: '500ms', '2s', '1m', '1h', or a bare number of milliseconds."""
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (expected e.g. 500ms, 2s)")
    number, unit = float(match.group(1)), (match.group(2) or "ms").lower()
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


# ---------------------------------------------------------------------------------------------------
# Writing and metadata


def open_output(uri: str, options: Mapping[str, str] | None = None):
    """A binary output stream; parent directories are created for local paths. On object stores
    the object appears only when the stream is closed."""
    fs, path = filesystem(uri, options)
    if isinstance(fs, pafs.LocalFileSystem):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return fs.open_output_stream(path)


def write_bytes(uri: str, data: bytes, options: Mapping[str, str] | None = None,
                attempts: int | None = None) -> None:
    """Write a small file whole, retrying transient errors (a rewrite of a small object is idempotent).
    Local files are written beside and renamed, so a reader never sees half of one."""
    scheme, local = _split(uri)
    if scheme is None:
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
        temporary = f"{local}.tmp"
        with open(temporary, "wb") as fh:
            fh.write(data)
        os.replace(temporary, local)
        return
    settings = storage_options(options if options is not None else _defaults)
    tries = attempts or _attempts(settings)
    for attempt in range(1, tries + 1):
        try:
            with open_output(uri, settings) as stream:
                stream.write(data)
            return
        except OSError as err:
            if _permanent(err) or attempt == tries:
                raise OSError(f"cannot write {uri}: {err}") from err
            _count_retry()
            time.sleep(_backoff(_base_delay(settings), attempt))


def exists(uri: str, options: Mapping[str, str] | None = None) -> bool:
    fs, path = filesystem(uri, options)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def makedirs(uri: str, options: Mapping[str, str] | None = None) -> None:
    """Create a directory and its parents (object stores have none: a no-op there, in effect)."""
    fs, path = filesystem(uri, options)
    fs.create_dir(path, recursive=True)


def delete(uri: str, options: Mapping[str, str] | None = None) -> None:
    """Remove a file or a directory tree; nothing to do when it does not exist."""
    fs, path = filesystem(uri, options)
    kind = fs.get_file_info(path).type
    if kind == pafs.FileType.Directory:
        fs.delete_dir(path)
    elif kind != pafs.FileType.NotFound:
        fs.delete_file(path)


def rename(source: str, target: str, options: Mapping[str, str] | None = None) -> None:
    """Move a file or directory (on object stores a copy, then a delete: not atomic)."""
    fs, path = filesystem(source, options)
    target_fs, target_path = filesystem(target, options)
    if type(target_fs) is not type(fs):
        raise OSError(f"cannot rename {source} to {target}: different filesystems")
    fs.move(path, target_path)


def list_files(pattern: str, options: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    """(path, size) of the files a path, directory (walked) or glob names, sorted; paths keep the
    pattern's scheme. Names starting with `_` or `.` (Spark's markers) are skipped inside directories.
    Globs: `*` and `?` within one path segment, `**` across segments, `[abc]`, `{a,b}`."""
    scheme, rest = _split(pattern)
    fs, path = filesystem(pattern, options)
    prefix = f"{scheme}://" if scheme else ""
    magic = _GLOB_MAGIC.search(path)
    if magic is None:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.File:
            return [(prefix + info.path if scheme else info.path, info.size)]
        if info.type == pafs.FileType.NotFound:
            return []
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
        below = [i for i in infos if i.type == pafs.FileType.File
                 and not any(part.startswith(("_", ".")) for part in i.path[len(path):].split("/") if part)]
    else:
        base = path[:magic.start()].rpartition("/")[0]
        regex = re.compile(_glob_regex(path))
        infos = fs.get_file_info(pafs.FileSelector(base or "/", recursive=True, allow_not_found=True))
        below = [i for i in infos if i.type == pafs.FileType.File and regex.fullmatch(i.path)]
    return sorted((prefix + i.path if scheme else i.path, i.size) for i in below)


_GLOB_MAGIC = re.compile(r"[*?\[{]")


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end + 1
            continue
        elif c == "{" and "}" in pattern[i + 1:]:
            end = pattern.index("}", i + 1)
            out.append("(?:" + "|".join(_glob_regex(alt) for alt in pattern[i + 1:end].split(",")) + ")")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _split(uri: str) -> tuple[str | None, str]:
    """(scheme or None for local, the path without scheme); file:// and file:/ are local."""
    if uri.startswith("file://"):
        return None, uri[len("file://"):]
    if uri.startswith("file:/"):
        return None, uri[len("file:"):]
    if "://" in uri:
        scheme, rest = uri.split("://", 1)
        return scheme.lower(), rest
    return None, uri


# ---------------------------------------------------------------------------------------------------
# Local copies of remote models and tokenizers (added for issue 16, item 2: classify.models and
# tokenize.tokenizer may be object-store URIs; fastText and `tokenizers` load from local files only).

CACHE_ENV = "CURATE_CACHE_DIR"
_COMPLETE = ".complete"


def cache_dir() -> str:
    """Where local_copy keeps its copies: $CURATE_CACHE_DIR, else <tmp>/curate-cache. One per
    machine, so every executor (and Python worker) on a node shares one download."""
    import tempfile

    return os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(), "curate-cache")


def local_copy(uri: str, options: Mapping[str, str] | None = None) -> str:
    """A local path holding the file or directory tree at `uri`: the path itself when it is local;
    for a URI a copy fetched once per machine into cache_dir() and reused by every later call, in
    any process. The copy is keyed by the URI and each file's size and modification time (pyarrow
    exposes no ETag; an object rewritten in place gets a new modification time, hence a new copy).
    Concurrent callers may each download, but a copy appears under its key only whole (written
    beside, then renamed): a reader never loads half a model. FileNotFoundError when `uri` names
    nothing; other errors are OSErrors naming it."""
    import hashlib
    import json
    import shutil
    import uuid

    scheme, local = _split(uri)
    if scheme is None:
        return local
    fs, path = filesystem(uri, options)
    path = path.rstrip("/")
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"{uri}: not found")
    if info.type == pafs.FileType.File:
        files = [("", info)]
    else:
        files = sorted(((i.path[len(path) + 1:], i) for i in fs.get_file_info(pafs.FileSelector(path, recursive=True))
                        if i.type == pafs.FileType.File), key=lambda item: item[0])
        if not files:
            raise FileNotFoundError(f"{uri}: an empty directory")
    stamp = [(relative, i.size, i.mtime_ns) for relative, i in files]
    key = hashlib.sha256(json.dumps([uri.rstrip("/"), stamp]).encode()).hexdigest()[:32]
    name = path.rsplit("/", 1)[-1] or "root"
    home = os.path.join(cache_dir(), key)
    if os.path.exists(os.path.join(home, _COMPLETE)):
        return os.path.join(home, name)
    os.makedirs(cache_dir(), exist_ok=True)
    partial = os.path.join(cache_dir(), f".{key}.{uuid.uuid4().hex}")
    try:
        for relative, _ in files:
            target = os.path.join(partial, name, *(relative.split("/") if relative else []))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            source = f"{uri.rstrip('/')}/{relative}" if relative else uri
            with open_input(source, options) as reader, open(target, "wb") as writer:
                shutil.copyfileobj(reader, writer, DEFAULT_BUFFER)
        with open(os.path.join(partial, _COMPLETE), "w", encoding="utf-8") as marker:
            marker.write(json.dumps({"uri": uri, "files": stamp}) + "\n")
        try:
            os.rename(partial, home)
        except OSError:
            if not os.path.exists(os.path.join(home, _COMPLETE)):   # not another process's copy: a real error
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return os.path.join(home, name)
