"""What a reader yields: one InputRecord per record in a file, readable or not."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class InputRecord:
    """A record as found in an input file, before extraction.

    Exactly one of `html` (bytes to extract), `text` (already plain text) or `reason` (rejected
    by the reader: malformed_record, not_response, not_html, http_status, too_large) is set.
    """
    input_file: str
    record_id: str
    url: str | None = None
    fetched_at: dt.datetime | None = None
    source: str | None = None          # per-record source (JSONL/Parquet column); else the file's
    html: bytes | None = None
    charset_hint: str | None = None    # from the HTTP Content-Type header
    text: str | None = None
    reason: str | None = None
    detail: str | None = None
    payload_bytes: int | None = None


def parse_timestamp(value) -> dt.datetime | None:
    """WARC-Date / JSON date strings -> aware UTC datetime; None if absent or unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
