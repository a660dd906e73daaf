"""Product metrics: ``pn.metrics`` (grouped on the server) against pulling the events as they are.

Stickiness (DAU/MAU per day) and weekly retention over 90 days of a ``large`` sandbox (140,000
visitors; its events cover the last 32 days, so the 90 days hold all of them), run in its own
process. Each way runs once on a client without a cache, and every byte of every answer is
counted (``Content-Length`` of each response: what crossed the wire):

* ``pn.metrics``: the library (each visitor once a month with the list of its active days,
  from the server, then pandas);
* naive: the ``events`` source's rows pulled as they are, no grouping (through the same
  ``pn.aggregate`` and windows, so only the grouping differs), the metric computed in pandas;
* hand-written: notebook 04's former way (before ``pn.metrics``): visitor-days grouped on the
  server in one request, then a visitor x day crosstab rolled over 30 days (and, for retention,
  the same crosstab read against each visitor's first visit).

Targets (issue 26): ``pn.metrics`` at least 10x faster than naive and moving at least 20x fewer
bytes; the ratio against the hand-written way is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

import pendo_nb as pn
from benchmarks._sandbox_process import start_sandbox, stop_sandbox
from pendo_nb import PendoClient
from pendo_nb.sandbox import DEMO_KEY

#: The large sandbox's clock is 1 November 2026, 12:00 UTC: 90 days ending yesterday.
FIRST, LAST = "2026-08-03", "2026-10-31"
MONTH = pd.Timedelta(days=29)


class Counted:
    """A client without a cache whose answers' bytes are counted."""

    def __init__(self, url: str) -> None:
        self.client = PendoClient(DEMO_KEY, base_url=url, cache=False)
        self.responses: list[Any] = []
        # requests calls a session's response hooks once per layer: keep each response once.
        self.client._session.hooks["response"].append(self._seen)

    def _seen(self, response: Any, *args: Any, **kwargs: Any) -> None:
        if not any(response is seen for seen in self.responses):
            self.responses.append(response)

    @property
    def bytes(self) -> int:
        return sum(int(r.headers.get("Content-Length") or len(r.content)) for r in self.responses)


def _raw_events(client: PendoClient, first: str, last: str) -> pd.DataFrame:
    """The events source's rows over the days, as they are (no grouping)."""
    rows = pn.source.events(app_id="*").between(first, last)
    return pn.aggregate(rows, client=client, windows="1M", progress=False)


def _identified(rows: pd.DataFrame) -> pd.DataFrame:
    ids = rows["visitorId"]
    return rows[(ids != "") & ~ids.str.startswith(("_PENDO_T_", "PENDO_T"))]


def _rolling_stickiness(visitor_days: pd.DataFrame, first: str) -> pd.Series:
    """Notebook 04's former computation: a visitor x day crosstab rolled over 30 days."""
    active = pd.crosstab(visitor_days["visitorId"], visitor_days["day"]).astype(bool)
    days = pd.date_range(visitor_days["day"].min(), LAST, freq="D")
    active = active.reindex(columns=days, fill_value=False)
    monthly = active.T.rolling(30, min_periods=1).max().T.sum()
    return (active.sum() / monthly)[first:]


def _retention_from_days(visitor_days: pd.DataFrame, firsts: pd.DataFrame) -> pd.DataFrame:
    """Weekly cohorts from visitor-days and first visits, written directly in pandas."""
    joined = visitor_days.merge(firsts, on="visitorId")
    joined["period"] = (joined["day"] - joined["first"]).dt.days // 7
    joined = joined[joined["period"].between(0, 5)]
    firsts = firsts.assign(
        cohort=firsts["first"] - pd.to_timedelta((firsts["first"].dt.day_of_week + 1) % 7, unit="D")
    )
    joined = joined.merge(firsts[["visitorId", "cohort"]], on="visitorId")
    retained = joined.groupby(["cohort", "period"])["visitorId"].nunique()
    return (retained / firsts.groupby("cohort").size()).rename("rate").reset_index()


def _first_visits(client: PendoClient) -> pd.DataFrame:
    people = pn.source.visitors().identified()
    rows = pn.aggregate(
        people.select(visitorId="visitorId", first="metadata.auto.firstvisit").filter(
            f'first >= date("{FIRST}") && first < date("2026-11-01")'
        ),
        client=client,
        progress=False,
    )
    rows["first"] = rows["first"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return rows


def stickiness_ways() -> dict[str, Callable[[PendoClient], object]]:
    lookback = (pd.Timestamp(FIRST) - MONTH).date().isoformat()

    def metrics(client: PendoClient) -> object:
        return pn.metrics.stickiness("DAU/MAU", "visitor", FIRST, LAST, client=client)

    def naive(client: PendoClient) -> object:
        rows = _identified(_raw_events(client, lookback, LAST))
        return _rolling_stickiness(rows[["day", "visitorId"]].drop_duplicates(), FIRST)

    def hand_written(client: PendoClient) -> object:
        days = pn.source.events(app_id="*").between(lookback, LAST).identified()
        visitor_days = pn.aggregate(days.group("day", "visitorId"), client=client, progress=False)
        return _rolling_stickiness(visitor_days, FIRST)

    return {"pn.metrics": metrics, "naive": naive, "hand-written": hand_written}


def retention_ways() -> dict[str, Callable[[PendoClient], object]]:
    def metrics(client: PendoClient) -> object:
        return pn.metrics.retention("week", "visitor", FIRST, LAST, client=client)

    def naive(client: PendoClient) -> object:
        rows = _identified(_raw_events(client, FIRST, LAST))
        return _retention_from_days(
            rows[["day", "visitorId"]].drop_duplicates(), _first_visits(client)
        )

    def hand_written(client: PendoClient) -> object:
        days = pn.source.events(app_id="*").between(FIRST, LAST).identified()
        visitor_days = pn.aggregate(days.group("day", "visitorId"), client=client, progress=False)
        return _retention_from_days(visitor_days, _first_visits(client))

    return {"pn.metrics": metrics, "naive": naive, "hand-written": hand_written}


def _measure(url: str, way: Callable[[PendoClient], object]) -> tuple[float, int]:
    counted = Counted(url)
    try:
        started = time.perf_counter()
        way(counted.client)
        return time.perf_counter() - started, counted.bytes
    finally:
        counted.client.close()


def main() -> None:
    started = time.perf_counter()
    process, url = start_sandbox("large")
    try:
        print(f"large sandbox up in {time.perf_counter() - started:.0f} s; {FIRST} to {LAST}")
        # The sandbox's first aggregations of the events build its caches: not part of any way.
        _measure(url, lambda client: _raw_events(client, LAST, LAST))
        for metric, ways in (("stickiness", stickiness_ways()), ("retention", retention_ways())):
            results = {name: _measure(url, way) for name, way in ways.items()}
            print(f"{metric}:")
            for name, (seconds, size) in results.items():
                print(f"  {name:<13}{seconds:8.2f} s {size / 1e6:10.1f} MB")
            fast, small = results["pn.metrics"]
            slow, big = results["naive"]
            hand_seconds, hand_bytes = results["hand-written"]
            for label, value, target in (
                ("naive / pn.metrics time", slow / fast, 10),
                ("naive / pn.metrics bytes", big / small, 20),
            ):
                verdict = "met" if value >= target else "MISSED"
                print(f"  {label:<28}{value:7.1f}x  (target >= {target}): {verdict}")
            print(f"  {'hand-written / pn.metrics time':<28}{hand_seconds / fast:7.1f}x")
            print(f"  {'hand-written / pn.metrics bytes':<28}{hand_bytes / small:7.1f}x")
    finally:
        stop_sandbox(process)


if __name__ == "__main__":
    main()
