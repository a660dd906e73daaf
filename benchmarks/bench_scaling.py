"""Scaling curves (issue 18): time and peak memory against the amount of work.

Three curves, each point in a fresh subprocess so that its peak memory (resident memory sampled
every few milliseconds, above the process's baseline) is its own:

* aggregation rows: ``pn.aggregate`` of a 10k / 100k / 1M-row nested ``visitors`` answer served
  on loopback (the frames benchmark's payload and server), HTTP included;
* windows: a pull of 7 / 30 / 365 daily windows of ``events`` (4 workers) from a ``demo``
  sandbox in its own process (its data spans 90 days: later windows are empty, so a window past
  them costs its round trip only);
* sandbox sizes: ``generate(size=...)`` for ``small`` / ``demo`` / ``large``, the work counted
  in raw events.

Each curve prints its fitted exponent, the slope of log(time) and of log(peak memory) over
log(work): growth is linear while it stays <= 1.15 (fixed costs make small points relatively
slow, so a sub-linear slope is expected).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from benchmarks._sandbox_process import start_sandbox, stop_sandbox
from benchmarks.bench_frames import KEY, _PeakSampler, _rss_bytes, build_payload, serve

ROWS = (10_000, 100_000, 1_000_000)
WINDOWS = (7, 30, 365)
SIZES = ("small", "demo", "large")
LINEAR = 1.15


def _child(kind: str, amount: str, url: str) -> None:
    """Do one point's work once in this fresh process; print its time, peak memory and work."""
    import gc

    from pendo_nb import PendoClient
    from pendo_nb.api import functions as api
    from pendo_nb.sandbox import DEMO_KEY
    from pendo_nb.sandbox.subscription.generate import generate

    def work() -> int:
        if kind == "rows":
            client = PendoClient(KEY, base_url=url, cache=False, rate_limit=None)
            return len(api.aggregate([{"source": {"visitors": None}}], client=client))
        if kind == "windows":
            series = {"period": "dayRange", "first": "now()", "count": -int(amount)}
            api.aggregate([{"source": {"events": None, "timeSeries": series}}],
                          client=PendoClient(DEMO_KEY, base_url=url, cache=False),
                          windows="1D", workers=4, progress=False)  # fmt: skip
            return int(amount)
        return len(generate(size=amount).events)

    gc.collect()
    baseline = _rss_bytes()
    with _PeakSampler() as sampler:
        started = time.perf_counter()
        done = work()
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak": sampler.peak - baseline, "work": done}))


def _point(kind: str, amount: object, url: str = "") -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_scaling", "--child", kind, str(amount), url]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rows_curve() -> list[dict]:
    points = []
    for rows in ROWS:
        server, url = serve(build_payload(rows))
        try:
            points.append(_point("rows", rows, url))
        finally:
            server.shutdown()
    return points


def _windows_curve() -> list[dict]:
    process, url = start_sandbox("demo")
    try:
        return [_point("windows", count, url) for count in WINDOWS]
    finally:
        stop_sandbox(process)


def _exponent(points: list[dict], figure: str) -> float:
    work = np.log([p["work"] for p in points])
    return float(np.polyfit(work, np.log([max(p[figure], 1e-9) for p in points]), 1)[0])


def main() -> None:
    curves = {
        "aggregation rows": _rows_curve(),
        "daily windows": _windows_curve(),
        "sandbox raw events": [_point("size", size) for size in SIZES],
    }
    print(f"{'curve':<20}{'work':>12}{'time s':>9}{'peak MB':>9}")
    for name, points in curves.items():
        for point in points:
            print(
                f"{name:<20}{point['work']:>12,}{point['seconds']:>9.2f}{point['peak'] / 1e6:>9.0f}"
            )
        time_slope, memory_slope = _exponent(points, "seconds"), _exponent(points, "peak")
        met = time_slope <= LINEAR and memory_slope <= LINEAR
        print(
            f"  exponent: time {time_slope:.2f}, memory {memory_slope:.2f} "
            f"(target <= {LINEAR}, linear): {'met' if met else 'MISSED'}"
        )


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        main()
