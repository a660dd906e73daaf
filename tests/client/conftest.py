"""Fixtures of the client tests: a scripted HTTP server on loopback."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class ScriptedServer(ThreadingHTTPServer):
    """Answers each request with the next scripted answer, and records what it received.

    A script item is ``(status, headers, body)``, ``(status, headers, body, sent)`` (announce the
    whole body, send its first ``sent`` bytes and hang up) or ``"drop"`` (close without answering).
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list = []
        self.received: list[dict] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        item = self.server.script.pop(0) if self.server.script else (599, {}, b"script exhausted")
        if item == "drop":
            self.close_connection = True
            return
        status, headers, payload, *cut = item
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[: cut[0]] if cut else payload)
        self.close_connection = bool(cut)

    do_GET = do_POST = _serve

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def scripted():
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
