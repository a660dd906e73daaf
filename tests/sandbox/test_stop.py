"""``Sandbox.stop()`` ends open connections: a stopped sandbox answers nothing, and stops promptly.

HTTP/1.1 clients keep their connection open between requests; each is served by a thread of its
own, which used to go on answering after ``stop()``.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from pendo_nb.sandbox import Sandbox

# A bound far above any honest stop, so a hang fails the test instead of the whole run.
HANG_GUARD_SECONDS = 60


def _verify(session: requests.Session, sandbox_url: str, key: str) -> requests.Response:
    return session.get(
        sandbox_url + "/api/v1/token/verify",
        headers={"x-pendo-integration-key": key},
        timeout=HANG_GUARD_SECONDS,
    )


def _stop_with_guard(sandbox: Sandbox) -> None:
    """Stop on another thread and fail if it has not returned within the hang guard."""
    stopper = threading.Thread(target=sandbox.stop, name="test-stopper", daemon=True)
    stopper.start()
    stopper.join(HANG_GUARD_SECONDS)
    assert not stopper.is_alive(), "Sandbox.stop() hung with a connection open"


def _connection_threads(port: int) -> list[threading.Thread]:
    """The live threads serving connections of the sandbox on ``port`` (named after it)."""
    name = f"pendo-sandbox-connection-{port}"
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_a_session_that_called_before_stop_is_refused_after_it():
    sandbox = Sandbox(size="small").start()
    url, key = sandbox.url, sandbox.key
    with requests.Session() as session:
        try:
            assert _verify(session, url, key).status_code == 200
        finally:
            _stop_with_guard(sandbox)
        # The session would reuse its pooled connection; it must not reach a stopped server.
        with pytest.raises(requests.ConnectionError):
            _verify(session, url, key)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=HANG_GUARD_SECONDS)


def _idle_after_an_answer(url: str, key: str) -> socket.socket:
    """A raw keep-alive connection that got one full answer and then sent nothing more."""
    connection = _connect(url)
    connection.sendall(
        b"GET /api/v1/token/verify HTTP/1.1\r\nHost: sandbox\r\n"
        b"x-pendo-integration-key: " + key.encode() + b"\r\n\r\n"
    )
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):  # the answer has no body: it ends with its headers
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed before a full answer: {answer!r}"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 0\r\n" in answer
    return connection


def _half_sent_request(url: str, key: str) -> socket.socket:
    """A connection whose request line and headers were never finished."""
    connection = _connect(url)
    connection.sendall(b"GET /api/v1/report HTTP/1.1\r\nHost: ")
    return connection


def _silent(url: str, key: str) -> socket.socket:
    """A connection that never sent a byte."""
    return _connect(url)


def _wait_until_served(port: int) -> None:
    """Wait (bounded) until the server has accepted the connection and given it its thread."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not _connection_threads(port):
        assert time.monotonic() < deadline, "the sandbox never accepted the connection"
        time.sleep(0.01)


@pytest.mark.parametrize("open_connection", [_idle_after_an_answer, _half_sent_request, _silent])
def test_stop_returns_and_closes_a_connection_left_open(open_connection):
    sandbox = Sandbox(size="small").start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    connection = open_connection(sandbox.url, sandbox.key)
    try:
        _wait_until_served(port)
        _stop_with_guard(sandbox)
        # stop() waited for the thread that served the connection, which the close woke up.
        assert _connection_threads(port) == []
        # The server closed its side: the client reads the end of the stream (or a reset).
        try:
            assert connection.recv(65536) == b""
        except ConnectionResetError:
            pass
    finally:
        connection.close()
        sandbox.stop()
