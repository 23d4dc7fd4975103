"""Bytes of a web page -> str, robust to missing, wrong and lying charset declarations."""
from __future__ import annotations

import codecs
import re

from resiliparse.parse.encoding import detect_encoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_SNIFF_BYTES = 4096
# Control bytes that do not occur in text: below TAB, and between CR and space (ESC included).
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


def decode_html(payload: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode `payload`; returns (text, charset used).

    Order: valid UTF-8 wins (a declared legacy charset on valid UTF-8 bytes is almost always a
    lie), then the HTTP header charset and the <meta> charset if they decode without error,
    then statistical detection, then UTF-8 with replacement characters.
    """
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for declared in (header_charset, _meta_charset(payload)):
        codec = _codec_name(declared)
        if codec and codec != "utf-8":
            try:
                return payload.decode(codec), codec
            except (UnicodeDecodeError, LookupError):
                continue
    detected = _codec_name(detect_encoding(payload))
    if detected:
        try:
            return payload.decode(detected), detected
        except (UnicodeDecodeError, LookupError):
            pass
    return payload.decode("utf-8", "replace"), "utf-8-replace"


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return match.group(1) if match else None


def looks_binary(payload: bytes) -> bool:
    """Binary junk served as text: NUL bytes or many non-text control bytes at the start."""
    head = payload[:_SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))   # in C: a per-byte loop cost ~0.5 ms a page
    return controls > len(head) * 0.05


def _meta_charset(payload: bytes) -> str | None:
    match = _META_CHARSET.search(payload[:_SNIFF_BYTES])
    return match.group(1).decode("ascii", "ignore") if match else None


def _codec_name(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    # WHATWG: pages labelled latin-1/ascii are decoded as windows-1252 by every browser.
    if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        name = "cp1252"
    if name in ("gb2312", "gbk"):
        name = "gb18030"  # a superset: pages labelled gb2312 routinely use GBK characters
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None
