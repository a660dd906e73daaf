"""timeSeries (reference 3.3): periods, inclusive ``last``, negative ``count``, time-zone snapping.

Expected boundaries are written out as local wall-clock times and converted with ``ms()``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.errors import AggregationError
from pendo_nb.sandbox.engine.timeseries import resolve_time_series

from .engine_builders import ms

NOW = "2026-11-01T12:00"  # a Sunday


def ctx(tz: str = "UTC", now: str = NOW) -> EvalContext:
    return EvalContext(now_ms=ms(now, tz), timezone=ZoneInfo(tz))


def periods(spec: dict, tz: str = "UTC", now: str = NOW) -> list[tuple[int, int]]:
    return resolve_time_series(spec, ctx(tz, now))


def local(*texts: str, tz: str = "UTC") -> list[tuple[int, int]]:
    """Consecutive periods from boundary times: local("d1", "d2", "d3") -> [(d1, d2), (d2, d3)]."""
    points = [ms(t, tz) for t in texts]
    return list(zip(points[:-1], points[1:], strict=True))


def test_day_range_with_last_is_inclusive_and_snaps_to_midnight():
    spec = {"period": "dayRange", "first": ms("2026-09-01T15:20"), "last": ms("2026-09-03T00:01")}
    assert periods(spec) == local("2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04")


def test_positive_count_starts_with_the_period_of_first():
    spec = {"period": "dayRange", "first": ms("2026-09-01T23:59"), "count": 2}
    assert periods(spec) == local("2026-09-01", "2026-09-02", "2026-09-03")


def test_negative_count_excludes_the_period_of_first():
    # "now()" with count -1 is yesterday (Pendo's ETL README).
    assert periods({"period": "dayRange", "first": "now()", "count": -1}) == local(
        "2026-10-31", "2026-11-01"
    )
    assert periods({"period": "dayRange", "first": "now()", "count": -3}) == local(
        "2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01"
    )


def test_hour_range_snaps_to_hours():
    spec = {"period": "hourRange", "first": ms("2026-09-01T10:59:59"), "count": -2}
    assert periods(spec) == local("2026-09-01T08:00", "2026-09-01T09:00", "2026-09-01T10:00")


def test_week_range_starts_on_sunday():
    # 2026-09-02 is a Wednesday; its week starts Sunday 2026-08-30.
    spec = {"period": "weekRange", "first": ms("2026-09-02T12:00"), "count": 2}
    assert periods(spec) == local("2026-08-30", "2026-09-06", "2026-09-13")


def test_week_range_first_on_a_sunday_is_its_own_week():
    spec = {"period": "weekRange", "first": ms("2026-11-01T00:00"), "count": 1}
    assert periods(spec) == local("2026-11-01", "2026-11-08")


def test_month_range_has_calendar_months_across_a_year_end():
    spec = {"period": "monthRange", "first": ms("2026-11-15"), "last": ms("2027-02-28T23:00")}
    assert periods(spec) == local("2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01",
                                  "2027-03-01")  # fmt: skip


def test_day_boundaries_follow_the_subscription_time_zone():
    tz = "America/New_York"
    # 03:00 UTC on Sep 2 is still Sep 1 in New York (UTC-4).
    spec = {"period": "dayRange", "first": ms("2026-09-02T03:00"), "count": 1}
    assert periods(spec, tz) == local("2026-09-01", "2026-09-02", tz=tz)
    assert periods(spec, tz)[0][0] == ms("2026-09-01T04:00")  # midnight EDT in UTC


def test_dst_spring_forward_day_is_23_hours():
    tz = "America/New_York"  # 2026-03-08 02:00 -> 03:00
    spec = {"period": "dayRange", "first": ms("2026-03-08T12:00", tz), "count": 2}
    (start, end), (_, end2) = periods(spec, tz)
    assert (end - start) == 23 * 3_600_000
    assert (end2 - end) == 24 * 3_600_000
    assert start == ms("2026-03-08T05:00")  # midnight EST is 05:00 UTC


def test_dst_fall_back_day_is_25_hours_and_hours_repeat():
    tz = "Europe/Berlin"  # 2026-10-25 03:00 CEST -> 02:00 CET
    day = periods({"period": "dayRange", "first": ms("2026-10-25T12:00", tz), "count": 1}, tz)
    assert day[0][1] - day[0][0] == 25 * 3_600_000
    hours = periods({"period": "hourRange", "first": ms("2026-10-25T00:30", tz), "count": 4}, tz)
    # 00:00, 01:00, 02:00 CEST, 02:00 CET: four real hours starting at 22:00 UTC the day before.
    assert [start for start, _ in hours] == [ms("2026-10-24T22:00") + h * 3_600_000
                                            for h in range(4)]  # fmt: skip


def test_half_hour_zone_snaps_hours_locally():
    tz = "Asia/Kolkata"  # UTC+05:30
    hours = periods({"period": "hourRange", "first": ms("2026-09-01T10:45", tz), "count": 1}, tz)
    assert hours == local("2026-09-01T10:00", "2026-09-01T11:00", tz=tz)


def test_first_and_last_accept_numeric_strings_and_expressions():
    spec = {"period": "dayRange", "first": str(ms("2026-10-30T08:00")),
            "last": "dateAdd(now(), -1, \"days\")"}  # fmt: skip
    assert periods(spec) == local("2026-10-30", "2026-10-31", "2026-11-01")
    arithmetic = {"period": "dayRange", "first": "now() - 2 * 24 * 60 * 60 * 1000", "count": 1}
    assert periods(arithmetic) == local("2026-10-30", "2026-10-31")
    month_start = {"period": "dayRange", "first": 'startOfPeriod("monthly", now())', "count": 1}
    assert periods(month_start) == local("2026-11-01", "2026-11-02")
    dated = {"period": "dayRange", "first": "date(2026, 9, 1)", "last": 'date("2026-09-02")'}
    assert periods(dated) == local("2026-09-01", "2026-09-02", "2026-09-03")


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"period": "yearRange", "first": 0, "count": 1}, "period"),
        ({"period": "daily", "first": 0, "count": 1}, "period"),
        (
            {"period": "dayRange", "first": 0, "last": 0, "count": 1},
            "exactly one of 'last' or 'count'",
        ),
        ({"period": "dayRange", "first": 0}, "exactly one of 'last' or 'count'"),
        ({"period": "dayRange", "count": 1}, "'first' is required"),
        ({"period": "dayRange", "first": 0, "count": 0}, "count: must not be 0"),
        ({"period": "dayRange", "first": 0, "count": 1.5}, "count"),
        ({"period": "dayRange", "first": 0, "count": True}, "count"),
        ({"period": "dayRange", "first": "now(", "count": 1}, "first"),
        ({"period": "dayRange", "first": '"yesterday"', "count": 1}, "first"),
        ({"period": "dayRange", "first": None, "count": 1}, "first"),
        ({"period": "dayRange", "first": 1e300, "count": 1}, "first"),
        ({"period": "dayRange", "first": 10**9, "last": 0}, "'last' is before 'first'"),
        ({"period": "hourRange", "first": 0, "count": 10**9}, "count"),
        ({"period": "monthRange", "first": 253_402_000_000_000, "count": 40}, "calendar"),
        ({"period": "dayRange", "first": -62_135_596_000_000, "count": -3}, "calendar"),
        ({"period": ["dayRange"], "first": 0, "count": 1}, "period"),
        ({"period": "dayRange", "first": 0, "count": 1, "step": 2}, "unknown field 'step'"),
        ("dayRange", "must be an object"),
    ],
)
def test_bad_time_series_is_a_400_naming_the_field(spec, named):
    with pytest.raises(AggregationError) as caught:
        resolve_time_series(spec, ctx(), where="pipeline[0].source.timeSeries")
    assert caught.value.status == 400
    assert "pipeline[0].source.timeSeries" in caught.value.message
    assert named in caught.value.message
