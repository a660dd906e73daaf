"""Load: 8 concurrent clients sharing one SQLite cache against one sandbox.

Point 7 of the reliability issue. The scenario is the one ``benchmarks/bench_load.py`` times
(``make bench`` reports throughput and p50/p99); here it is checked: no request failed, no client
got an answer meant for another request, the server saw exactly the cache misses, the cache file
is intact and in WAL mode, and the sandbox still answers. 100 requests per client by default,
250 with ``PENDO_NB_LONG_TESTS=1``.
"""

from __future__ import annotations

import sqlite3

import orjson
import pytest
import requests

from benchmarks.bench_load import run_load
from pendo_nb import PendoClient
from pendo_nb.http.session import RetryPolicy
from pendo_nb.sandbox import FaultPlan, Sandbox

from .reliability_helpers import LONG

pytestmark = pytest.mark.slow  # kept to seconds; PENDO_NB_LONG_TESTS=1 for the long run
CLIENTS = 8
PER_CLIENT = 250 if LONG else 100


def assert_cache_intact(path, sandbox: Sandbox) -> int:
    """SQLite says the file is sound and in WAL mode; every stored answer reads back as JSON."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reader = PendoClient(sandbox.key, base_url=sandbox.url, cache=path, rate_limit=None)
    try:
        stored = list(reader._session.cache.responses.values())
        for response in stored:
            assert response.status_code == 200
            orjson.loads(response.content)
    finally:
        reader.close()
    return len(stored)


def assert_responsive(sandbox: Sandbox) -> None:
    answer = requests.get(
        sandbox.url + "/api/v1/report", headers={"x-pendo-integration-key": sandbox.key}, timeout=10
    )
    assert answer.status_code == 200


def test_eight_clients_sharing_a_cache_get_every_answer_right(tmp_path):
    cache = tmp_path / "shared.sqlite"
    with Sandbox(size="small", faults=FaultPlan(rate=0.0)) as sandbox:
        result = run_load(sandbox, cache, clients=CLIENTS, requests_per_client=PER_CLIENT)
        served = len(sandbox.faults.seen)
        assert_responsive(sandbox)
        stored = assert_cache_intact(cache, sandbox)
    assert result.failures == [] and result.mismatches == []
    assert result.requests == CLIENTS * PER_CLIENT == result.hits + result.misses
    assert served == result.misses  # each miss reached the server once; no hit did
    assert result.hits > 0 and stored > 0


def test_eight_clients_ride_out_faults_under_load(tmp_path, clock):
    cache = tmp_path / "shared.sqlite"
    plan = FaultPlan(faults=("429", "503", "reset", "truncate"), rate=0.1, seed=2)
    retry = RetryPolicy(max_tries=8, backoff=0.01, backoff_max=0.05)
    with Sandbox(size="small", faults=plan) as sandbox:
        result = run_load(sandbox, cache, clients=CLIENTS, requests_per_client=PER_CLIENT // 2,
                          retry=retry)  # fmt: skip
        injected = sandbox.faults.counts().total()
        served = len(sandbox.faults.seen)
        assert_responsive(sandbox)
        assert_cache_intact(cache, sandbox)
    assert result.failures == [] and result.mismatches == []
    assert injected > 0
    assert served == result.misses + injected  # one extra request per fault, none lost
