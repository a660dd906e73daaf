"""Large pulls: parallel windows vs one after another, a cached re-run vs cold, peak memory.

Against a ``large`` sandbox in its own process (so its work does not share this process's
interpreter) with injected latency, as a real Pendo answer takes seconds:

* 30 daily windows of the last 30 days of ``events`` (~2.2 million rows), 4 workers vs 1 (windows
  one after another, as the Singer tap does): target >= 3x faster;
* the same pull re-run from the cache vs cold: target >= 20x faster;
* peak memory of a pull of over a million rows (an account roll-up of those events: each row
  once with its account and once under "(all)") vs the final DataFrame's own size, measured in a
  fresh subprocess by sampling its resident memory: target <= 2x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._sandbox_process import start_sandbox, stop_sandbox
from pendo_nb import PendoClient
from pendo_nb.sandbox import DEMO_KEY

#: Added to every answer by the sandbox (a day of events takes Pendo seconds to aggregate).
LATENCY_MS = 1500
WINDOWS = "1D"
LAST_30_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -30},
        }
    }
]
ROLL_UP = [
    *LAST_30_DAYS,
    {
        "fork": [
            [{"cat": None}],
            [{"filter": 'accountId != ""'}, {"eval": {"accountId": '"(all)"'}}],
        ]
    },
]


def _timed_pull(client: PendoClient, steps: list, workers: int) -> tuple[float, object]:
    from pendo_nb.api import functions as api

    started = time.perf_counter()
    frame = api.aggregate(steps, client=client, windows=WINDOWS, workers=workers, progress=False)
    return time.perf_counter() - started, frame


def _speed(url: str, cache_dir: Path) -> dict[str, float]:
    """Sequential vs parallel (no cache), then cold vs warm (one cache file)."""
    results: dict[str, float] = {}
    uncached = PendoClient(DEMO_KEY, base_url=url, cache=False)
    try:
        results["sequential"], frame = _timed_pull(uncached, LAST_30_DAYS, workers=1)
        results["rows"] = len(frame)
        del frame
        results["parallel"], _ = _timed_pull(uncached, LAST_30_DAYS, workers=4)
    finally:
        uncached.close()
    cached = PendoClient(DEMO_KEY, base_url=url, cache=cache_dir / "bench.sqlite")
    try:
        results["cold"], _ = _timed_pull(cached, LAST_30_DAYS, workers=4)
        results["warm"], frame = _timed_pull(cached, LAST_30_DAYS, workers=4)
        results["warm_windows_cached"] = frame.attrs["windows_cached"]
    finally:
        cached.close()
    return results


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakSampler:
    """The highest resident memory seen every few milliseconds (``ru_maxrss`` misses peaks of
    allocators that hand memory back with ``madvise``, such as pyarrow's)."""

    def __init__(self) -> None:
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _memory_child(url: str) -> None:
    """In a fresh process: pull the roll-up and print its peak memory and frame size as JSON."""
    import gc

    from pendo_nb.api import functions as api

    client = PendoClient(DEMO_KEY, base_url=url, cache=False)
    api.aggregate([{"source": {"visitors": None}}, {"limit": 1}], client=client)  # warm imports
    gc.collect()
    baseline = _rss_bytes()
    with _PeakSampler() as sampler:
        frame = api.aggregate(ROLL_UP, client=client, windows=WINDOWS, workers=4, progress=False)
    size = int(frame.memory_usage(deep=True).sum())
    print(json.dumps({"rows": len(frame), "peak": sampler.peak - baseline, "size": size}))


def _memory(url: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_large", "--memory-child", url],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    started = time.perf_counter()
    process, url = start_sandbox("large", "--latency-ms", str(LATENCY_MS))
    try:
        up = time.perf_counter() - started
        print(f"large sandbox with {LATENCY_MS} ms latency up in {up:.0f} s")
        with tempfile.TemporaryDirectory() as tmp:
            speed = _speed(url, Path(tmp))
        memory = _memory(url)
    finally:
        stop_sandbox(process)
    print(f"30 daily windows, {int(speed['rows']):,} rows")
    print(f"  one after another {speed['sequential']:7.2f} s")
    print(f"  4 workers         {speed['parallel']:7.2f} s")
    print(f"  cold (4 workers)  {speed['cold']:7.2f} s")
    cached = int(speed["warm_windows_cached"])
    print(f"  re-run from cache {speed['warm']:7.2f} s ({cached} of 30 windows cached)")
    print(
        f"roll-up pull, {memory['rows']:,} rows: peak {memory['peak'] / 1e6:.0f} MB, "
        f"DataFrame {memory['size'] / 1e6:.0f} MB"
    )
    parallel = speed["sequential"] / speed["parallel"]
    cache = speed["cold"] / speed["warm"]
    peak = memory["peak"] / memory["size"]
    for label, value, target, met in (
        ("sequential / 4 workers", parallel, ">= 3", parallel >= 3),
        ("cold / cached re-run", cache, ">= 20", cache >= 20),
        ("peak / DataFrame size", peak, "<= 2", peak <= 2),
    ):
        print(f"{label:<24}{value:>7.2f}x  (target {target}): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        _memory_child(sys.argv[2])
    else:
        main()
