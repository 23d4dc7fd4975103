"""A real S3-compatible server on loopback (moto) and a fault-injecting HTTP proxy in front of it.

Used by tests/storage and bench/storage_io.py. Nothing here leaves 127.0.0.1.

    with S3Server() as s3, FaultProxy(s3.endpoint) as proxy:
        s3.upload("bucket", "key", data)
        options = proxy.options()          # Spark-style settings pointing pyarrow at the proxy
        proxy.policy = lambda request: "reset" if request.number % 3 == 0 else "ok"

The proxy counts every request (`proxy.requests`, with method and path) so a test or the bench can
see how many GETs a read costs, and answers a request as the policy says: "ok" (forward to moto),
"reset" (close the connection with a TCP reset, nothing sent), "slowdown" (503 with S3's SlowDown
XML), "stall" (send the headers and part of the body, then nothing for `stall_s` seconds) or
"500" (an InternalError).
"""
from __future__ import annotations

import http.client
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
_SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b'<Message>Please reduce your request rate.</Message></Error>')
_INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
             b'<Message>We encountered an internal error. Please try again.</Message></Error>')


def spark_options(endpoint: str, **extra: str) -> dict[str, str]:
    """Spark conf entries (as a user would pass with --conf) for a loopback S3 endpoint."""
    conf = {"spark.hadoop.fs.s3a.endpoint": f"http://{endpoint}",
            "spark.hadoop.fs.s3a.access.key": ACCESS_KEY,
            "spark.hadoop.fs.s3a.secret.key": SECRET_KEY,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.endpoint.region": REGION}
    conf.update({f"spark.hadoop.fs.s3a.{k.replace('_', '.')}": v for k, v in extra.items()})
    return conf


class S3Server:
    """moto's S3 on 127.0.0.1, a free port, in this process."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no line per request on stderr
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def __enter__(self) -> "S3Server":
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"{host}:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=f"http://{self.endpoint}", aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def upload(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def options(self, **extra: str) -> dict[str, str]:
        return spark_options(self.endpoint, **extra)


@dataclass
class Request:
    number: int          # 1, 2, ... in arrival order
    method: str
    path: str            # /bucket/key?query
    headers: dict        # names in lower case


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 that forwards to `upstream` unless `policy` says otherwise."""

    def __init__(self, upstream: str, policy: Callable[[Request], str] | None = None, stall_s: float = 3.0):
        self.upstream = upstream
        self.policy = policy or (lambda request: "ok")
        self.stall_s = stall_s
        self.requests: list[Request] = []
        self.faults: list[tuple[str, Request]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):   # quiet
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):   # a reset connection is the point
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.endpoint = f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FaultProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def options(self, **extra: str) -> dict[str, str]:
        return spark_options(self.endpoint, **extra)

    def gets(self, key_part: str = "") -> int:
        """GET requests so far whose path contains `key_part`."""
        return sum(1 for r in self.requests if r.method == "GET" and key_part in r.path)

    def count(self, key_part: str = "") -> int:
        return sum(1 for r in self.requests if key_part in r.path)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    # -- one request --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            request = Request(len(self.requests) + 1, handler.command, handler.path,
                              {k.lower(): v for k, v in handler.headers.items()})
            self.requests.append(request)
        action = self.policy(request)
        if action != "ok":
            with self._lock:
                self.faults.append((action, request))
        if action == "reset":
            self._reset(handler)
            return
        if action in ("slowdown", "500"):
            status, reason, xml = (503, "Slow Down", _SLOWDOWN) if action == "slowdown" \
                else (500, "Internal Server Error", _INTERNAL)
            handler.send_response(status, reason)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(xml)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(xml)
            return
        status, reason, headers, data = self._forward(handler, body)
        handler.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                handler.send_header(name, value)
        handler.end_headers()
        if handler.command == "HEAD":
            return
        if action == "stall" and len(data) > 1:
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            time.sleep(self.stall_s)          # the client should give up before this ends
            self._reset(handler)
            return
        handler.wfile.write(data)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes):
        host, port = self.upstream.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(handler.command, handler.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            connection.close()

    @staticmethod
    def _reset(handler: BaseHTTPRequestHandler) -> None:
        # SO_LINGER 0: close() sends a TCP RST, which the client sees as 'connection reset by peer'.
        handler.close_connection = True
        try:
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
        except OSError:
            pass
