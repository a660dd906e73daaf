"""A window that fails is halved down to one period; an interrupted pull fetches only what is
missing when run again; the progress bar counts windows, rows and cache hits."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.errors import PendoAPIError, ServerError

from .conftest import DAY_MS, window_series

EVENTS_14_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -14},
        }
    },
    {
        "group": {
            "group": ["visitorId"],
            "fields": {"n": {"sum": "numEvents"}, "rows": {"count": None}},
        }
    },
]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    by = list(right.columns)
    pd.testing.assert_frame_equal(
        left[by].sort_values(by).reset_index(drop=True),
        right.sort_values(by).reset_index(drop=True),
    )


def fail_longer_than(days: int, status: int):
    def fail(method, path, body):
        series = window_series(body)
        if series is not None and series["last"] + 1 - series["first"] > days * DAY_MS:
            return status
        return None

    return fail


@pytest.mark.parametrize("status", [504, 500, 408, 413])
def test_failing_windows_are_halved_down_to_what_succeeds(proxy, make_client, sandbox, status):
    expected = pn.aggregate(
        EVENTS_14_DAYS, client=make_client(sandbox.url, sandbox.key, cache=False)
    )
    proxy.fail = fail_longer_than(2, status)
    client = make_client(proxy.url, sandbox.key)
    windowed = pn.aggregate(EVENTS_14_DAYS, client=client, windows="7D", progress=False)
    same_rows(windowed, expected)
    # The sandbox's now is 2026-11-01 12:00 UTC: the 14 days are Oct 18 to Nov 1. Each week fails,
    # then its 3- and 4-day halves; 1- and 2-day pieces get through.
    assert sorted(windowed.attrs["split_windows"]) == [
        (utc("2026-10-18"), utc("2026-10-21")),
        (utc("2026-10-18"), utc("2026-10-25")),
        (utc("2026-10-21"), utc("2026-10-25")),
        (utc("2026-10-25"), utc("2026-10-28")),
        (utc("2026-10-25"), utc("2026-11-01")),
        (utc("2026-10-28"), utc("2026-11-01")),
    ]
    assert windowed.attrs["windows"] == 2  # as planned; the splits are reported beside
    spans = sorted((s["last"] + 1 - s["first"]) // DAY_MS for s in proxy.forwarded)
    assert spans == [1, 1, 2, 2, 2, 2, 2, 2]


def test_a_single_period_that_fails_is_an_error(proxy, make_client, sandbox):
    proxy.fail = fail_longer_than(0, 503)
    client = make_client(proxy.url, sandbox.key)
    with pytest.raises(ServerError) as caught:
        pn.aggregate(EVENTS_14_DAYS, client=client, windows="7D", progress=False)
    assert caught.value.status == 503
    assert any(
        "single dayRange period and cannot be split further" in n for n in caught.value.__notes__
    )


def test_other_errors_are_not_halved(proxy, make_client, sandbox):
    proxy.fail = fail_longer_than(0, 400)
    client = make_client(proxy.url, sandbox.key)
    with pytest.raises(PendoAPIError) as caught:
        pn.aggregate(EVENTS_14_DAYS, client=client, windows="7D", progress=False)
    assert caught.value.status == 400
    assert len(proxy.refused) <= 2  # the planned windows only, never their halves


def test_an_interrupted_pull_fetches_only_the_missing_windows(proxy, make_client, sandbox):
    expected = pn.aggregate(
        EVENTS_14_DAYS, client=make_client(sandbox.url, sandbox.key, cache=False)
    )
    cutoff = int(utc("2026-10-26").value // 1_000_000)
    proxy.fail = lambda method, path, body: (
        503 if (s := window_series(body)) is not None and s["first"] >= cutoff else None
    )
    client = make_client(proxy.url, sandbox.key)
    with pytest.raises(ServerError):
        pn.aggregate(EVENTS_14_DAYS, client=client, windows="1D", workers=2, progress=False)
    first_run = {s["first"] for s in proxy.forwarded}
    assert first_run and all(first < cutoff for first in first_run)

    proxy.fail = lambda method, path, body: None
    proxy.forwarded.clear()
    resumed = pn.aggregate(EVENTS_14_DAYS, client=client, windows="1D", workers=2, progress=False)
    second_run = {s["first"] for s in proxy.forwarded}
    assert not first_run & second_run  # nothing fetched twice
    assert len(first_run | second_run) == 14  # and nothing left out
    assert resumed.attrs["windows_cached"] == len(first_run)
    assert resumed.attrs["windows_fetched"] == len(second_run)
    same_rows(resumed, expected)


def test_progress_bar_counts_windows_rows_and_cache_hits(client, capsys):
    rows = EVENTS_14_DAYS[:1]
    total = len(pn.aggregate(rows, client=client))
    pn.aggregate(rows, client=client, windows="1D", progress=False)
    assert capsys.readouterr().err == ""  # quiet
    pn.aggregate(rows, client=client, windows="1D", progress=True)
    shown = capsys.readouterr().err
    assert "windows" in shown and "14/14" in shown
    assert f"rows={total:,}" in shown
    assert "cached=14" in shown  # every window came from the cache the second time
