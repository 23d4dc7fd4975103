"""JSONL (.gz, .zst) and Parquet inputs that already carry text: they skip HTML extraction.

Recognised fields: `text` (required), and optionally `id`, `url`, `source` and one of
`fetched_at`, `date`, `timestamp`. A line that is not UTF-8 is a `decode_error`; one that is not
a JSON object with a string `text` is a `malformed_record`; blank lines are not records.
"""
from __future__ import annotations

import gzip
import io
import json
from typing import BinaryIO, Iterator

from pipeline.records import InputRecord, parse_timestamp

_TIME_FIELDS = ("fetched_at", "date", "timestamp")
_PARQUET_COLUMNS = ("text", "id", "url", "source") + _TIME_FIELDS


def iter_jsonl(fh: BinaryIO, input_file: str) -> Iterator[InputRecord]:
    stream = _decompressed(fh, input_file)
    line_number = 0
    try:
        for line_number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield _jsonl_record(raw, input_file, line_number)
    except (EOFError, OSError, ValueError) as err:  # truncated or corrupt compression
        yield InputRecord(input_file=input_file, record_id=f"{input_file}:{line_number + 1}",
                          reason="malformed_record", detail=f"after line {line_number}: {type(err).__name__}: {err}"[:300])


def iter_parquet(fh: BinaryIO, input_file: str) -> Iterator[InputRecord]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(fh)
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
