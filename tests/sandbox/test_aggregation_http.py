"""Aggregations over HTTP checked against the raw events: timeSeries edges, time zones, nulls.

Expected values come from pandas over the generator's event table (``raw_events``), with days,
hours, weeks and months cut in the subscription's time zone by pandas, not by the engine.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import pandas as pd
import pytest

from pendo_nb.sandbox import Sandbox
from pendo_nb.sandbox.subscription.model import PAGE_LOAD, TRACK

from .sandbox_helpers import Api, raw_events

ALL_APPS = 'expandAppIds("*")'
ZONE = "America/Los_Angeles"


@pytest.fixture(scope="module")
def pacific():
    """A sandbox whose subscription lives in Los Angeles (UTC-7 / UTC-8 around the window)."""
    with Sandbox(size="small", timezone=ZONE) as server:
        yield server


@pytest.fixture(scope="module")
def pacific_events(pacific):
    frame = raw_events(pacific.subscription)
    frame["local"] = pd.to_datetime(frame.ts, unit="ms", utc=True).dt.tz_convert(ZONE)
    return frame


def _ms(moment: pd.Timestamp) -> int:
    return int(moment.timestamp() * 1000)


def _local_now(sub) -> pd.Timestamp:
    return pd.Timestamp(sub.now_ms, unit="ms", tz="UTC").tz_convert(ZONE)


def _tagged_page_loads(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame.kind == PAGE_LOAD) & frame.objectId.notna()]


def _sum_by(api: Api, source: dict, time_series: dict, key: str) -> dict[int, int]:
    rows = api.aggregate(
        [
            {"source": {**source, "timeSeries": time_series}},
            {"group": {"group": [key], "fields": {"n": {"sum": "numEvents"}}}},
        ]
    ).json()["results"]
    return {row[key]: row["n"] for row in rows}


def test_negative_count_ends_before_the_period_of_first(pacific, pacific_events):
    api = Api(pacific)
    today = _local_now(pacific.subscription).normalize()
    got = _sum_by(
        api,
        {"pageEvents": {"appId": ALL_APPS}},
        {"period": "dayRange", "first": "now()", "count": -3},
        "day",
    )
    loads = _tagged_page_loads(pacific_events)
    window = loads[(loads.local >= today - pd.Timedelta(days=3)) & (loads.local < today)]
    expected = window.groupby(window.local.dt.normalize()).size()
    assert got == {_ms(day): int(n) for day, n in expected.items()}
    assert len(got) == 3


def test_positive_count_starts_with_the_period_of_first(pacific, pacific_events):
    api = Api(pacific)
    yesterday = (_local_now(pacific.subscription) - pd.Timedelta(days=1)).normalize()
    series = {"period": "dayRange", "first": "now() - 24 * 60 * 60 * 1000", "count": 1}
    got = _sum_by(api, {"pageEvents": {"appId": ALL_APPS}}, series, "day")
    loads = _tagged_page_loads(pacific_events)
    in_day = (loads.local >= yesterday) & (loads.local < yesterday + pd.Timedelta(days=1))
    assert got == {_ms(yesterday): int(in_day.sum())}


def test_first_and_last_are_both_inclusive_and_snap_to_days(pacific, pacific_events):
    api = Api(pacific)
    now = _local_now(pacific.subscription)
    first = _ms(now - pd.Timedelta(days=4, hours=3))  # anywhere inside the day
    last = _ms(now - pd.Timedelta(days=2))
    got = _sum_by(
        api,
        {"pageEvents": {"appId": ALL_APPS}},
        {"period": "dayRange", "first": first, "last": last},
        "day",
    )
    loads = _tagged_page_loads(pacific_events)
    start = (now - pd.Timedelta(days=4, hours=3)).normalize()
    end = (now - pd.Timedelta(days=2)).normalize() + pd.Timedelta(days=1)
    window = loads[(loads.local >= start) & (loads.local < end)]
    assert got == {
        _ms(d): int(n) for d, n in window.groupby(window.local.dt.normalize()).size().items()
    }


def test_hour_range_for_one_page(pacific, pacific_events):
    api = Api(pacific)
    sub = pacific.subscription
    dashboard = next(p["id"] for p in sub.pages if p["name"] == "Dashboard")
    # Hours from 30 hours before now: counts per local hour bucket.
    first = sub.now_ms - 30 * 3_600_000
    got = _sum_by(
        api,
        {"pageEvents": {"pageId": dashboard}},
        {"period": "hourRange", "first": first, "count": 24},
        "hour",
    )
    loads = pacific_events[
        (pacific_events.kind == PAGE_LOAD) & (pacific_events.objectId == dashboard)
    ]
    start = pd.Timestamp(first, unit="ms", tz="UTC").floor("h")
    window = loads[(loads.ts >= _ms(start)) & (loads.ts < _ms(start) + 24 * 3_600_000)]
    expected = window.groupby(window.ts // 3_600_000 * 3_600_000).size()
    assert got == {int(h): int(n) for h, n in expected.items()}


def test_month_range_covers_the_local_calendar_month(pacific, pacific_events):
    api = Api(pacific)
    got = _sum_by(
        api,
        {"events": {"appId": ALL_APPS}},
        {"period": "monthRange", "first": "now()", "count": -1},
        "month",
    )
    frame = pacific_events[pacific_events.kind != TRACK]  # the events source has no track events
    # now is Nov 1, 04:00 in Los Angeles (12:00 UTC): count -1 is the whole month before, October.
    october = pd.Timestamp("2026-10-01", tz=ZONE)
    window = frame[(frame.local >= october) & (frame.local < pd.Timestamp("2026-11-01", tz=ZONE))]
    assert got == {_ms(october): len(window)}


def test_week_range_starts_on_sunday(pacific, pacific_events):
    api = Api(pacific)
    got = _sum_by(
        api,
        {"events": {"appId": ALL_APPS}},
        {"period": "weekRange", "first": "now()", "count": -1},
        "week",
    )
    frame = pacific_events[pacific_events.kind != TRACK]
    this_sunday = pd.Timestamp("2026-11-01", tz=ZONE)  # now is Sunday Nov 1, 04:00 in Los Angeles
    previous = this_sunday - pd.Timedelta(days=7)
    window = frame[(frame.local >= previous) & (frame.local < this_sunday)]
    assert got == {_ms(previous): len(window)}


def test_utc_and_pacific_days_bucket_the_same_events_differently(api, pacific):
    series = {"period": "dayRange", "first": "now()", "count": -2}
    utc_days = set(_sum_by(api, {"events": None}, series, "day"))
    pacific_days = set(_sum_by(Api(pacific), {"events": None}, series, "day"))
    assert len(utc_days) == len(pacific_days) == 2  # count -2: two days, both with events
    assert all(day % 86_400_000 == 0 for day in utc_days)
    assert all(
        day % 86_400_000 == 7 * 3_600_000 for day in pacific_days
    )  # PDT midnight = 07:00 UTC


# --- null semantics (reference 3.7) -------------------------------------------------------------


def _visitor_ids(api: Api, condition: str) -> set[str]:
    rows = api.aggregate(
        [{"source": {"visitors": None}}, {"filter": condition}, {"select": {"v": "visitorId"}}]
    ).json()
    return {r["v"] for r in rows["results"]}


def test_equality_treats_null_as_its_own_value(api, sandbox):
    visitors = sandbox.subscription.visitors
    without_department = {
        v for v, r in visitors.items() if "department" not in r["metadata"]["custom"]
    }
    assert (
        without_department
        and _visitor_ids(api, "metadata.custom.department == null") == without_department
    )
    not_finance = {
        v for v, r in visitors.items() if r["metadata"]["custom"].get("department") != "Finance"
    }
    assert _visitor_ids(api, 'metadata.custom.department != "Finance"') == not_finance


def test_logic_treats_null_as_false_and_arithmetic_propagates_it(api, sandbox):
    visitors = sandbox.subscription.visitors
    beta = {v for v, r in visitors.items() if r["metadata"]["custom"].get("betaopt") is True}
    assert _visitor_ids(api, "metadata.custom.betaopt && true") == beta
    rows = api.aggregate(
        [
            {"source": {"visitors": None}},
            {"eval": {"next": "metadata.custom.logincount + 1"}},
            {"select": {"v": "visitorId", "next": "next"}},
        ]
    ).json()["results"]
    for row in rows:
        count = visitors[row["v"]]["metadata"]["custom"].get("logincount")
        assert row["next"] == (None if count is None else count + 1)


# --- concurrency ---------------------------------------------------------------------------------


def test_concurrent_reads_and_writes_never_fail(fresh_sandbox):
    sub = fresh_sandbox.subscription
    visitor_ids = [v for v in sub.visitor_ids if not v.startswith("_PENDO_T_")][:20]
    failures: list[str] = []

    def reader() -> None:
        api = Api(fresh_sandbox)
        for visitor_id in visitor_ids:
            for response in (
                api.get(f"/api/v1/visitor/{quote(visitor_id)}"),
                api.aggregate(
                    [
                        {"source": {"visitors": None}},
                        {"select": {"c": "metadata.custom.logincount"}},
                    ]
                ),
            ):
                if response.status_code != 200:
                    failures.append(response.text)

    def writer() -> None:
        api = Api(fresh_sandbox)
        for i, visitor_id in enumerate(visitor_ids):
            body = [
                {"visitorId": visitor_id, "values": {"logincount": i}},
                {"visitorId": f"new-{i}", "values": {}},
            ]
            response = api.post(
                "/api/v1/metadata/visitor/custom/value", json=body, params={"create": "true"}
            )
            if response.status_code != 200:
                failures.append(response.text)

    threads = [threading.Thread(target=f) for f in (reader, reader, writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert [sub.visitors[v]["metadata"]["custom"]["logincount"] for v in visitor_ids] == list(
        range(20)
    )
