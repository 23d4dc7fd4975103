"""Resilient WARC/ARC/WET reading: every record comes out, readable or as a counted rejection.

warcio parses records; when a record cannot be parsed (a corrupt gzip member, a lying
Content-Length, a truncated file), this reader reports one `malformed_record` for the damaged
region and resumes at the next gzip member or `WARC/` header, so the records after the damage
are kept too.

Damage is about bytes that were read. When the file itself cannot be read (the storage raises
`pipeline.storage.ReadError` after its retries: a dropped connection, throttling, a vanished
file), nothing is known about the records there: the error propagates and fails the task, which
Spark retries; counting it as damage would drop those records silently.
"""
from __future__ import annotations

import zlib
from typing import BinaryIO, Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeadersParser

from pipeline.extract.records import InputRecord, parse_timestamp
from pipeline.storage import ReadError

HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_SCAN_CHUNK = 1 << 20
_RECORD_STARTS = (b"WARC/", b"filedesc://", b"http://", b"https://")


def iter_warc(fh: BinaryIO, input_file: str, max_payload: int) -> Iterator[InputRecord]:
    gzipped = fh.read(2) == _GZIP_MAGIC[:2]
    start = 0
    damaged = False  # merge consecutive failures into one damaged region
    while start is not None:
        fh.seek(start)
        iterator = ArchiveIterator(fh, arc2warc=True)
        checked = _LengthChecked(iterator)
        try:
            for record in iterator:
                item = _to_input_record(record, iterator, input_file, max_payload)
                yield from checked.release()
                checked.hold(item)
                damaged = False
            yield from checked.release()
            return
        except ReadError:
            raise  # the storage could not deliver the bytes: an I/O failure, not damage (fails the task)
        except Exception as err:  # warcio, zlib and EOF errors on bytes that were read: 'damaged here'
            yield from checked.release()
            failed_at = max(iterator.offset, start)
            if not damaged:
                yield InputRecord(input_file=input_file, record_id=f"{input_file}@{failed_at}",
                                  reason="malformed_record", detail=f"offset {failed_at}: {_describe(err)}")
            damaged = True
            start = _next_record_start(fh, failed_at + 1, gzipped)
        finally:
            iterator.close()


class _LengthChecked:
    """Holds each record back until warcio has read past it.

    warcio notices a Content-Length that is too short only when it looks for the next record
    (it finds bytes where a blank line should be, warns and counts an error). The record held
    back is then rejected as malformed instead of being kept with a silently truncated payload.
    """

    def __init__(self, iterator: ArchiveIterator):
        self.iterator = iterator
        self.item: InputRecord | None = None
        self.errors = iterator.err_count

    def hold(self, item: InputRecord) -> None:
        self.item = item
        self.errors = self.iterator.err_count

    def release(self) -> Iterator[InputRecord]:
        item, self.item = self.item, None
        if item is None:
            return
        if self.iterator.err_count > self.errors:
            item.reason = "malformed_record"
            item.detail = "Content-Length does not match the record: bytes left over before the next record"
            item.html = item.text = None
        yield item


def _to_input_record(record, iterator: ArchiveIterator, input_file: str, max_payload: int) -> InputRecord:
    headers = record.rec_headers
    item = InputRecord(
        input_file=input_file,
        record_id=headers.get_header("WARC-Record-ID") or f"{input_file}@{iterator.offset}",
        url=headers.get_header("WARC-Target-URI"),
        fetched_at=parse_timestamp(headers.get_header("WARC-Date")),
    )
    if record.rec_type == "conversion":  # WET: the crawler's own plain-text extraction
        body = _read_capped(record, max_payload)
        if body is None:
            item.reason, item.detail = "too_large", f"> {max_payload} bytes"
        else:
            item.text = body.decode("utf-8", "replace")
            item.payload_bytes = len(body)
        return item
    if record.rec_type != "response":
        item.reason, item.detail = "not_response", record.rec_type
        return item
    http = record.http_headers
    if http is None and record.length and (item.url or "").lower().startswith(("http:", "https:")):
        http = record.http_headers = _parse_http_headers(record)  # warcio skips non-lowercase schemes
    if http is None:
        item.reason, item.detail = "malformed_record", "response record without HTTP headers"
        return item
    status = http.get_statuscode()
    if status != "200":
        item.reason, item.detail = "http_status", status
        return item
    content_type = (http.get_header("Content-Type") or "").lower()
    mime = content_type.split(";")[0].strip()
    if mime and mime not in HTML_TYPES:
        item.reason, item.detail = "not_html", mime
        return item
    if record.length is not None and record.length > max_payload:
        item.reason, item.detail = "too_large", f"{record.length} bytes"
        return item
    body = _read_capped(record, max_payload)
    if body is None:
        item.reason, item.detail = "too_large", f"> {max_payload} bytes after decoding"
        return item
    item.html = body
    item.payload_bytes = len(body)
    item.charset_hint = _charset(content_type)
    return item


def _parse_http_headers(record):
    try:
        return StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0"]).parse(record.raw_stream)
    except ReadError:
        raise
    except Exception:
        return None


def _read_capped(record, max_payload: int) -> bytes | None:
    """The decoded payload, None if over the cap; raises if the record is cut short."""
    body = record.content_stream().read(max_payload + 1)
    if len(body) > max_payload:
        return None
    remaining = getattr(record.raw_stream, "limit", 0)
    if remaining and not record.raw_stream.read(1):
        raise EOFError(f"record truncated: {remaining} bytes of its Content-Length missing")
    return body


def _charset(content_type: str) -> str | None:
    from pipeline.extract.charset import charset_from_content_type

    return charset_from_content_type(content_type)


def _next_record_start(fh: BinaryIO, position: int, gzipped: bool) -> int | None:
    """Offset of the next plausible record start at or after `position`, None at end of file."""
    marker = _GZIP_MAGIC if gzipped else b"WARC/"
    while True:
        fh.seek(position)
        chunk = fh.read(_SCAN_CHUNK + len(marker))
        if len(chunk) < len(marker):
            return None
        found = chunk.find(marker)
        if found < 0:
            position += _SCAN_CHUNK
            continue
        candidate = position + found
        if _plausible_start(fh, candidate, gzipped):
            return candidate
        position = candidate + 1


def _plausible_start(fh: BinaryIO, offset: int, gzipped: bool) -> bool:
    # Compressed data can contain the gzip magic by chance; a real member inflates to a header.
    if not gzipped:
        return True
    fh.seek(offset)
    try:
        head = zlib.decompressobj(31).decompress(fh.read(4096), 64)
    except zlib.error:
        return False
    return head.startswith(_RECORD_STARTS)


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"[:300]
