"""A host that gives no answer: the error says why and what to check, and each retry's wait is
announced while it lasts. Only loopback addresses: a port closed on 127.0.0.1 refuses at once."""

from __future__ import annotations

import logging
import socket

import pytest
import requests
import responses
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from pendo_nb import PendoClient
from pendo_nb.errors import PendoConnectionError, PendoTimeoutError
from pendo_nb.http import connection, session

KEY = "unreachable-test-key-0123456789"
NOTICES = "pendo_nb.http.session"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def waits(monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(session, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def notices(caplog):
    """The retry notices logged, as the user reads them."""
    caplog.set_level(logging.WARNING, logger=NOTICES)
    return lambda: [r.getMessage() for r in caplog.records if r.name == NOTICES]


def client(base_url=None, **options):
    policy = session.RetryPolicy(max_tries=3, backoff=0.25)
    return PendoClient(
        KEY, base_url=base_url, cache=False, rate_limit=None, retry=policy, **options
    )


def test_a_refused_connection_names_the_host_and_what_to_check(closed_port, waits, notices):
    host = f"127.0.0.1:{closed_port}"
    with pytest.raises(PendoConnectionError) as caught:
        client(f"http://{host}").get_reports()
    message = str(caught.value)
    assert f"no answer from {host} (connection refused)" in message
    assert f"is a server (the sandbox?) running at {host}?" in message
    assert "network" in message and "proxy (HTTPS_PROXY" in message
    assert f"base_url: this client asks http://{host}, no Pendo region" in message
    assert KEY not in message and KEY not in repr(caught.value)
    assert len(waits) == 2  # three tries


def test_each_retry_wait_is_announced_with_its_attempt(closed_port, waits, notices):
    host = f"127.0.0.1:{closed_port}"
    with pytest.raises(PendoConnectionError):
        client(f"http://{host}").get_reports()
    said = notices()
    assert said == [
        f"Pendo ({host}) did not answer (connection refused); retrying in 0.25 s (attempt 2 of 3)",
        f"Pendo ({host}) did not answer (connection refused); "
        f"retrying in {waits[1]:.2g} s (attempt 3 of 3)",
    ]
    assert waits[0] == 0.25 and 0.5 <= waits[1] <= 0.75  # what was announced is what was waited
    assert not any(KEY in line for line in said)


def test_a_regional_client_is_told_its_region_and_how_to_pick_another(
    closed_port, waits, notices, monkeypatch
):
    # The "eu" region's host, moved to the closed loopback port: no request leaves the machine.
    monkeypatch.setitem(connection.REGION_HOSTS, "eu", f"http://127.0.0.1:{closed_port}")
    regional = client(region="eu")
    with pytest.raises(PendoConnectionError) as caught:
        regional.post_aggregation([{"source": {"visitors": None}}])
    message = str(caught.value)
    assert f"127.0.0.1:{closed_port} is the host of region 'eu'" in message
    assert "connect(region=...) (us, us1, eu, jpn, au)" in message
    assert "connect(base_url=...)" in message and KEY not in message
    assert len(notices()) == 2


def test_a_streamed_aggregation_gets_the_same_hint_and_notices(closed_port, waits, notices):
    streaming = client(f"http://127.0.0.1:{closed_port}")
    assert streaming.streams_answers
    with pytest.raises(PendoConnectionError, match=r"\(connection refused\); is a server"):
        streaming.post_aggregation_streamed([{"source": {"visitors": None}}], lambda chunks: None)
    said = notices()
    assert len(said) == 2 and all("did not answer (connection refused)" in line for line in said)


def test_an_answer_worth_retrying_is_announced_with_its_status(scripted, waits, notices):
    scripted.script = [(503, {}, b"busy"), (200, {"Content-Type": "application/json"}, b"[]")]
    client(scripted.url).get_reports()
    host = scripted.url.split("://")[1]
    assert notices() == [
        f"Pendo ({host}) answered 503 Service Unavailable; retrying in 0.25 s (attempt 2 of 3)"
    ]


def test_a_connect_time_out_gets_the_hint_not_a_longer_timeout(closed_port, waits, monkeypatch):
    # A host that never accepts: played by a mock of the (closed, loopback) region host.
    host = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setitem(connection.REGION_HOSTS, "eu", host)
    with responses.RequestsMock() as mocked:
        mocked.get(f"{host}/api/v1/report", body=requests.ConnectTimeout("no SYN-ACK"))
        with pytest.raises(PendoTimeoutError) as caught:
            client(region="eu").get_reports()
    message = str(caught.value)
    assert "(connecting timed out)" in message and "of region 'eu'" in message
    assert "raise connect(timeout=...)" not in message and len(waits) == 2


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NewConnectionError(None, "x"), "no connection could be made"),
        (NameResolutionError("pendo.example", None, OSError("x")), "the host name did not resolve"),
        (ConnectTimeoutError(), "connecting timed out"),
        (ReadTimeoutError(None, "/", "x"), "no answer within the read timeout"),
        (ProtocolError("Connection aborted."), "the connection dropped"),
    ],
)
def test_why_a_request_got_no_answer_is_said_in_a_few_words(error, reason):
    assert session.failure_reason(error) == reason
    wrapped = requests.ConnectionError(MaxRetryError(None, "/", error))  # as requests raises it
    assert session.failure_reason(wrapped) == reason


def test_the_operating_systems_words_say_why_a_connection_failed():
    try:
        raise NewConnectionError(None, "x") from ConnectionRefusedError(111, "Connection refused")
    except NewConnectionError as error:
        assert session.failure_reason(error) == "connection refused"
