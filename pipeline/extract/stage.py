"""The extract stage as a batch function: input file paths in, document rows out.

Pure Python and pyarrow (no Spark): `jobs/extract.py` hands it to `mapInArrow`, tests call it
directly. Every record of every file leaves as exactly one row: kept (`drop_reason` null) or
rejected with a reason.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import pyarrow as pa

from pipeline.extract.charset import decode_html, looks_binary
from pipeline.config import RunConfig, dump_yaml
from pipeline.extract.extractors import extract_rows, make_extractor
from pipeline.io import check_local_inputs, input_format, open_input, source_label
from pipeline.extract.langid import LanguageIdentifier
from pipeline.extract.records import InputRecord
from pipeline.schema import EXTRACT_SCHEMA, document_id
from pipeline.storage import retry_count, storage_options
from pipeline.text import clean_text
from pipeline.extract.textfiles import iter_jsonl, iter_parquet
from pipeline.extract.urls import normalize_url, registered_domain
from pipeline.extract.warc import iter_warc

# Share of U+FFFD above which a decoded page is treated as undecodable rather than text.
_MAX_REPLACEMENT_RATIO = 0.1


def check_extract(config: RunConfig) -> None:
    """Before any Spark work: local inputs exist and have a known format."""
    check_local_inputs(config.input)


def extract_batches(batches: Iterable[pa.RecordBatch], config: RunConfig,
                    retries=None, early=()) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: batches with a `paths` (list of files) column -> batches of EXTRACT_SCHEMA.

    A file that cannot be read (after pipeline/storage.py's retries) raises an OSError naming it:
    the task fails and Spark retries it; no record of it is dropped silently. `retries`, when given,
    is a counter with `add(n)` (a Spark accumulator) that receives the storage retries of this task.
    `early`: broadcasts of later stages' checks (url, domain) -> bool (extract.early_drops); a record
    one flags is rejected with its `reason` before extraction.
    """
    workers = _workers(dump_yaml(config), config)
    workers.early = tuple(broadcast.value for broadcast in early)   # loaded once per Python worker
    options = storage_options(config.spark.conf)
    rows: list[dict] = []
    before = retry_count()
    try:
        for batch in batches:
            for path in (p for group in batch.column("paths").to_pylist() for p in group):
                for row in extract_file(path, config, workers, options):
                    rows.append(row)
                    if len(rows) >= config.extract.batch_size:
                        yield _to_batch(rows, workers.langid)
                        rows = []
        if rows:
            yield _to_batch(rows, workers.langid)
    finally:
        if retries is not None:
            retries.add(retry_count() - before)


def extract_file(path: str, config: RunConfig, workers=None, options=None) -> Iterator[dict]:
    """Rows (without language) for every record of one input file."""
    workers = workers or _workers(dump_yaml(config), config)
    source = source_label(path, config.source)
    options = storage_options(config.spark.conf) if options is None else options
    yield from extract_rows((_row(record, source, workers)
                             for record in read_records(path, config.extract.max_html_bytes, options)), workers.extract)


def read_records(path: str, max_payload: int, options=None) -> Iterator[InputRecord]:
    """Every record of one file, readable or as a counted rejection (damaged bytes).

    An I/O failure is not damage: opening or reading errors (OSError, after the storage retries)
    propagate with the file named, so the task fails instead of turning a file into rejections.
    """
    fmt = input_format(path)
    if fmt is None:
        yield InputRecord(input_file=path, record_id=f"{path}:0", reason="malformed_record",
                          detail="unknown input format")
        return
    with open_input(path, options) as fh:
        if fmt == "warc":
            yield from iter_warc(fh, path, max_payload)
        elif fmt == "jsonl":
            yield from iter_jsonl(fh, path, max_payload)
        else:
            yield from iter_parquet(fh, path, max_payload)


class _Workers:
    """Per-process, per-config heavy objects: the extractor and the language-ID model."""

    def __init__(self, config: RunConfig):
        self.extract = make_extractor(config.extract)
        self.langid = LanguageIdentifier(config.langid)
        self.min_text_chars = config.extract.min_text_chars
        self.early: tuple = ()      # later stages' checks, set per task (extract_batches)


_WORKERS: dict[str, _Workers] = {}


def _workers(config_key: str, config: RunConfig) -> _Workers:
    """Keyed by the config's YAML: Spark reuses Python workers, so models load once per worker."""
    if config_key not in _WORKERS:
        _WORKERS.clear()
        _WORKERS[config_key] = _Workers(config)
    return _WORKERS[config_key]


def _row(record: InputRecord, source: str, workers: _Workers) -> dict:
    url = normalize_url(record.url)
    row_source = record.source or source
    row = {
        "id": document_id(row_source, url or record.url, record.record_id),
        "url": url,
        "domain": registered_domain(url),
        "source": row_source,
        "fetched_at": record.fetched_at,
        "text": None,
        "input_file": record.input_file,
        "record_id": record.record_id,
        "extract__html_bytes": len(record.html) if record.html is not None else None,
        "extract__charset": None,
        "drop_reason": record.reason,
        "drop_detail": record.detail,
    }
    if record.reason:
        return row
    for drops in workers.early:
        if drops(url or record.url, row["domain"]):
            row["drop_reason"], row["drop_detail"] = drops.reason, drops.detail
            return row
    if record.html is not None:
        _extract_html(record, row, workers)
    else:
        text = clean_text(record.text or "")
        if len(text) < workers.min_text_chars:
            row["drop_reason"] = "extract_empty"
        else:
            row["text"] = text
    return row


def _extract_html(record: InputRecord, row: dict, workers: _Workers) -> None:
    if not record.html.strip():
        row["drop_reason"] = "extract_empty"
        return
    if looks_binary(record.html):
        row["drop_reason"], row["drop_detail"] = "not_html", "binary payload"
        return
    html, charset = decode_html(record.html, record.charset_hint)
    row["extract__charset"] = charset
    if html.count("\ufffd") > len(html) * _MAX_REPLACEMENT_RATIO:
        row["drop_reason"], row["drop_detail"] = "decode_error", f"undecodable bytes ({charset})"
        return
    row["_html"] = html   # extracted by extract_rows, a chunk of pages per round trip to the sandbox


def _to_batch(rows: list[dict], langid: LanguageIdentifier) -> pa.RecordBatch:
    kept = [i for i, row in enumerate(rows) if row["drop_reason"] is None]
    labels, scores = langid.identify([rows[i]["text"] for i in kept])
    for row in rows:
        row["lang"] = row["lang_score"] = None
    for i, label, score in zip(kept, labels, scores):
        rows[i]["lang"] = label
        rows[i]["lang_score"] = float(score)
    return pa.RecordBatch.from_pylist(rows, schema=EXTRACT_SCHEMA)
