"""JSONL (.gz, .zst) and Parquet inputs that already carry text: they skip HTML extraction.

Recognised fields: `text` (required), and optionally `id`, `url`, `source` and one of
`fetched_at`, `date`, `timestamp`. A line that is not UTF-8 is a `decode_error`; one that is not
a JSON object with a string `text` is a `malformed_record`; blank lines are not records. A file
that cannot be read (`pipeline.storage.ReadError`) is not damage: the error propagates.
"""
from __future__ import annotations

import gzip
import io
import json
from typing import BinaryIO, Iterator

from pipeline.extract.records import InputRecord, parse_timestamp
from pipeline.storage import ReadError

_TIME_FIELDS = ("fetched_at", "date", "timestamp")
_PARQUET_COLUMNS = ("text", "id", "url", "source") + _TIME_FIELDS


_SKIP_CHUNK = 1 << 20


def iter_jsonl(fh: BinaryIO, input_file: str, max_bytes: int | None = None) -> Iterator[InputRecord]:
    """Records of a JSONL file; a line over `max_bytes` is `too_large`, skipped without being held."""
    stream = _decompressed(fh, input_file)
    line_number = 0
    try:
        for line_number, raw in enumerate(_lines(stream, max_bytes), start=1):
            if raw is None:
                yield InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number}",
                                  reason="too_large", detail=f"line {line_number}: > {max_bytes} bytes")
            elif raw.strip():
                yield _jsonl_record(raw, input_file, line_number)
    except ReadError:
        raise  # the file could not be read: not damage, fails the task (pipeline/storage.py)
    except (EOFError, OSError, ValueError) as err:  # truncated or corrupt compression
        yield InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number + 1}",
                          reason="malformed_record", detail=f"after line {line_number}: {type(err).__name__}: {err}"[:300])


def _lines(stream, max_bytes: int | None) -> Iterator[bytes | None]:
    """The lines of `stream`, None in place of each line longer than `max_bytes` (read past in chunks)."""
    if not max_bytes:
        yield from stream
        return
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or line.endswith(b"\n") and len(line) == max_bytes + 1:
            yield line
            continue
        while not line.endswith(b"\n"):
            line = stream.readline(_SKIP_CHUNK)
            if not line:
                break
        yield None


def iter_parquet(fh: BinaryIO, input_file: str, max_bytes: int | None = None) -> Iterator[InputRecord]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(fh)
    except ReadError:
        raise
    except Exception as err:
        yield InputRecord(input_file=input_file, record_id=f"{input_file}:0", reason="malformed_record",
                          detail=f"unreadable Parquet file: {err}"[:300])
        return
    names = set(parquet.schema_arrow.names)
    if "text" not in names:
        yield InputRecord(input_file=input_file, record_id=f"{input_file}:0", reason="malformed_record",
                          detail=f"no 'text' column (columns: {', '.join(sorted(names))})"[:300])
        return
    columns = [c for c in _PARQUET_COLUMNS if c in names]
    row_number = 0
    for batch in parquet.iter_batches(columns=columns, batch_size=4096):
        for row in batch.to_pylist():
            row_number += 1
            text = row.get("text")
            if max_bytes and isinstance(text, str) and len(text) > max_bytes // 4 \
                    and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
                yield InputRecord(input_file=input_file, record_id=str(row.get("id") or f"{input_file}:{row_number}"),
                                  reason="too_large", detail=f"row {row_number}: text > {max_bytes} bytes")
            else:
                yield _text_record(row, input_file, row_number)


def _jsonl_record(raw: bytes, input_file: str, line_number: int) -> InputRecord:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number}",
                           reason="decode_error", detail=f"line {line_number}: not UTF-8 ({err.reason} at byte {err.start})")
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        return InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number}",
                           reason="malformed_record", detail=f"line {line_number}: {type(err).__name__}: {err}"[:300])
    if not isinstance(value, dict):
        return InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number}",
                           reason="malformed_record", detail=f"line {line_number}: not a JSON object")
    return _text_record(value, input_file, line_number)


def _text_record(row: dict, input_file: str, number: int) -> InputRecord:
    record_id = str(row.get("id") or f"{input_file}:{number}")
    text = row.get("text")
    if not isinstance(text, str):
        return InputRecord(input_file=input_file, record_id=record_id, reason="malformed_record",
                           detail=f"record {number}: 'text' missing or not a string")
    fetched = next((row[f] for f in _TIME_FIELDS if row.get(f) is not None), None)
    url = row.get("url")
    source = row.get("source")
    return InputRecord(input_file=input_file, record_id=record_id, text=text,
                       url=url if isinstance(url, str) else None,
                       source=source if isinstance(source, str) else None,
                       fetched_at=parse_timestamp(fetched), payload_bytes=len(text))


def _decompressed(fh: BinaryIO, input_file: str) -> io.BufferedIOBase:
    name = input_file.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=fh)
    if name.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
    return fh
