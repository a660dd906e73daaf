"""The dtypes a pandas user meets (issue 16): text is pandas' own ``str``, period buckets and
``startOfPeriod`` results print as dates, instants are zoned and whole milliseconds."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.frames import plain_reader
from pendo_nb.frames.dtypes import TEXT_DTYPE

LAST_WEEK = {"period": "dayRange", "first": "now()", "count": -7}
T0 = 1_790_000_000_000  # 2026-09-21T14:13:20Z


@pytest.fixture
def client(sandbox):
    return pn.connect(sandbox=sandbox, rate_limit=None, cache=False)


def events(*steps, series=LAST_WEEK):
    return pn.aggregate([{"source": {"events": None}, "timeSeries": series}, *steps])


def test_text_is_pandas_str_and_its_counts_plain_int64(client):
    df = events({"group": {"group": ["visitorId"], "fields": {"n": {"sum": "numEvents"}}}})
    assert df["visitorId"].dtype == TEXT_DTYPE and str(df["visitorId"].dtype) == "str"
    assert df["visitorId"].value_counts().dtype == "int64"
    assert df["n"].dtype == "Int64"
    # What pandas itself makes of text: merging with a user's own frame keeps the dtype.
    own = pd.DataFrame({"visitorId": df["visitorId"].head(3).tolist(), "team": list("abc")})
    assert own.merge(df, on="visitorId")["visitorId"].dtype == TEXT_DTYPE


def test_a_day_bucket_prints_as_a_date(client):
    df = events({"group": {"group": ["day"], "fields": {"n": {"sum": "numEvents"}}}})
    assert str(df["day"].dtype) == "datetime64[us]"
    assert (df["day"] == df["day"].dt.normalize()).all()
    first = df.sort_values("day").reset_index(drop=True)["day"][0]
    printed = df.sort_values("day").to_string()
    assert first.strftime("%Y-%m-%d") in printed
    assert "00:00:00" not in printed and "+00:00" not in printed


def test_buckets_are_calendar_starts_in_the_clients_zone():
    from pendo_nb.sandbox import Sandbox

    with Sandbox(size="small", timezone="America/New_York") as sandbox:
        local = pn.connect(sandbox=sandbox, rate_limit=None, cache=False)
        assert local.tz == "America/New_York"  # the sandbox's zone, unless tz= says otherwise
        series = {"period": "weekRange", "first": "now()", "count": -2}
        df = pn.aggregate([{"source": {"events": None}, "timeSeries": series}], client=local)
        weeks = df["week"].drop_duplicates().sort_values()
        assert len(weeks) == 2 and (weeks.dt.day_of_week == 6).all()  # Sundays (reference 3.3)
        assert (weeks == weeks.dt.normalize()).all()  # midnights of New York, shown as dates
        assert str(df["lastTime"].dt.tz) == "America/New_York"  # instants keep their zone
        # Paging by a bucket sends it back as the epoch ms it was, read on the same clock.
        days = pn.source.events().last(7, "days").group("day", n=pn.agg.sum("numEvents"))
        whole = days.sort("day").run(client=local)
        paged = pn.aggregate(days.sort("day"), client=local, page_size=2, progress=False)
        assert paged.attrs["pages"] == 4
        pd.testing.assert_frame_equal(paged, whole, check_like=True)


@pytest.mark.parametrize(
    ("expression", "dtype"),
    [
        ('startOfPeriod("weekly", day)', "datetime64[us]"),
        ('startOfPeriod("monthly", lastTime)', "datetime64[us]"),
        ('dateAdd(day, 1, "days")', "datetime64[us]"),  # moving a bucket keeps it a date
        ('dateAdd(lastTime, 1, "hours")', "datetime64[us, UTC]"),
        ("now()", "datetime64[us, UTC]"),
        ('formatTime("2006-01-02", day)', "str"),
        ('dateDist(day, now(), "days")', "Int64"),
    ],
)
def test_a_computed_time_field_is_a_datetime(client, expression, dtype):
    df = events({"eval": {"t": expression}}, {"limit": 5})
    assert str(df["t"].dtype) == dtype


def test_a_grouped_start_of_period_is_a_date_like_the_bucket(client):
    df = events(
        {"eval": {"weekStart": 'startOfPeriod("weekly", day)'}},
        {"group": {"group": ["weekStart"], "fields": {"n": {"sum": "numEvents"}}}},
    )
    assert str(df["weekStart"].dtype) == "datetime64[us]"
    assert (df["weekStart"].dt.day_of_week == 6).all()


def test_instants_have_no_sub_millisecond_digits(client):
    df = pn.source.visitors().select(lastVisit="metadata.auto.lastvisit").run()
    assert str(df["lastVisit"].dtype) == "datetime64[us, UTC]"
    assert (df["lastVisit"].dropna().dt.microsecond % 1000 == 0).all()
    # A computed value (an average of times, say) is rounded to Pendo's millisecond.
    computed = plain_reader.rows_to_frame([{"lastTime": T0 + 0.6}, {"lastTime": None}])
    assert computed["lastTime"][0] == pd.Timestamp(T0 + 1, unit="ms", tz="UTC")
    assert pd.isna(computed["lastTime"][1])


def test_an_empty_result_has_a_date_bucket_too(client):
    df = events({"filter": 'visitorId == "nobody-has-this-id"'})
    assert len(df) == 0 and str(df["day"].dtype) == "datetime64[us]"
    assert df["visitorId"].dtype == TEXT_DTYPE
