"""Retries: 429 honouring Retry-After, 5xx with backoff, dropped connections, bounded."""

from __future__ import annotations

import pytest

from pendo_nb import PendoClient
from pendo_nb.errors import NotFoundError, PendoConnectionError, RateLimitError, ServerError
from pendo_nb.http import session

KEY = "retry-test-key-0123456789"
OK = (200, {"Content-Type": "application/json"}, b"[]")
AGG_OK = (200, {"Content-Type": "application/json"}, b'{"startTime": 1, "results": []}')


@pytest.fixture
def waits(monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(session, "_sleep", recorded.append)
    return recorded


def client_for(server, **retry):
    policy = session.RetryPolicy(**{"max_tries": 3, "backoff": 0.25, **retry})
    return PendoClient(KEY, base_url=server.url, cache=False, rate_limit=None, retry=policy)


def test_429_waits_as_long_as_retry_after_says(scripted, waits):
    scripted.script = [(429, {"Retry-After": "3"}, b"Too Many Requests"), OK]
    client_for(scripted).get_reports()
    assert waits == [3]
    assert len(scripted.received) == 2


def test_503_then_200_on_an_aggregation_post_backs_off(scripted, waits):
    scripted.script = [(503, {}, b"busy"), (502, {}, b"gateway"), AGG_OK]
    response = client_for(scripted).post_aggregation([{"source": {"visitors": None}}])
    assert response.json()["results"] == []
    assert [r["method"] for r in scripted.received] == ["POST"] * 3
    assert scripted.received[0]["body"] == scripted.received[2]["body"]
    assert len(waits) == 2
    # backoff 0.25 s doubles per retry, plus up to 0.25 s of jitter
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 0.75


def test_tries_are_bounded_and_the_last_answer_becomes_the_error(scripted, waits):
    scripted.script = [(500, {}, b"boom 1"), (500, {}, b"boom 2"), (500, {}, b"boom 3"), OK]
    with pytest.raises(ServerError, match="boom 3") as caught:
        client_for(scripted).get_reports()
    assert caught.value.status == 500
    assert len(scripted.received) == 3


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(scripted, waits):
    scripted.script = [(429, {"Retry-After": "600"}, b"slow down"), OK]
    with pytest.raises(RateLimitError):
        client_for(scripted, max_seconds=60).get_reports()
    assert waits == [] and len(scripted.received) == 1


def test_a_dropped_connection_is_retried(scripted, waits):
    scripted.script = ["drop", OK]
    client_for(scripted).get_reports()
    assert len(scripted.received) == 2


def test_connections_that_keep_dropping_become_a_connection_error(scripted, waits):
    scripted.script = ["drop"] * 3
    with pytest.raises(PendoConnectionError, match="no answer"):
        client_for(scripted).get_reports()
    assert len(scripted.received) == 3


def test_other_client_errors_are_not_retried(scripted, waits):
    scripted.script = [(404, {}, b"Error while getting visitor, no such entity found"), OK]
    with pytest.raises(NotFoundError):
        client_for(scripted).get_visitor("nobody")
    assert len(scripted.received) == 1 and waits == []
