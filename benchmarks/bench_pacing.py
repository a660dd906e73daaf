"""Adaptive pacing (issue 18): parallel windows with latency, and a server that throttles.

Both against a ``small`` sandbox in its own process (sharing this interpreter would bunch its
arrivals up, which a throttling server counts):

* daily windows with 400 ms of latency each, 8 workers vs one after another: target >= 6.5x
  (8x is the ceiling, less the one request that reads the windows' boundaries); for reference
  the same pull with the client capped at 10 requests per second, the fixed cap of before;
* a sandbox that answers 429 with ``Retry-After`` above ``THROTTLE`` requests per second
  (``--throttle``): a first pull teaches the shared limiter the server's pace, then the measured
  pull, in windows per second: sustained throughput >= 90% of ``THROTTLE`` with 0 failed
  windows, and the 429s it drew (a retry storm would draw hundreds).
"""

from __future__ import annotations

import time

from benchmarks._sandbox_process import start_sandbox, stop_sandbox
from pendo_nb import PendoClient
from pendo_nb.api import functions as api
from pendo_nb.sandbox import DEMO_KEY

LATENCY_MS = 400
LATENCY_WINDOWS = 64
WORKERS = 8
THROTTLE = 20
THROTTLE_WINDOWS = 240
LEARN_WINDOWS = 40


def _days(count: int) -> list[dict]:
    series = {"period": "dayRange", "first": "now()", "count": -count}
    return [{"source": {"events": None, "timeSeries": series}}]


def _pull(client: PendoClient, days: int, workers: int) -> float:
    started = time.perf_counter()
    api.aggregate(_days(days), client=client, windows="1D", workers=workers, progress=False)
    return time.perf_counter() - started


def _latency() -> dict[str, float]:
    process, url = start_sandbox("small", "--latency-ms", str(LATENCY_MS))
    try:

        def client(rate_limit):
            return PendoClient(DEMO_KEY, base_url=url, cache=False, rate_limit=rate_limit)

        return {
            "serial": _pull(client("auto"), LATENCY_WINDOWS, 1),
            "parallel": _pull(client("auto"), LATENCY_WINDOWS, WORKERS),
            "capped": _pull(client(10), LATENCY_WINDOWS, WORKERS),
        }
    finally:
        stop_sandbox(process)


def _throttled() -> dict[str, float]:
    process, url = start_sandbox("small", "--throttle", str(THROTTLE))
    try:
        client = PendoClient(DEMO_KEY, base_url=url, cache=False)
        limiter = client._session.get_adapter(url).limiter
        _pull(client, LEARN_WINDOWS, WORKERS)
        refused_before, failed = limiter.pushed_back, 0
        try:
            elapsed = _pull(client, THROTTLE_WINDOWS, WORKERS)
        except Exception:  # a window that failed for good fails the whole pull
            failed, elapsed = 1, float("nan")
        refused = limiter.pushed_back - refused_before
    finally:
        stop_sandbox(process)
    return {"elapsed": elapsed, "refused": refused, "learned": limiter.ceiling, "failed": failed}


def main() -> None:
    latency = _latency()
    throttled = _throttled()
    print(f"{LATENCY_WINDOWS} daily windows, {LATENCY_MS} ms latency each")
    print(f"  one after another       {latency['serial']:7.2f} s")
    print(f"  {WORKERS} workers, adaptive     {latency['parallel']:7.2f} s")
    print(f"  {WORKERS} workers, 10/s fixed   {latency['capped']:7.2f} s  (the cap of before)")
    rate = THROTTLE_WINDOWS / throttled["elapsed"]
    print(
        f"{THROTTLE_WINDOWS} daily windows, {WORKERS} workers, server throttling above "
        f"{THROTTLE}/s: {throttled['elapsed']:.2f} s ({rate:.1f} windows/s), "
        f"{throttled['refused']} answered 429, ceiling learned {throttled['learned']:.0f}/s"
    )
    speedup = latency["serial"] / latency["parallel"]
    before = latency["serial"] / latency["capped"]
    share = rate / THROTTLE
    failed = throttled["failed"]
    for label, value, target, met in (
        (f"serial / {WORKERS} workers", f"{speedup:7.2f}x", ">= 6.5x", speedup >= 6.5),
        ("  (10/s cap of before)", f"{before:7.2f}x", "none", True),
        ("throughput / throttle", f"{share:7.0%} ", ">= 90%", share >= 0.9),
        ("failed windows", f"{failed:7d} ", "0", failed == 0),
    ):
        print(f"{label:<24}{value}  (target {target}): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
