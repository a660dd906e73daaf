"""Generation of the synthetic subscription: time and peak memory for each size.

For each size it prints the wall time of one generation, the peak traced memory of a second one
(tracemalloc sees numpy's buffers; it slows Python code, so the two are measured apart), and two
ratios against figures of the same run: the peak against the final event table's own bytes, and
the time per million raw events. For ``large`` it also counts the rows of a 30-day ``events``
source grouped per (visitor, account, app, day, IP, server, user agent), which must be at least
1,000,000 (pandas over the raw arrays, independent of the engine).
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import pandas as pd

from pendo_nb.sandbox.subscription.generate import SIZES, generate
from pendo_nb.sandbox.subscription.model import TRACK, Subscription

DAY_MS = 86_400_000
REQUIRED_LARGE_ROWS = 1_000_000


def _table_bytes(sub: Subscription) -> int:
    return sum(array.nbytes for array in vars(sub.events).values())


def _grouped_rows_30_days(sub: Subscription) -> int:
    """Rows of the 30 days before today in ``events`` grouped per Pendo's key (UTC days)."""
    e = sub.events
    today = sub.now_ms - sub.now_ms % DAY_MS
    keep = (
        (e.ts >= today - 30 * DAY_MS) & (e.ts < today) & (e.kind != TRACK)
    )  # `events` has no track
    frame = pd.DataFrame(
        {
            "visitor": e.visitor[keep],
            "account": e.account[keep],
            "app": e.app[keep],
            "day": e.ts[keep] // DAY_MS,
            "ip": e.ip[keep],
            "server": e.server[keep],
            "user_agent": e.user_agent[keep],
        }
    )
    return int(frame.groupby(list(frame.columns), sort=False).ngroups)


def main() -> None:
    widths = {
        "size": -6,
        "time s": 7,
        "peak MB": 8,
        "events": 10,
        "peak/table": 10,
        "s/M events": 10,
    }
    print(
        " ".join(
            f"{name:<{-width}}" if width < 0 else f"{name:>{width}}"
            for name, width in widths.items()
        )
    )
    for size in SIZES:
        gc.collect()
        started = time.perf_counter()
        sub = generate(seed=7, size=size)
        elapsed = time.perf_counter() - started
        events, table = len(sub.events), _table_bytes(sub)
        grouped = _grouped_rows_30_days(sub) if size == "large" else None
        del sub
        gc.collect()
        tracemalloc.start()
        generate(seed=7, size=size)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{size:<6} {elapsed:>7.2f} {peak / 2**20:>8.0f} {events:>10,} "
            f"{peak / table:>10.1f} {elapsed / max(events, 1) * 1e6:>10.2f}",
            flush=True,
        )
        if grouped is not None:
            verdict = (
                "ok" if grouped >= REQUIRED_LARGE_ROWS else f"TOO FEW (< {REQUIRED_LARGE_ROWS:,})"
            )
            print(
                f"       large: 30-day events grouped per Pendo's key: {grouped:,} rows ({verdict})"
            )


if __name__ == "__main__":
    main()
