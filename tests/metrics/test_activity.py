"""active, stickiness, frequency and time_on_app against sets of units worked out from the raw
hour-grain rows (tests/metrics/reference.py), in UTC and across New York's DST change."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from tests.metrics import reference as ref

#: Ranges per zone: whole months, a week, one starting before the data, and (New York) ranges
#: crossing the end of daylight saving time on 1 November 2026.
RANGES = {
    "UTC": [
        ("2026-10-05", "2026-10-31"),
        ("2026-10-19", "2026-10-25"),
        ("2026-09-20", "2026-10-10"),
    ],
    "America/New_York": [("2026-10-25", "2026-11-08"), ("2026-10-12", "2026-11-09")],
}
EMPTY_RANGE = ("2025-03-01", "2025-03-31")  # long before either sandbox's data


def plain(frame):
    return pd.DataFrame(frame)


def each_range(zone):
    return RANGES[zone[1]]


@pytest.mark.parametrize("unit", ["visitor", "account"])
@pytest.mark.parametrize("ratio", ["DAU/MAU", "DAU/WAU", "WAU/MAU"])
@pytest.mark.parametrize("hide_weekends", [False, True])
def test_stickiness_matches_sets_of_units_per_day(zone, unit, ratio, hide_weekends):
    server, tz, client = zone
    for first, last in each_range(zone):
        got = pn.metrics.stickiness(
            ratio, unit, first, last, hide_weekends=hide_weekends, client=client
        )
        rows = ref.stickiness(server, tz, unit, first, last, ratio, hide_weekends)
        expected = pd.DataFrame(rows, columns=["day", "numerator", "denominator", "ratio"])
        assert plain(got)["day"].tolist() == expected["day"].tolist()
        assert got["numerator"].tolist() == expected["numerator"].tolist()
        assert got["denominator"].tolist() == expected["denominator"].tolist()
        assert [None if pd.isna(v) else v for v in got["ratio"]] == [row[3] for row in rows]
        ratios = [row[3] for row in rows if row[3] is not None]
        assert got.headline == pytest.approx(sum(ratios) / len(ratios), rel=1e-12)
        assert "mean " + ratio in repr(got).splitlines()[0]


@pytest.mark.parametrize("unit", ["visitor", "account"])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_active_counts_distinct_units_per_period(zone, unit, period):
    server, tz, client = zone
    for first, last in each_range(zone):
        got = pn.metrics.active(unit, period, first, last, client=client)
        by_day = ref.units_by_day(ref.active_units(ref.hourly_rows(server, first, last, tz), unit))
        expected: dict[pd.Timestamp, tuple[int, set]] = {}
        for day in pd.date_range(first, last, freq="D"):
            if period == "day":
                key = day
            elif period == "week":  # weeks from Sunday
                key = day - pd.Timedelta(days=(day.day_of_week + 1) % 7)
            else:
                key = day.replace(day=1)
            days, units = expected.get(key, (0, set()))
            expected[key] = (days + 1, units | by_day.get(day, set()))
        assert got["period"].tolist() == list(expected)
        assert got["days"].tolist() == [days for days, _ in expected.values()]
        assert got["active"].tolist() == [len(units) for _, units in expected.values()]


@pytest.mark.parametrize("unit", ["visitor", "account"])
def test_frequency_bands_count_days_active_in_the_last_30(zone, unit):
    server, tz, client = zone
    for _, last in each_range(zone):
        got = pn.metrics.frequency(unit, last, client=client)
        first = (pd.Timestamp(last) - pd.Timedelta(days=29)).date().isoformat()
        pairs = ref.active_units(ref.hourly_rows(server, first, last, tz), unit).drop_duplicates()
        days_active = pairs.groupby("unit").size()
        counts = [
            int(((days_active >= 1) & (days_active <= 4)).sum()),
            int(((days_active >= 5) & (days_active <= 12)).sum()),
            int((days_active >= 13).sum()),
        ]
        assert got["band"].tolist() == ["Low", "Medium", "High"]
        assert got["units"].tolist() == counts
        assert got["share"].tolist() == [100 * n / len(days_active) for n in counts]
        assert got.headline == len(days_active)


@pytest.mark.parametrize("unit", ["visitor", "account"])
def test_time_on_app_is_minutes_over_active_unit_days(zone, unit):
    server, tz, client = zone
    field = ref.UNIT_FIELDS[unit]
    for first, last in each_range(zone):
        got = pn.metrics.time_on_app(unit, first, last, client=client)
        rows = ref.hourly_rows(server, first, last, tz)
        kept = ref.active_units(rows, unit).index
        minutes = rows.loc[kept].groupby(["day", field])["numMinutes"].sum()
        per_day = minutes.groupby(level="day").agg(["size", "sum"])
        days = pd.date_range(first, last, freq="D")
        per_day = per_day.reindex(days, fill_value=0)
        assert got["active"].tolist() == per_day["size"].tolist()
        assert got["minutes"].tolist() == per_day["sum"].tolist()
        assert [None if pd.isna(v) else v for v in got["minutes_per_unit"]] == [
            s / n if n else None for n, s in zip(per_day["size"], per_day["sum"], strict=True)
        ]
        assert got.headline == pytest.approx(minutes.sum() / len(minutes), rel=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: pn.metrics.active("visitor", "week", *EMPTY_RANGE, client=c),
        lambda c: pn.metrics.stickiness("DAU/MAU", "account", *EMPTY_RANGE, client=c),
        lambda c: pn.metrics.frequency("visitor", EMPTY_RANGE[1], client=c),
        lambda c: pn.metrics.time_on_app("account", *EMPTY_RANGE, client=c),
    ],
)
def test_an_empty_range_gives_an_empty_frame_with_its_columns(zone, call):
    got = call(zone[2])
    assert got.empty
    assert len(got.columns) >= 3
    assert got.headline is None
    assert got.pipelines  # what was asked is still shown


def test_a_range_ending_before_it_starts_is_refused(sandbox):
    client = pn.connect(sandbox=sandbox, cache=False)
    with pytest.raises(pn.ValidationError, match="start .* is after end"):
        pn.metrics.stickiness(start="2026-10-10", end="2026-10-01", client=client)
    with pytest.raises(pn.ValidationError, match="ratio must be one of"):
        pn.metrics.stickiness("DAU/QAU", client=client)
    with pytest.raises(pn.ValidationError, match="unit must be"):
        pn.metrics.active("user", client=client)
