"""Reads survive injected faults: the DataFrames of a fault-free run, bounded retries, clear errors.

Point 1 of the reliability issue. Two sandboxes with the same data answer the same 300 operations,
one of them with 20% of its answers replaced by 429s, 503s, resets, slow answers and cut-off
bodies; the DataFrames must be identical. The sandbox's request log is the independent witness of
what the client did: every fault must have cost exactly one extra request, and every 429 one wait
of exactly its ``Retry-After``.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
import requests

from pendo_nb.api import functions as api
from pendo_nb.errors import (
    PendoAPIError,
    PendoConnectionError,
    PendoError,
    RateLimitError,
    ServerError,
)
from pendo_nb.http.session import RetryPolicy
from pendo_nb.sandbox import FaultPlan, Sandbox

from .reliability_helpers import QUICK_RETRY, client_of

DAY_MS = 86_400_000
WEEK = {"period": "dayRange", "first": "now()", "count": -7}
LAST_MONTH = {"period": "monthRange", "first": "now()", "count": -1}

#: One aggregation of each shape: object sources, event sources, catalog, each common operator.
AGGREGATIONS = {
    "visitors select/sort/limit": [
        {"source": {"visitors": None}},
        {"select": {"visitorId": "visitorId", "email": "metadata.agent.email"}},
        {"sort": ["visitorId"]},
        {"limit": 30},
    ],
    "accounts filter": [
        {"source": {"accounts": None}},
        {"filter": 'accountId != ""'},
        {"sort": ["accountId"]},
    ],
    "events group": [
        {"source": {"events": None, "timeSeries": WEEK}},
        {"group": {"group": ["visitorId"], "fields": {"events": {"sum": "numEvents"}}}},
        {"sort": ["visitorId"]},
    ],
    "pageEvents group": [
        {"source": {"pageEvents": None, "timeSeries": WEEK}},
        {"group": {"group": ["pageId"], "fields": {"people": {"count": "visitorId"}}}},
        {"sort": ["pageId"]},
    ],
    "featureEvents reduce": [
        {"source": {"featureEvents": None, "timeSeries": WEEK}},
        {"reduce": {"clicks": {"sum": "numEvents"}, "first": {"min": "firstTime"}}},
    ],
    "trackEvents month": [
        {"source": {"trackEvents": None, "timeSeries": LAST_MONTH}},
        {"group": {"group": ["trackTypeId"], "fields": {"n": {"sum": "numEvents"}}}},
        {"sort": ["trackTypeId"]},
    ],
    "guideEvents": [
        {"source": {"guideEvents": None, "timeSeries": WEEK}},
        {"group": {"group": ["guideId", "type"], "fields": {"n": {"count": None}}}},
        {"sort": ["guideId", "type"]},
    ],
    "eval unwind": [
        {"source": {"visitors": None}},
        {"eval": {"accounts": "metadata.auto.accountids"}},
        {"unwind": {"field": "accounts"}},
        {"select": {"visitorId": "visitorId", "accounts": "accounts"}},
        {"sort": ["visitorId", "accounts"]},
        {"limit": 40},
    ],
    "pages catalog": [
        {"source": {"pages": None}},
        {"select": {"id": "id", "name": "name"}},
        {"sort": ["id"]},
    ],
}


def operations(sandbox: Sandbox, count: int) -> list[tuple[str, object]]:
    """``count`` read operations cycling over every kind, with varying ids: (label, call)."""
    sub = sandbox.subscription
    listed = [r["id"] for r in sub.reports if r["definition"].get("type") == "List"]
    now = sub.now_ms
    kinds = [
        *[(f"aggregate {name}", lambda c, i, p=p: api.aggregate(p, client=c))
          for name, p in AGGREGATIONS.items()],
        ("account", lambda c, i: api.account(sub.account_ids[i % len(sub.account_ids)], client=c)),
        ("visitor", lambda c, i: api.visitor(sub.visitor_ids[i % len(sub.visitor_ids)], client=c)),
        ("visitor_history", lambda c, i: api.visitor_history(
            sub.visitor_ids[i % len(sub.visitor_ids)], now - 2 * DAY_MS - i * 3_600_000,
            now - i * 3_600_000, client=c)),
        ("reports", lambda c, i: api.reports(client=c)),
        ("report", lambda c, i: api.report(listed[i % len(listed)], client=c)),
        ("report_csv", lambda c, i: api.report_csv(listed[i % len(listed)], client=c)),
    ]  # fmt: skip
    cycle = itertools.cycle(kinds)
    return [(f"{label} #{i}", call) for i, (label, call) in zip(range(count), cycle, strict=False)]


def run_all(sandbox: Sandbox, count: int) -> list[pd.DataFrame]:
    # Patience for many faults in a row: the point here is the result, not giving up.
    client = client_of(sandbox, retry=RetryPolicy(max_tries=10, backoff=0.01, backoff_max=0.05))
    try:
        return [call(client, i) for i, (_label, call) in enumerate(operations(sandbox, count))]
    finally:
        client.close()


RETRIED_FAULTS = ("429", "503", "reset", "truncate")  # "slow" answers late but answers


def test_300_operations_with_20_percent_faults_equal_a_fault_free_run(clock):
    with Sandbox(size="small", faults=FaultPlan(rate=0.0)) as calm:
        expected = run_all(calm, 300)
        calm_requests = len(calm.faults.seen)
    assert clock.waits == []
    plan = FaultPlan(rate=0.2, seed=11, slow_ms=30, retry_after=2)
    with Sandbox(size="small", faults=plan) as stormy:
        got = run_all(stormy, 300)
        injected = stormy.faults.counts()
        stormy_requests = len(stormy.faults.seen)
    labels = [label for label, _ in operations(stormy, 300)]
    for label, want, have in zip(labels, expected, got, strict=True):
        pd.testing.assert_frame_equal(have, want, obj=label)
    # Faults of every kind happened, about one request in five.
    assert set(injected) == {"429", "503", "reset", "slow", "truncate"}
    assert 0.15 < injected.total() / stormy_requests < 0.25
    # Each retried fault cost exactly one more request, and nothing else did.
    retried = sum(injected[kind] for kind in RETRIED_FAULTS)
    assert stormy_requests == calm_requests + retried
    # One wait per retry; the 429s waited exactly their Retry-After, backoffs stayed short.
    assert len(clock.waits) == retried
    assert clock.waits.count(plan.retry_after) == injected["429"]
    assert all(w == plan.retry_after or w <= 0.06 for w in clock.waits)


PERSISTENT = [
    ("503", ServerError),
    ("429", RateLimitError),
    ("reset", PendoConnectionError),
    ("truncate", PendoConnectionError),
]


@pytest.mark.parametrize(("fault", "error"), PERSISTENT)
def test_a_persistent_fault_ends_in_a_clear_error_after_max_tries(clock, fault, error):
    plan = FaultPlan(faults=fault, rate=1.0, retry_after=1)
    with Sandbox(size="small", faults=plan) as sandbox:
        client = client_of(sandbox)
        with pytest.raises(error) as caught:
            client.get_reports()
        tries = len(sandbox.faults.seen)
    assert isinstance(caught.value, PendoError)
    assert not isinstance(caught.value, requests.RequestException)
    assert tries == QUICK_RETRY.max_tries
    assert len(clock.waits) == QUICK_RETRY.max_tries - 1
    assert clock.waited <= QUICK_RETRY.max_seconds
    if isinstance(caught.value, PendoAPIError):
        assert caught.value.status == int(fault)
        assert "/api/v1/report" in str(caught.value) and caught.value.hint


def test_a_retry_after_beyond_the_time_budget_is_not_waited_for(clock):
    plan = FaultPlan(faults="429", rate=1.0, retry_after=600)
    with Sandbox(size="small", faults=plan) as sandbox:
        client = client_of(sandbox, retry=RetryPolicy(max_tries=5, max_seconds=30.0))
        with pytest.raises(RateLimitError):
            client.get_reports()
        assert len(sandbox.faults.seen) == 1
    assert clock.waits == []


def test_waits_stop_at_the_time_budget_even_with_tries_left(clock):
    # Retry-After 4 s against a 10 s budget: two waits fit (8 s), a third would overrun.
    plan = FaultPlan(faults="503,429", rate=1.0, retry_after=4, seed=3)
    with Sandbox(size="small", faults=plan) as sandbox:
        policy = RetryPolicy(max_tries=50, max_seconds=10.0, backoff=4.0, backoff_max=4.0)
        client = client_of(sandbox, retry=policy)
        with pytest.raises(PendoAPIError):
            client.get_reports()
        tries = len(sandbox.faults.seen)
    assert clock.waited <= policy.max_seconds
    assert tries == len(clock.waits) + 1 < policy.max_tries


def test_an_answer_slower_than_the_read_timeout_is_retried_then_given_up(clock):
    # Every answer takes 2 s; the client reads for 0.2 s: each try times out (a real wait).
    plan = FaultPlan(faults="slow", rate=1.0, slow_ms=2000)
    with Sandbox(size="small", faults=plan) as sandbox:
        client = client_of(sandbox, timeout=(2.0, 0.2), retry=RetryPolicy(max_tries=2))
        with pytest.raises(PendoConnectionError) as caught:
            client.get_reports()
        assert len(sandbox.faults.seen) == 2
    assert not isinstance(caught.value, requests.RequestException)


def test_a_fault_then_an_answer_is_invisible_to_the_caller(clock):
    plan = FaultPlan(faults="truncate", rate=1.0, limit=1)
    with Sandbox(size="small", faults=plan) as sandbox:
        client = client_of(sandbox)
        frame = api.reports(client=client)
        sub_reports = [r for r in sandbox.subscription.reports if r.get("shared")]
        assert [f.fault for f in sandbox.faults.seen] == ["truncate", None]
    assert list(frame["id"]) == [r["id"] for r in sub_reports]
