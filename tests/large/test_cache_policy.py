"""The time-aware cache: closed windows cached long, windows touching the lag horizon briefly,
objects with the client's own expiry."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.http.cache_policy import CachePolicy
from pendo_nb.sandbox import Sandbox

from .conftest import window_series

HOUR_MS = 3_600_000
THREE_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -3},
        }
    }
]


def test_policy_by_hand():
    policy = CachePolicy()  # lag 8 h, closed 30 days, open 5 minutes
    now = 1_000 * HOUR_MS
    assert policy.horizon(now) == 992 * HOUR_MS
    assert policy.is_closed(992 * HOUR_MS, now)
    assert not policy.is_closed(992 * HOUR_MS + 1, now)
    assert policy.expiry_for(900 * HOUR_MS, now) == 30 * 86_400
    assert policy.expiry_for(995 * HOUR_MS, now) == 300
    assert policy.expiry_for(2_000 * HOUR_MS, now) == 300  # the future
    assert CachePolicy(closed=None).expiry_for(0, now) is None
    assert CachePolicy(lag=3600, open=timedelta(seconds=7)).expiry_for(999 * HOUR_MS + 1, now) == 7


@pytest.mark.parametrize("bad", [{"lag": -1}, {"open": None}, {"closed": "1 day"}])
def test_policy_refuses_bad_durations(bad):
    with pytest.raises(ValueError, match="must be a duration"):
        CachePolicy(**bad)


def epoch_ms(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value // 1_000_000


def cached_windows(client) -> dict[int, object]:
    """Cached window answers by their window start (first)."""
    found = {}
    for response in client._session.cache.responses.values():
        series = window_series(response.request.body or b"")
        if series is not None:
            found[series["first"]] = response
    return found


def lifetime(response) -> float | None:
    return (
        None
        if response.expires is None
        else (response.expires - response.created_at).total_seconds()
    )


def test_expiry_follows_the_servers_lag_horizon(make_client):
    # The server's clock says 06:00 UTC: with an 8-hour lag the horizon is Oct 31 22:00, so the
    # Oct 31 window (it ends at midnight) is still open, and the days before it are closed.
    with Sandbox(size="small", now="2026-11-01T06:00:00Z") as server:
        client = make_client(server.url, server.key)
        df = pn.aggregate(THREE_DAYS, client=client, windows="1D", progress=False)
        assert df.attrs["is_partial"] is True
        assert str(df.attrs["lag_horizon"]) == "2026-10-31 22:00:00+00:00"
        by_start = cached_windows(client)
        day = {d: epoch_ms(d) for d in ("2026-10-29", "2026-10-30", "2026-10-31")}
        assert set(by_start) == set(day.values())
        assert lifetime(by_start[day["2026-10-29"]]) == pytest.approx(30 * 86_400, abs=5)
        assert lifetime(by_start[day["2026-10-30"]]) == pytest.approx(30 * 86_400, abs=5)
        assert lifetime(by_start[day["2026-10-31"]]) == pytest.approx(300, abs=5)

        # Objects keep the client's own expiry (one hour by default).
        visitor_id = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}], client=client)[
            "visitorId"
        ][0]
        pn.visitor(visitor_id, client=client)
        objects = [
            r for r in client._session.cache.responses.values() if "/visitor/" in r.request.url
        ]
        assert [lifetime(r) for r in objects] == [pytest.approx(3600, abs=5)]


def test_a_shorter_lag_closes_more_windows_and_closed_can_mean_forever(make_client):
    with Sandbox(size="small", now="2026-11-01T06:00:00Z") as server:
        client = make_client(server.url, server.key)
        policy = CachePolicy(lag=timedelta(hours=1), closed=None)
        df = pn.aggregate(
            THREE_DAYS, client=client, windows="1D", progress=False, cache_policy=policy
        )
        assert df.attrs["is_partial"] is False
        assert [lifetime(r) for r in cached_windows(client).values()] == [None, None, None]


def test_a_rerun_is_served_from_the_cache(client):
    first = pn.aggregate(THREE_DAYS, client=client, windows="1D", progress=False)
    again = pn.aggregate(THREE_DAYS, client=client, windows="1D", progress=False)
    assert (first.attrs["windows_fetched"], first.attrs["windows_cached"]) == (3, 0)
    assert (again.attrs["windows_fetched"], again.attrs["windows_cached"]) == (0, 3)
    assert again.attrs["from_cache"] is True and again.attrs["is_partial"] is False
