"""Local extracts: extract time and size, and local answers vs the live sandbox and DuckDB.

Against a ``large`` sandbox in its own process, for the last 30 days:

* extract at day grain vs the plain windowed pull of the same sources (each event source with
  ``windows="1D"``, then the objects): target <= 1.25x the time;
* the extract's files vs the JSON answers it read: target <= 1/5 of the bytes;
* the 30-day ``events`` + ``group`` pipeline answered locally (``connect(local=...)``) vs the same
  pipeline against the live sandbox: target >= 20x faster; and vs hand-written DuckDB SQL over the
  same Parquet files: target within 3x;
* the hour-grain extract's time and size, printed (no target).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import duckdb

import pendo_nb as pn
from benchmarks._sandbox_process import start_sandbox, stop_sandbox
from pendo_nb import PendoClient
from pendo_nb.pulls.extracts.manifest import DAY_SOURCES
from pendo_nb.sandbox import DEMO_KEY

START = "2026-10-03"  # the large sandbox's clock is 2026-11-01T12:00Z: 30 days through today
SERIES = {"period": "dayRange", "first": 'date("2026-10-03")', "count": 30}
EVENTS_BY_ACCOUNT = [
    {"source": {"events": None, "timeSeries": SERIES}},
    {"group": {"group": ["accountId"], "fields": {"events": {"sum": "numEvents"},
                                                  "minutes": {"sum": "numMinutes"}}}},
]  # fmt: skip
ANSWERS = 3  # local / DuckDB answers timed (best of)


def _client(url: str) -> PendoClient:
    return PendoClient(DEMO_KEY, base_url=url, cache=False, tz="UTC")


def _counting_json_bytes(client: PendoClient) -> list[int]:
    sizes: list[int] = []
    send = client.post_aggregation

    def counting(body, **kwargs):  # type: ignore[no-untyped-def]
        response = send(body, **kwargs)
        sizes.append(len(response.content))
        return response

    client.post_aggregation = counting  # type: ignore[method-assign]
    return sizes


def _timed(call) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _plain_pull(url: str) -> float:
    client = _client(url)
    started = time.perf_counter()
    for source in DAY_SOURCES:
        steps = [{"source": {source: {"appId": 'expandAppIds("*")', "blacklist": "ignore"},
                             "timeSeries": SERIES}}]  # fmt: skip
        client.aggregate(steps, windows="1D", progress=False)
    for kind in ("visitors", "accounts", "pages", "features", "trackTypes", "guides"):
        client.aggregate([{"source": {kind: None}}])
    client.reports()
    client.segments()
    return time.perf_counter() - started


def _duckdb_answer(folder: Path) -> float:
    sql = f"""
        SELECT accountId, sum(numEvents) AS events, sum(numMinutes) AS minutes
        FROM read_parquet('{folder}/events/*/*.parquet', hive_partitioning = true)
        WHERE appId = (SELECT CAST(json_extract(json, '$.id') AS BIGINT)
                       FROM read_parquet('{folder}/apps/*.parquet') LIMIT 1)
          AND visitorId NOT IN (SELECT visitorId
                                FROM read_parquet('{folder}/doNotProcessVisitors/*.parquet'))
        GROUP BY accountId
    """
    best = float("inf")
    for _ in range(ANSWERS):
        seconds, _frame = _timed(lambda: duckdb.sql(sql).df())
        best = min(best, seconds)
    return best


def main() -> None:
    process, url = start_sandbox("large")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "day"
            # First the live answer, twice: the first run warms the sandbox process up (its first
            # reads of the events cost more) and the second is timed; no pull below pays for it.
            live = _client(url).aggregate(EVENTS_BY_ACCOUNT)
            live_seconds = _timed(lambda: _client(url).aggregate(EVENTS_BY_ACCOUNT))[0]
            plain_seconds = _plain_pull(url)
            print(f"plain windowed pull of the same sources: {plain_seconds:.1f} s", flush=True)
            client = _client(url)
            json_sizes = _counting_json_bytes(client)
            extract_seconds, taken = _timed(
                lambda: pn.extract(folder, START, client=client, progress=False)
            )
            files = int(taken["bytes"].sum())
            rows = int(taken.set_index("source").loc["events", "rows"])
            print(f"day extract: {extract_seconds:.1f} s, {files / 1e6:.1f} MB, "
                  f"{rows:,} events rows", flush=True)  # fmt: skip
            print(f"extract files / JSON answers: {files / sum(json_sizes):.3f} "
                  "(target <= 0.2)", flush=True)  # fmt: skip
            print(f"extract / plain pull time: {extract_seconds / plain_seconds:.2f}x "
                  "(target <= 1.25x)", flush=True)  # fmt: skip

            local_client = pn.connect(local=folder)
            local_client.aggregate(EVENTS_BY_ACCOUNT)  # the extract's files read once
            local_seconds = min(
                _timed(lambda: local_client.aggregate(EVENTS_BY_ACCOUNT))[0] for _ in range(ANSWERS)
            )
            local = local_client.aggregate(EVENTS_BY_ACCOUNT)
            assert len(local) == len(live), (len(local), len(live))
            duck_seconds = _duckdb_answer(folder)
            print(f"30-day events + group: live {live_seconds:.2f} s, local "
                  f"{local_seconds:.3f} s, DuckDB {duck_seconds:.3f} s")  # fmt: skip
            print(f"local vs live: {live_seconds / local_seconds:.1f}x faster (target >= 20x)")
            print(f"local vs DuckDB: {local_seconds / duck_seconds:.1f}x DuckDB's time "
                  "(target <= 3x)", flush=True)  # fmt: skip
            shutil.rmtree(folder)

            hour_seconds, hour_taken = _timed(
                lambda: pn.extract(
                    Path(scratch) / "hour", START, grain="hour", client=_client(url), progress=False
                )  # fmt: skip
            )
            hour_rows = int(hour_taken.set_index("source").loc["events", "rows"])
            hour_bytes = int(hour_taken["bytes"].sum())
            print(f"hour extract: {hour_seconds:.1f} s, {hour_bytes / 1e6:.1f} MB, "
                  f"{hour_rows:,} events rows")  # fmt: skip
    finally:
        stop_sandbox(process)


if __name__ == "__main__":
    main()
