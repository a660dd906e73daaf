"""Fixtures of the large-pull tests: clients of a real sandbox, and a loopback proxy that fails
the requests a test picks (big windows, windows after a cut-off...)."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import orjson
import pytest

from pendo_nb import PendoClient
from pendo_nb.http.session import RetryPolicy

#: Retries quick enough for tests (the session still retries 5xx before a window is halved).
QUICK_RETRY = RetryPolicy(max_tries=2, max_seconds=10.0, backoff=0.01, backoff_max=0.02)
DAY_MS = 86_400_000


def window_series(body: bytes) -> dict | None:
    """The timeSeries of a window request (absolute first/last), None for anything else."""
    try:
        document = orjson.loads(body)
        source = document["request"]["pipeline"][0]["source"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    series = source.get("timeSeries") if isinstance(source, dict) else None
    if isinstance(series, dict) and isinstance(series.get("first"), int):
        return series
    return None


class FailingProxy:
    """Forwards every request to a sandbox, except those ``fail(method, path, body)`` answers
    with a status (an int) instead. Records the window requests it forwarded."""

    def __init__(self, target_url: str) -> None:
        self.target = urlsplit(target_url)
        self.fail: Callable[[str, str, bytes], int | None] = lambda method, path, body: None
        self.forwarded: list[dict] = []  # timeSeries of the window requests that got through
        self.refused: list[dict] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                series = window_series(body)
                status = proxy.fail(self.command, self.path, body)
                if status is not None:
                    if series is not None:
                        with proxy._lock:
                            proxy.refused.append(series)
                    message = b"injected failure"
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(message)))
                    self.end_headers()
                    self.wfile.write(message)
                    return
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                upstream.close()
                if series is not None and answer.status == 200:
                    with proxy._lock:
                        proxy.forwarded.append(series)
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(sandbox):
    """A failing proxy in front of the shared sandbox (fails nothing until told)."""
    server = FailingProxy(sandbox.url)
    yield server
    server.close()


@pytest.fixture
def make_client(tmp_path):
    """Clients with their own cache file, quick retries and no rate limit."""
    made = []

    def make(server_url: str, key: str, *, cache=True, name: str = "cache") -> PendoClient:
        client = PendoClient(
            key,
            base_url=server_url,
            cache=tmp_path / f"{name}.sqlite" if cache else False,
            retry=QUICK_RETRY,
            rate_limit=None,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(sandbox, make_client):
    """A client of the shared small sandbox, with its own cache."""
    return make_client(sandbox.url, sandbox.key)
