"""Small WARC files built in tests: (kind, url, body, headers) tuples -> a .warc.gz on disk."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def article(title: str, body: str) -> bytes:
    """An HTML page with boilerplate around one article, as a crawler would fetch it."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/contact">Contact</a></nav>
<main><article><h1>{title}</h1>{''.join(f'<p>{p}</p>' for p in body.split(chr(10)) if p)}</article></main>
<footer>Copyright 2024 Example Media. All rights reserved. Privacy policy. Terms of use.</footer>
</body></html>""".encode("utf-8")


def response(url: str, payload: bytes, content_type: str = "text/html; charset=utf-8", status: str = "200 OK",
             date: str = "2024-03-01T10:00:00Z") -> dict:
    return {"type": "response", "url": url, "payload": payload, "content_type": content_type,
            "status": status, "date": date}


def request(url: str) -> dict:
    return {"type": "request", "url": url, "payload": b"", "date": "2024-03-01T10:00:00Z"}


def write_warc(path: Path, records: list[dict], gzip: bool = True) -> Path:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        for spec in records:
            writer.write_record(_record(writer, spec))
    return path


def _record(writer: WARCWriter, spec: dict):
    warc_headers = {"WARC-Date": spec["date"],
                    "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, spec['type'] + spec['url'])}>"}
    if spec["type"] == "response":
        http = StatusAndHeaders(spec["status"], [("Content-Type", spec["content_type"]),
                                                 ("Content-Length", str(len(spec["payload"])))],
                                protocol="HTTP/1.1")
        return writer.create_warc_record(spec["url"], "response", payload=io.BytesIO(spec["payload"]),
                                         http_headers=http, warc_headers_dict=warc_headers)
    if spec["type"] == "request":
        http = StatusAndHeaders(f"GET {spec['url']} HTTP/1.1", [("Host", "example")], is_http_request=True)
        return writer.create_warc_record(spec["url"], "request", payload=io.BytesIO(b""),
                                         http_headers=http, warc_headers_dict=warc_headers)
    return writer.create_warc_record(spec["url"], spec["type"], payload=io.BytesIO(spec["payload"]),
                                     warc_content_type=spec.get("content_type", "text/plain"),
                                     warc_headers_dict=warc_headers)
