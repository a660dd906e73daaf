"""Concurrent clients against one sandbox: throughput and latency, fault-free and with faults.

The load scenario: ``clients`` threads, each with its own :class:`~pendo_nb.PendoClient`
(all sharing one SQLite cache file), send ``requests_per_client`` requests each over loopback: a
mix of visitor and account lookups, report listings and contents, and small aggregations. Every
other request forces a fresh answer (and a cache write); the others may come from the cache.
``tests/reliability/test_load.py`` runs the same scenario and checks that nothing failed, no
answer was mixed up and the cache is intact.

The figures are wall-clock throughput and p50/p99 latency per request as a client sees it
(cache hits included). The faulty run adds 10% faults of every kind (retried by the clients,
with backoff shortened to keep the run short); its ratio to the baseline is the cost of riding
out the faults.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pendo_nb import PendoClient
from pendo_nb.errors import PendoError
from pendo_nb.http.session import RetryPolicy
from pendo_nb.sandbox import FaultPlan, Sandbox

YESTERDAY = {"period": "dayRange", "first": "now()", "count": -1}
#: Small aggregations the clients send (each client cycles through them).
AGGREGATIONS = (
    [{"source": {"accounts": None}}, {"limit": 5}],
    [{"source": {"visitors": None}}, {"select": {"visitorId": "visitorId"}}, {"limit": 20}],
    [
        {"source": {"events": None, "timeSeries": YESTERDAY}},
        {"group": {"group": ["visitorId"], "fields": {"n": {"sum": "numEvents"}}}},
    ],
)


@dataclass
class LoadResult:
    """What one load run measured."""

    latencies_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "client k, request i: error"
    mismatches: list[str] = field(default_factory=list)  # an answer for another object
    elapsed_s: float = 0.0
    hits: int = 0
    misses: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_s) + len(self.failures)

    def throughput(self) -> float:
        """Requests per second over the whole run."""
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(np.array(self.latencies_s) * 1000, q))


def _one_request(client: PendoClient, sandbox: Sandbox, number: int) -> str | None:
    """Send the ``number``-th request of the mix; returns what was wrong with the answer, if any."""
    sub = sandbox.subscription
    step = number % 6
    # Every other request asks the server again (and rewrites its cache entry), the others may
    # be answered from the cache that all clients share.
    refresh = number % 2 == 1
    if step in (0, 1):
        ids, fetch = (
            (sub.visitor_ids, client.get_visitor)
            if step == 0
            else (sub.account_ids, client.get_account)
        )
        wanted = ids[number % len(ids)]
        got = fetch(wanted, refresh=refresh).json().get("id")
        return None if got == wanted else f"asked for {wanted!r}, got {got!r}"
    if step == 2:
        answer = client.get_reports(refresh=refresh).json()
    elif step == 3:
        listed = [r["id"] for r in sub.reports if r["definition"].get("type") == "List"]
        report_id = listed[number % len(listed)]
        answer = client.get_report_results(report_id, refresh=refresh).json()
    else:
        body = AGGREGATIONS[number % len(AGGREGATIONS)]
        answer = client.post_aggregation(body, refresh=refresh).json()
        answer = answer.get("results") if isinstance(answer, dict) else answer
    return None if isinstance(answer, list) else f"expected a list, got {answer!r:.60}"


def run_load(
    sandbox: Sandbox,
    cache_path: Path,
    *,
    clients: int = 8,
    requests_per_client: int = 250,
    retry: RetryPolicy | None = None,
) -> LoadResult:
    """Run the load scenario against a running sandbox; every client shares ``cache_path``."""
    result = LoadResult()
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def work(index: int) -> None:
        try:
            client = PendoClient(
                sandbox.key,
                base_url=sandbox.url,
                cache=cache_path,
                rate_limit=None,  # the point is to push; the limiter would only queue requests
                retry=retry or RetryPolicy(),
            )
        except BaseException:
            ready.abort()  # everyone else, the caller too, would wait for this client forever
            raise
        latencies, failures, mismatches = [], [], []
        ready.wait()
        try:
            for i in range(requests_per_client):
                started = time.perf_counter()
                try:
                    mismatch = _one_request(client, sandbox, index * 7 + i)
                except PendoError as exc:
                    failures.append(f"client {index}, request {i}: {str(exc).splitlines()[0]}")
                    continue
                latencies.append(time.perf_counter() - started)
                if mismatch:
                    mismatches.append(f"client {index}, request {i}: {mismatch}")
        finally:
            info = client.cache_info()
            client.close()
            with lock:
                result.latencies_s += latencies
                result.failures += failures
                result.mismatches += mismatches
                result.hits += info.hits
                result.misses += info.misses

    threads = [threading.Thread(target=work, args=(k,), name=f"load-{k}") for k in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - started
    return result


def _report(name: str, result: LoadResult, baseline: LoadResult | None = None) -> None:
    ratio = ""
    if baseline:
        ratio = f"   {baseline.throughput() / result.throughput():4.2f}x the baseline's time"
    print(f"{name:<24} {result.requests:5d} requests in {result.elapsed_s:5.2f} s  "
          f"{result.throughput():7.0f} req/s  p50 {result.percentile_ms(50):6.1f} ms  "
          f"p99 {result.percentile_ms(99):6.1f} ms  hits {result.hits:5d}  "
          f"failed {len(result.failures)}{ratio}", flush=True)  # fmt: skip


def main() -> None:
    clients = int(os.environ.get("PENDO_NB_LOAD_CLIENTS", "8"))
    per_client = int(os.environ.get("PENDO_NB_LOAD_REQUESTS", "250"))
    print(f"{clients} clients x {per_client} requests, one sandbox (size small), loopback")
    with tempfile.TemporaryDirectory() as tmp, Sandbox(size="small") as sandbox:
        baseline = run_load(sandbox, Path(tmp, "baseline.sqlite"), clients=clients,
                            requests_per_client=per_client)  # fmt: skip
        _report("fault-free", baseline)
    plan = FaultPlan(rate=0.1, seed=1, slow_ms=200)
    quick_retries = RetryPolicy(max_tries=6, backoff=0.05, backoff_max=0.5)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(size="small", faults=plan) as sandbox:
        faulty = run_load(sandbox, Path(tmp, "faulty.sqlite"), clients=clients,
                          requests_per_client=per_client, retry=quick_retries)  # fmt: skip
        _report("10% faults, retried", faulty, baseline)
        print(f"{'':24} faults injected: {dict(sandbox.faults.counts())}", flush=True)


if __name__ == "__main__":
    main()
