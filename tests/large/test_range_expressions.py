"""The one writer of a timeSeries' range (pulls.server_clock.range_expressions), which the
windowed pulls and the builder's cards both use; hours differ between them by ``snap`` only."""

from __future__ import annotations

import pytest

from pendo_nb.pulls.server_clock import range_expressions
from pendo_nb.pulls.windows.boundaries import _range_expressions

DAY = 'startOfPeriod("daily", now())'


def test_a_negative_count_ends_just_before_the_period_holding_first():
    start, end = range_expressions("now()", unit="days", snap="daily", count=-7)
    assert (start, end) == (f'dateAdd({DAY}, -7, "days")', DAY)


def test_a_positive_count_starts_at_the_period_holding_first():
    assert range_expressions("now()", unit="days", snap="daily", count=2) == (
        DAY,
        f'dateAdd({DAY}, 2, "days")',
    )


def test_a_last_bound_ends_after_its_period():
    start, end = range_expressions('date("2026-10-01")', unit="weeks", snap="weekly", last="now()")
    assert start == 'startOfPeriod("weekly", date("2026-10-01"))'
    assert end == 'dateAdd(startOfPeriod("weekly", now()), 1, "weeks")'


def test_without_snap_the_bounds_are_taken_as_they_are():
    assert range_expressions("1700000000000", unit="hours", snap=None, count=-3) == (
        'dateAdd(1700000000000, -3, "hours")',
        "1700000000000",
    )


def test_a_range_needs_a_count_or_a_last_bound():
    with pytest.raises(ValueError, match="count or a last"):
        range_expressions("now()", unit="days", snap="daily")


def test_windowed_pulls_snap_hours_too():
    series = {"period": "hourRange", "first": "now()", "count": -3}
    assert _range_expressions(series, "H") == range_expressions(
        "now()", unit="hours", snap="hourly", count=-3
    )
