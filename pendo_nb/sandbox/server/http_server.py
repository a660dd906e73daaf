"""The sandbox's HTTP server: Pendo's ``/api/v1`` paths over a :class:`Subscription`.

Every endpoint answers with Pendo's status codes and body shapes (reference sections 1 and 2):
JSON bodies, plain-text error messages that say what is wrong, 401 without a key, 403 for an
unknown key or a write with the read-only key. Reads and aggregations are served side by side
under the read side of ``subscription.lock`` (a
:class:`~pendo_nb.sandbox.subscription.rwlock.ReadWriteLock`); a metadata write takes the write
side, so it waits for running reads and no read ever sees it half applied.
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from pendo_nb.sandbox.engine import (
    AggregationError,
    Limits,
    response_mime_type,
    run_aggregation,
)
from pendo_nb.sandbox.server import history, reports, segments, writes
from pendo_nb.sandbox.server._csv import rows_to_csv, to_csv
from pendo_nb.sandbox.server._json import dumps
from pendo_nb.sandbox.subscription.model import Subscription


class FaultServing(Protocol):
    """What the server asks of its fault injector (``faults.FaultInjector``, which imports this
    module: named here by what it does, without an import cycle)."""

    def serve(self, handler: Any, answer: Callable[[], Any]) -> None: ...


API_PREFIX = "/api/v1/"
KEY_HEADER = "x-pendo-integration-key"
BASE64_HEADER = "x-pendo-base64-encoded-params"
MAX_BODY_BYTES = 16 * 1024 * 1024
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"


class HttpError(Exception):
    """An error answer: ``status`` and a short plain-text ``message``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Request:
    """One parsed request; ``params`` are the path's variable segments, already decoded."""

    method: str
    path: str
    params: list[str]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    read_only: bool


@dataclass
class Response:
    """An answer: status, body bytes, content type and any extra headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def _json(value: Any) -> Response:
    return Response(200, dumps(value))


def _parse_json_body(request: Request) -> Any:
    if not request.body.strip():
        raise HttpError(400, "request body is empty: send a JSON document")
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"request body is not valid JSON: {exc}") from None


class Routes:
    """The endpoint handlers of one server; each takes a :class:`Request` and returns a Response."""

    def __init__(self, subscription: Subscription, limits: Limits | None = None) -> None:
        self.sub = subscription
        self.limits = limits or Limits()  # caps on each aggregation and report run
        self.history = history.VisitorHistory(subscription)

    # --- ids ----------------------------------------------------------------------------------
    @staticmethod
    def _object_id(raw: str, request: Request) -> str:
        """A path id, decoding ``b64_<urlsafe base64>`` when the base64 header says so (ref 1.4)."""
        if request.headers.get(BASE64_HEADER, "").strip().lower() == "true" and raw.startswith(
            "b64_"
        ):
            encoded = raw[4:]
            try:
                padded = encoded + "=" * (-len(encoded) % 4)
                return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise HttpError(
                    400, f"{raw!r} is not a valid b64_ id (url-safe base64 of a UTF-8 id)"
                ) from None
        return raw

    # --- visitors and accounts ----------------------------------------------------------------
    def account(self, request: Request) -> Response:
        account_id = self._object_id(request.params[0], request)
        row = self.sub.accounts.get(account_id)
        if row is None:
            raise HttpError(404, "Error while getting account, no such entity found")
        return _json({"id": account_id, "metadata": row["metadata"]})

    def _visitor_row(self, request: Request) -> tuple[str, dict[str, Any]]:
        visitor_id = self._object_id(request.params[0], request)
        row = self.sub.visitors.get(visitor_id)
        if row is None:
            raise HttpError(404, "Error while getting visitor, no such entity found")
        return visitor_id, row

    def visitor(self, request: Request) -> Response:
        visitor_id, row = self._visitor_row(request)
        account_ids = row["metadata"].get("auto", {}).get("accountids", [])
        return _json({"id": visitor_id, "accountIds": account_ids, "metadata": row["metadata"]})

    def visitor_history(self, request: Request) -> Response:
        visitor_id, _row = self._visitor_row(request)
        raw = request.query.get("starttime")
        if raw is None:
            raise HttpError(400, "missing query parameter starttime (epoch milliseconds)")
        if not re.fullmatch(r"-?\d{1,18}", raw.strip()):
            raise HttpError(
                400, f"starttime={raw!r} is not an integer number of epoch milliseconds"
            )
        if self.sub.grained is not None:
            raise HttpError(
                422,
                "visitor history needs event-level data; this local extract holds event rows "
                f"grouped per {self.sub.grained.grain}, so ask a live connection",
            )
        try:
            return _json(self.history.items(visitor_id, int(raw)))
        except history.HistoryTooOld as exc:
            # Reference 5.8 allows refusing or answering []; a refusal tells the caller why.
            raise HttpError(400, str(exc)) from None

    # --- reports ------------------------------------------------------------------------------
    def report_list(self, request: Request) -> Response:
        return _json([r for r in self.sub.reports if r.get("shared")])

    def _report(self, request: Request) -> dict[str, Any]:
        for report in self.sub.reports:
            if report["id"] == request.params[0] and report.get("shared"):
                return report
        raise HttpError(404, "The report in question was not found.")

    def _report_rows(self, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        report = self._report(request)
        try:
            return report, reports.report_rows(report, self.sub, limits=self.limits)
        except reports.ReportNotRetrievable as exc:
            # Pendo does not say how it refuses these (reference 2.5); 400 with a reason is ours.
            raise HttpError(400, str(exc)) from None
        except AggregationError as exc:  # past the run caps, like an aggregation
            raise HttpError(exc.status, exc.message) from None

    def report_json(self, request: Request) -> Response:
        return _json(self._report_rows(request)[1])

    def report_csv(self, request: Request) -> Response:
        report, rows = self._report_rows(request)
        columns = [f["field"] for f in report["aggregation"]["fields"]]
        return Response(200, to_csv(columns, rows).encode("utf-8"), CSV_TYPE)

    # --- metadata -----------------------------------------------------------------------------
    def schema(self, request: Request) -> Response:
        kind = request.params[0]
        if kind == "parentAccount":
            # The reference documents visitor and account schemas only, but Pendo also names
            # parent accounts as a metadata kind. The sandbox has no parent accounts: their schema
            # holds only Pendo's computed fields, those of the account schema's auto group.
            return _json({"auto": self.sub.schema["account"].get("auto", {})})
        if kind not in self.sub.schema:
            raise HttpError(
                404, f"unknown metadata kind {kind!r}: use 'visitor', 'account' or 'parentAccount'"
            )
        return _json(self.sub.schema[kind])

    def get_value(self, request: Request) -> Response:
        kind, group, raw_id, name = request.params
        object_id = self._object_id(raw_id, request)
        try:
            return _json(writes.get_value(self.sub, kind, group, object_id, name))
        except writes.WriteRejected as exc:
            raise HttpError(exc.status, exc.message) from None

    def set_value(self, request: Request) -> Response:
        if request.read_only:
            raise HttpError(
                403,
                "This integration key is read-only: metadata updates need a key with write access",
            )
        kind, group, raw_id, name = request.params
        object_id = self._object_id(raw_id, request)  # b64_ ids are documented here (ref 1.4)
        value = _parse_json_body(request)
        try:
            return _json(writes.set_value(self.sub, kind, group, object_id, name, value))
        except writes.WriteRejected as exc:
            raise HttpError(exc.status, exc.message) from None

    def update_values(self, request: Request) -> Response:
        if request.read_only:
            raise HttpError(
                403,
                "This integration key is read-only: metadata updates need a key with write access",
            )
        kind, group = request.params
        create = request.query.get("create", "false").strip().lower()
        if create not in ("true", "false"):
            raise HttpError(400, f"create={request.query['create']!r} must be true or false")
        body = _parse_json_body(request)
        try:
            return _json(writes.update_values(self.sub, kind, group, body, create=create == "true"))
        except writes.WriteRejected as exc:
            raise HttpError(exc.status, exc.message) from None

    # --- segments -----------------------------------------------------------------------------
    def segment_list(self, request: Request) -> Response:
        return _json([segments.segment_object(s) for s in self.sub.segments])

    def segment(self, request: Request) -> Response:
        for segment in self.sub.segments:
            if segment["id"] == request.params[0]:
                return _json(segments.segment_object(segment))
        raise HttpError(404, f"segment {request.params[0]!r} not found")

    # --- catalog ------------------------------------------------------------------------------
    def _catalog(self, objects: list[dict[str, Any]], request: Request) -> Response:
        """Objects of the default app, or ``?appId=``, ``?expand=*`` (all apps), ``?id=a,b``."""
        query = request.query
        if "id" in query:
            wanted = {i.strip() for i in query["id"].split(",") if i.strip()}
            return _json([o for o in objects if o["id"] in wanted])
        if "expand" in query:
            if query["expand"].strip() != "*":
                raise HttpError(400, f"expand={query['expand']!r} is not supported: use expand=*")
            return _json(objects)
        app_id = self.sub.apps[0]["id"]  # the default app (-323232)
        if "appId" in query:
            try:
                app_id = int(query["appId"])
            except ValueError:
                raise HttpError(400, f"appId={query['appId']!r} is not an integer app id") from None
        return _json([o for o in objects if o["appId"] == app_id])

    def pages(self, request: Request) -> Response:
        return self._catalog(self.sub.pages, request)

    def features(self, request: Request) -> Response:
        return self._catalog(self.sub.features, request)

    def guides(self, request: Request) -> Response:
        return self._catalog(self.sub.guides, request)

    def track_types(self, request: Request) -> Response:
        return self._catalog(self.sub.track_types, request)

    # --- keys and aggregations ----------------------------------------------------------------
    def verify_token(self, request: Request) -> Response:
        # Verification checks for write access too (reference 1.3): a read-only key is refused.
        if request.read_only:
            raise HttpError(403, "Key is invalid: it does not have write access")
        return Response(200, b"", TEXT_TYPE)

    def aggregation(self, request: Request) -> Response:
        body = _parse_json_body(request)
        if not isinstance(body, dict):
            raise HttpError(
                400,
                "request body must be a JSON object: "
                '{"response": ..., "request": {"pipeline": [...]}}',
            )
        try:
            result = run_aggregation(body, self.sub, limits=self.limits)
        except AggregationError as exc:
            raise HttpError(exc.status, exc.message) from None
        if response_mime_type(body) == "text/csv":
            return Response(200, rows_to_csv(result["results"]).encode("utf-8"), CSV_TYPE)
        return _json(result)


# (method, path pattern under /api/v1 with "*" for a variable segment, handler name)
_ROUTES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("GET", ("account", "*"), "account"),
    ("GET", ("visitor", "*"), "visitor"),
    ("GET", ("visitor", "*", "history"), "visitor_history"),
    ("GET", ("report",), "report_list"),
    ("GET", ("report", "*", "results.json"), "report_json"),
    ("GET", ("report", "*", "results.csv"), "report_csv"),
    ("GET", ("metadata", "schema", "*"), "schema"),
    ("POST", ("metadata", "*", "*", "value"), "update_values"),
    ("GET", ("metadata", "*", "*", "value", "*", "*"), "get_value"),
    ("PUT", ("metadata", "*", "*", "value", "*", "*"), "set_value"),
    ("GET", ("segment",), "segment_list"),
    ("GET", ("segment", "*"), "segment"),
    ("GET", ("page",), "pages"),
    ("GET", ("feature",), "features"),
    ("GET", ("guide",), "guides"),
    ("GET", ("tracktype",), "track_types"),
    ("GET", ("token", "verify"), "verify_token"),
    ("POST", ("aggregation",), "aggregation"),
)
# Handlers that change the subscription: they run alone (the write side of subscription.lock).
_WRITE_HANDLERS = frozenset({"update_values", "set_value"})


def _match(segments: list[str]) -> list[tuple[str, list[str], str]]:
    """Routes whose pattern fits ``segments``: (method, variable segments, handler name)."""
    found = []
    for method, pattern, name in _ROUTES:
        if len(pattern) == len(segments) and all(
            p in ("*", s) for p, s in zip(pattern, segments, strict=True)
        ):
            # A literal segment wins over a variable one (metadata/schema/visitor is the schema).
            params = [s for p, s in zip(pattern, segments, strict=True) if p == "*"]
            found.append((method, params, name))
    return found


# What socketserver hands its hooks: a socket for a stream server like this one, a
# ``(data, socket)`` pair for a datagram server.
_Request = socket.socket | tuple[bytes, socket.socket]


def _stream(request: _Request) -> socket.socket:
    """The connection of a stream server's request (never the datagram form)."""
    return request if isinstance(request, socket.socket) else request[1]


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one subscription and its two keys.

    Each connection is served on a thread of its own and stays open between requests
    (keep-alive). ``server_close()`` ends them too: it shuts every open connection down, so a
    client's pooled connection gets no answer once the server is stopped, and waits at most
    :attr:`close_wait_seconds` for their threads.
    """

    # A handler thread busy on a long aggregation must not keep the interpreter alive, nor make
    # server_close() wait for it: the threads are daemons, and server_close() waits for them itself
    # with a bound (ThreadingMixIn's own wait, block_on_close, has none and skips daemon threads).
    daemon_threads = True
    block_on_close = False
    #: How long ``server_close()`` waits, in all, for the connections' threads to end.
    close_wait_seconds = 5.0
    allow_reuse_address = True
    #: A ``faults.FaultInjector`` set by ``Sandbox(faults=...)``; ``None`` serves normally.
    faults: FaultServing | None = None

    def __init__(
        self,
        address: tuple[str, int],
        subscription: Subscription,
        key: str,
        read_only_key: str,
        limits: Limits | None = None,
    ) -> None:
        if not key or not read_only_key or key == read_only_key:
            raise ValueError(
                "the sandbox needs two different, non-empty keys (read-write and read-only)"
            )
        self.subscription = subscription
        self.routes = Routes(subscription, limits)
        self._keys = {key: False, read_only_key: True}  # key -> read-only?
        # Open connections and the thread serving each, so server_close() can end them.
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._closing = False
        super().__init__(address, _Handler)

    def process_request(self, request: _Request, client_address: Any) -> None:
        """Serve one accepted connection on a thread of its own, and remember both."""
        request = _stream(request)
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"pendo-sandbox-connection-{self.server_address[1]}",
            daemon=self.daemon_threads,
        )
        with self._connections_lock:
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: _Request) -> None:
        """Close a connection whose handler is done with it, and forget it."""
        with self._connections_lock:
            self._connections.pop(_stream(request), None)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the listening socket, then every open connection (idle keep-alive ones too).

        Call it after ``shutdown()``, once no new connection is accepted. Each connection is shut
        down in both directions, which wakes a handler waiting for the next request; a handler
        still computing an answer finds its connection gone when it writes. The threads get
        :attr:`close_wait_seconds` in all to end; one still running after that is left behind
        (a daemon, it cannot keep the interpreter alive).
        """
        super().server_close()
        self._closing = True
        with self._connections_lock:
            connections = list(self._connections.items())
        for connection, _thread in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed or reset by the client (or by fault injection)
                pass
            # The handler's own file objects keep the descriptor open until it lets go of them.
            connection.close()
        deadline = time.monotonic() + self.close_wait_seconds
        for _connection, thread in connections:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: _Request, client_address: Any) -> None:
        """Stay quiet when a client hung up early or the server is closing; report the rest.

        A client that timed out leaves before its answer; ``server_close()`` cuts connections
        under their handlers. Neither is a sandbox error.
        """
        if isinstance(sys.exc_info()[1], ConnectionError) or self._closing:
            return
        super().handle_error(request, client_address)

    def is_read_only(self, key: str) -> bool | None:
        """``True``/``False`` for the read-only/read-write key, ``None`` for an unknown key."""
        return self._keys.get(key)

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request (never raises)."""
        try:
            return self._dispatch(method, target, headers, body)
        except HttpError as exc:
            # Reference 6.2: the docs say error bodies are JSON, but Pendo was seen answering
            # plain text ("Cannot parse filter expression"); section 5.3 follows what was seen.
            return Response(exc.status, exc.message.encode("utf-8"), TEXT_TYPE, exc.headers)

    def _dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        if not parts.path.startswith(API_PREFIX):
            raise HttpError(404, f"Not found: {parts.path} (the API is under {API_PREFIX})")
        key = headers.get(KEY_HEADER, "").strip()
        # Reference 6.1: the status table says 401 for a bad key, /token/verify and connectors
        # say 403, so an unknown key gets 403 "Key is invalid" (section 5.2, /token/verify's
        # documented text). No source shows the answer to a missing header: it keeps the status
        # table's 401 (section 1.5). Both bodies are plain text, as every error Pendo was seen
        # sending (5.2, 6.2); a client reading the docs' "errors are JSON" finds no JSON in
        # Pendo's answers either.
        if not key:
            raise HttpError(401, f"Missing integration key: send it in the {KEY_HEADER} header")
        read_only = self.is_read_only(key)
        if read_only is None:
            raise HttpError(403, "Key is invalid")
        segments = [unquote(s) for s in parts.path[len(API_PREFIX) :].split("/")]
        candidates = _match(segments)
        if not candidates:
            raise HttpError(404, f"Not found: {method} {parts.path}")
        chosen = _most_specific([c for c in candidates if c[0] == method])
        if chosen is None:
            allowed = ", ".join(sorted({c[0] for c in candidates}))
            raise HttpError(
                405, f"{method} is not allowed on {parts.path}; use {allowed}", {"Allow": allowed}
            )
        _method, params, name = chosen
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = Request(method, parts.path, params, query, headers, body, read_only)
        lock = self.subscription.lock
        with lock.writing() if name in _WRITE_HANDLERS else lock.reading():
            try:
                response: Response = getattr(self.routes, name)(request)
                return response
            except HttpError:
                raise
            except Exception as exc:  # a sandbox bug: say so without echoing the request
                return Response(
                    500, f"Internal sandbox error ({type(exc).__name__})".encode(), TEXT_TYPE
                )


def _most_specific(
    candidates: list[tuple[str, list[str], str]],
) -> tuple[str, list[str], str] | None:
    return min(candidates, key=lambda c: len(c[1]), default=None)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for requests.Session; every answer has a length
    timeout = 60  # an idle or stalled client cannot hold a thread forever
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms for
    # the delayed ACK of the first before the second leaves.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def _serve(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        length_text = headers.get("content-length", "0").strip() or "0"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            return self._send(
                Response(411, b"send the body with a Content-Length header", TEXT_TYPE)
            )
        if not length_text.isdigit():
            self.close_connection = True
            return self._send(Response(400, b"invalid Content-Length header", TEXT_TYPE))
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the body is not read; the connection cannot be reused
            message = (
                f"request body of {length} bytes is larger than the {MAX_BODY_BYTES}-byte limit"
            )
            return self._send(Response(413, message.encode(), TEXT_TYPE))
        body = self.rfile.read(length) if length else b""
        if self.server.faults is None:
            return self._send(self.server.dispatch(self.command, self.path, headers, body))
        # Fault injection (tests and benchmarks) decides whether and how badly to answer.
        self.server.faults.serve(
            self, lambda: self.server.dispatch(self.command, self.path, headers, body)
        )

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Any other method (TRACE, made-up ones) is routed too, so it gets 405/404 from the
        # routing instead of http.server's "501 Unsupported method" (a 5xx for a client error).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Transport-level errors (bad request line, oversized headers) in plain text, not HTML."""
        self.close_connection = True
        # A request line with a bad version leaves http.server in HTTP/0.9 mode (a body without a
        # status line); nobody speaks 0.9, so answer in 1.1.
        self.request_version = self.protocol_version
        text = message or self.responses.get(code, ("Error",))[0]
        self._send(Response(code, text.encode("utf-8", "replace"), TEXT_TYPE))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Silent: a notebook's output is no place for access logs."""
