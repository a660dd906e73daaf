"""Windowed pulls give the same rows as one request, for every shape that may be split.

The expected frame is the sandbox's own answer to the whole range in one request; the windowed
frame is built from per-window answers combined here. Rows are compared order-free (sorted by
every column) unless the pipeline ends with a sort, whose order must hold too.
"""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.sandbox import Sandbox

LAST_30_DAYS = {"period": "dayRange", "first": "now()", "count": -30}
LAST_3_DAYS_HOURS = {"period": "hourRange", "first": 'dateAdd(now(), -3, "days")', "last": "now()"}


def events(series=LAST_30_DAYS, source="events", params=None):
    return [{"source": {source: params, "timeSeries": series}}]


BY_VISITOR = {
    "group": {
        "group": ["visitorId"],
        "fields": {
            "events": {"sum": "numEvents"},
            "rows": {"count": None},
            "first": {"min": "firstTime"},
            "last": {"max": "lastTime"},
        },
    }
}

SHAPES = {
    "rows as they are": (events(), "1D"),
    "rows in weeks of days": (events(), "7D"),
    "row-wise steps": (
        events()
        + [
            {"filter": "numEvents > 1 && !isNull(accountId)"},
            {"eval": {"perMinute": "numEvents / numMinutes", "who": "toLowerCase(visitorId)"}},
            {"select": {"day": "day", "who": "who", "perMinute": "perMinute", "n": "numEvents"}},
        ],
        "1D",
    ),
    "group keyed by the day, any aggregator": (
        events()
        + [
            {
                "group": {
                    "group": ["day", "accountId"],
                    "fields": {
                        "visitors": {"count": "visitorId"},
                        "avgEvents": {"avg": "numEvents"},
                        "median": {"median": "numMinutes"},
                        "anyVisitor": {"first": "visitorId"},
                    },
                }
            }
        ],
        "1D",
    ),
    "group recombined (sum, count, min, max)": (events() + [BY_VISITOR], "1D"),
    "group recombined, top rows by a trailing sort and limit": (
        events() + [BY_VISITOR, {"sort": ["-events", "visitorId"]}, {"limit": 7}],
        "7D",
    ),
    "group in list form without the bucket": (
        events(source="pageEvents")
        + [{"group": {"group": ["pageId"], "fields": [{"n": {"sum": "numEvents"}}]}}],
        "1D",
    ),
    "group without fields (distinct keys)": (
        events() + [{"group": {"group": ["accountId", "appId"]}}],
        "1D",
    ),
    "reduce": (
        events() + [{"reduce": {"total": {"sum": "numEvents"}, "longest": {"max": "numMinutes"}}}],
        "1D",
    ),
    "count": (events() + [{"filter": "numEvents > 3"}, {"count": None}], "1D"),
    "hours in day windows": (
        events(LAST_3_DAYS_HOURS)
        + [{"group": {"group": ["hour"], "fields": {"n": {"sum": "numEvents"}}}}],
        "1D",
    ),
    "hours in hour windows": (events({"period": "hourRange", "first": "now()", "count": -6}), "1H"),
    "weeks": (events({"period": "weekRange", "first": "now()", "count": -4}), "1W"),
    "months": (events({"period": "monthRange", "first": "now()", "count": -2}), "1M"),
    "days in month windows": (
        events({"period": "dayRange", "first": 'date("2026-09-20")', "last": 'date("2026-10-10")'}),
        "1M",
    ),
    "feature events by feature": (
        events(source="featureEvents")
        + [{"group": {"group": ["featureId", "day"], "fields": {"n": {"sum": "numEvents"}}}}],
        "7D",
    ),
    "guide events (one row per event)": (
        events(source="guideEvents")
        + [
            {
                "select": {
                    "type": "type",
                    "guideId": "guideId",
                    "browserTime": "browserTime",
                    "visitorId": "visitorId",
                }
            }
        ],
        "1D",
    ),
    "fork of row-wise branches": (
        events() + [{"fork": [[{"filter": "numEvents > 5"}], [{"filter": "numEvents <= 1"}]]}],
        "1D",
    ),
}


def assert_same_rows(windowed: pd.DataFrame, whole: pd.DataFrame, ordered: bool) -> None:
    assert sorted(windowed.columns) == sorted(whole.columns)
    windowed = windowed[list(whole.columns)]
    if not ordered:
        by = list(whole.columns)
        windowed = windowed.sort_values(by).reset_index(drop=True)
        whole = whole.sort_values(by).reset_index(drop=True)
    pd.testing.assert_frame_equal(windowed.reset_index(drop=True), whole, check_exact=False)


@pytest.mark.parametrize("name", list(SHAPES))
def test_windowed_equals_whole(client, name):
    steps, size = SHAPES[name]
    whole = pn.aggregate(steps, client=client)
    windowed = pn.aggregate(steps, client=client, windows=size, progress=False)
    assert len(whole) > 0, "a shape with no rows would prove nothing"
    assert windowed.attrs["windows"] > 1
    assert_same_rows(windowed, whole, ordered=any("sort" in step for step in steps[-2:]))


def test_days_and_hours_across_a_dst_change(make_client):
    """New York falls back on 2026-11-01: that day has 25 hours, and windows still align."""
    with Sandbox(size="small", timezone="America/New_York", now="2026-11-02T15:00:00Z") as server:
        client = make_client(server.url, server.key, name="dst")
        for steps, size, periods in (
            (events({"period": "dayRange", "first": "now()", "count": -5}), "1D", 5),
            (
                events(
                    {
                        "period": "hourRange",
                        "first": 'date("2026-10-31")',
                        "last": 'date("2026-11-01T23:30")',
                    }
                )
                + [{"group": {"group": ["hour"], "fields": {"n": {"sum": "numEvents"}}}}],
                "1D",
                2,
            ),
        ):
            whole = pn.aggregate(steps, client=client)
            windowed = pn.aggregate(steps, client=client, windows=size, progress=False)
            assert windowed.attrs["windows"] == periods
            assert_same_rows(windowed, whole, ordered=False)
        # The 25-hour day is one window from local midnight to local midnight.
        start, end = windowed.attrs["start"], windowed.attrs["end"]
        assert (end - start) == pd.Timedelta(hours=49)
        assert start == pd.Timestamp("2026-10-31T04:00:00Z")


def test_auto_splits_only_when_exact(client):
    splittable = events() + [BY_VISITOR]
    auto = pn.aggregate(splittable, client=client, windows="auto", progress=False)
    assert auto.attrs["window_size"] == "1D" and auto.attrs["windows"] == 30
    refused = events() + [{"group": {"group": ["visitorId"], "fields": {"p": {"count": "pageId"}}}}]
    whole = pn.aggregate(refused, client=client, windows="auto", progress=False)
    assert "windows" not in whole.attrs  # run as one request
    assert_same_rows(whole, pn.aggregate(refused, client=client), ordered=False)


def test_builder_pipeline_runs_in_windows(client):
    pipeline = pn.source.events().last(10, "days").group("day", n={"sum": "numEvents"})
    windowed = pipeline.run(client=client, windows="1D", progress=False)
    assert windowed.attrs["windows"] == 10
    assert_same_rows(windowed, pn.aggregate(pipeline, client=client), ordered=False)
