"""Concurrent requests on one sandbox: aggregations overlap, metadata writes run alone.

Runs are held at a known point by a test step standing in for ``cat`` (same rows out as in), and
threads are ordered with events, a barrier and the lock's own ``state()``, never by timing. Every
wait is bounded, so a sandbox that serialises reads, or lets a write in beside them, fails the test
instead of hanging it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import requests

from pendo_nb.sandbox import Sandbox
from pendo_nb.sandbox.engine.compiler import OPERATORS
from pendo_nb.sandbox.server import writes

BOUND_S = 20.0
MARK = "concurrencyMark"  # a custom field the small subscription does not have


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.002)  # a poll interval, not a measured duration


class Call(threading.Thread):
    """One HTTP request on a thread of its own; ``response`` once it has returned."""

    def __init__(self, sandbox: Sandbox, method: str, path: str, body) -> None:
        super().__init__(daemon=True)
        self.sandbox, self.method, self.path, self.body = sandbox, method, path, body
        self.response: requests.Response | None = None

    def run(self) -> None:
        self.response = requests.request(
            self.method,
            self.sandbox.url + self.path,
            json=self.body,
            headers={"x-pendo-integration-key": self.sandbox.key},
            timeout=BOUND_S * 2,
        )

    def result(self) -> requests.Response:
        self.join(BOUND_S * 2)
        assert self.response is not None, f"{self.method} {self.path} never answered"
        return self.response


def aggregation(sandbox: Sandbox, pipeline: list) -> Call:
    body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
    return Call(sandbox, "POST", "/api/v1/aggregation", body)


def mark_write(sandbox: Sandbox, visitor_ids: list[str], value: str) -> Call:
    body = [{"visitorId": v, "values": {MARK: value}} for v in visitor_ids]
    return Call(sandbox, "POST", "/api/v1/metadata/visitor/custom/value", body)


def marks_of(visitor_ids: list[str]) -> list[dict]:
    """Pipeline reading the mark of these visitors; ``cat`` is where a test holds the run."""
    wanted = " || ".join(f"visitorId == {json.dumps(v)}" for v in visitor_ids)
    return [
        {"source": {"visitors": None}},
        {"cat": None},
        {"filter": wanted},
        {"select": {"visitorId": "visitorId", "mark": f"metadata.custom.{MARK}"}},
        {"sort": ["visitorId"]},
    ]


@pytest.fixture
def hold_runs(monkeypatch):
    """``hold_runs(callback)``: every ``cat`` step calls ``callback()`` before passing rows on."""

    def install(callback: Callable[[], None]) -> None:
        def compile_held_cat(arg, env, where):
            def run(rows, state):
                callback()
                return rows

            return run

        monkeypatch.setitem(OPERATORS, "cat", compile_held_cat)

    return install


@pytest.fixture
def sandbox():
    with Sandbox(size="small") as server:
        yield server


def test_two_slow_aggregations_run_at_the_same_time(sandbox, hold_runs):
    # Each run waits at the barrier until the other one reaches it too: served one at a time,
    # the first would wait alone, the barrier would break and both answers would be 500s.
    both_inside = threading.Barrier(2, timeout=BOUND_S)
    hold_runs(both_inside.wait)
    calls = [aggregation(sandbox, [{"source": {"visitors": None}}, {"cat": None}, {"count": None}])
             for _ in range(2)]  # fmt: skip
    for call in calls:
        call.start()
    expected = [{"count": len(sandbox.subscription.visitors)}]
    for call in calls:
        response = call.result()
        assert response.status_code == 200, response.text
        assert response.json()["results"] == expected


def test_a_write_waits_for_a_running_aggregation(sandbox, hold_runs):
    visitor_id = sandbox.subscription.visitor_ids[0]
    inside, release = threading.Event(), threading.Event()
    hold_runs(lambda: (inside.set(), release.wait(BOUND_S)))
    read = aggregation(sandbox, marks_of([visitor_id]))
    read.start()
    assert inside.wait(BOUND_S)
    write = mark_write(sandbox, [visitor_id], "after")
    write.start()
    lock = sandbox.subscription.lock
    wait_until(lambda: lock.state().writers_waiting == 1, "the write waits for the lock")
    custom = sandbox.subscription.visitors[visitor_id]["metadata"]["custom"]
    assert MARK not in custom and write.response is None  # nothing written while the run reads
    release.set()
    assert read.result().json()["results"] == [{"visitorId": visitor_id, "mark": None}]
    assert write.result().json()["updated"] == 1
    assert custom[MARK] == "after"


def test_an_aggregation_never_sees_a_write_half_applied(sandbox, monkeypatch):
    first, second = sandbox.subscription.visitor_ids[:2]
    halfway, resume = threading.Event(), threading.Event()
    convert = writes._convert
    calls = []

    def convert_pausing_before_the_second_record(value, type_, subscription):
        calls.append(value)
        if len(calls) == 2:  # the first record is in the subscription, the second is not
            halfway.set()
            resume.wait(BOUND_S)
        return convert(value, type_, subscription)

    monkeypatch.setattr(writes, "_convert", convert_pausing_before_the_second_record)
    write = mark_write(sandbox, [first, second], "new")
    write.start()
    assert halfway.wait(BOUND_S)
    visitors = sandbox.subscription.visitors
    assert visitors[first]["metadata"]["custom"][MARK] == "new"  # really half applied now
    assert MARK not in visitors[second]["metadata"]["custom"]
    read = aggregation(sandbox, marks_of([first, second]))
    read.start()
    lock = sandbox.subscription.lock
    wait_until(lambda: lock.state().readers_waiting == 1, "the aggregation waits for the write")
    resume.set()
    assert write.result().json()["updated"] == 2
    assert read.result().json()["results"] == sorted(
        [{"visitorId": first, "mark": "new"}, {"visitorId": second, "mark": "new"}],
        key=lambda row: row["visitorId"],
    )
