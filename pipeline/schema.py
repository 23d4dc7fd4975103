"""The document contract (docs/architecture.md): one Arrow schema every stage reads and writes."""
from __future__ import annotations

import hashlib

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

DOCUMENT_FIELDS = [
    pa.field("id", pa.string()),            # hash of (source, url, record id): stable across runs
    pa.field("url", pa.string()),           # normalised URL; null for non-web sources
    pa.field("domain", pa.string()),        # registered domain
    pa.field("source", pa.string()),        # e.g. cc/CC-MAIN-2024-10, web, wiki
    pa.field("fetched_at", TIMESTAMP),      # crawl time
    pa.field("text", pa.string()),          # extracted text, UTF-8, NFC
    pa.field("lang", pa.string()),          # fastText label; und = too short, zxx = no linguistic content
    pa.field("lang_score", pa.float32()),
]

# What the extract stage adds: where each document came from, and why a record was rejected.
EXTRACT_FIELDS = [
    pa.field("input_file", pa.string()),
    pa.field("record_id", pa.string()),     # WARC-Record-ID, or file:line for JSONL
    pa.field("extract__html_bytes", pa.int64()),
    pa.field("extract__charset", pa.string()),
    pa.field("drop_reason", pa.string()),   # null for kept documents
    pa.field("drop_detail", pa.string()),   # the error or value behind the reason, for debugging
]

EXTRACT_SCHEMA = pa.schema(DOCUMENT_FIELDS + EXTRACT_FIELDS)


def document_id(source: str, url: str | None, record_id: str | None) -> str:
    key = "\x1f".join((source or "", url or "", record_id or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()
