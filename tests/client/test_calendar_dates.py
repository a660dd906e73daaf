"""One rule for dates: ``time`` fields holding dates (every value a midnight) are zone-less
calendar dates, as period buckets are, in frames, widgets and static views alike."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.frames.csv_reader import csv_to_frame
from pendo_nb.frames.parts import concat_parts
from pendo_nb.frames.plain_reader import rows_to_frame
from pendo_nb.tables import readable

DAY_MS = 86_400_000
MIDNIGHT = pd.Timestamp("2027-10-01", tz="UTC").value // 1_000_000
NOON = MIDNIGHT + DAY_MS // 2


@pytest.fixture(scope="module")
def client(sandbox):
    return pn.connect(sandbox=sandbox, cache=False)


def dates_of(ms_values) -> list:
    """What a date column holds: the UTC calendar day of each epoch ms, without a zone."""
    return [pd.Timestamp(ms, unit="ms").as_unit("us") for ms in ms_values]


# -- the rule, on rows ----------------------------------------------------------------------------


def test_a_time_field_of_midnights_is_a_zoneless_date():
    rows = [{"d": MIDNIGHT}, {"d": MIDNIGHT + 3 * DAY_MS}, {"d": None}]
    df = rows_to_frame(rows, field_types={"d": "time"})
    assert str(df["d"].dtype) == "datetime64[us]"
    assert df["d"].tolist()[:2] == dates_of([MIDNIGHT, MIDNIGHT + 3 * DAY_MS])
    assert "2027-10-01" in str(df) and "00:00:00" not in str(df)


def test_a_time_field_with_one_instant_stays_zoned():
    df = rows_to_frame([{"d": MIDNIGHT}, {"d": NOON}], field_types={"d": "time"})
    assert str(df["d"].dtype) == "datetime64[us, UTC]"


def test_documented_instants_stay_zoned_even_at_midnight():
    rows = [{"metadata": {"auto": {"firstvisit": MIDNIGHT}}}]
    types = {"metadata.auto.firstvisit": "time"}
    df = rows_to_frame(rows, field_types=types)
    assert str(df["metadata.auto.firstvisit"].dtype) == "datetime64[us, UTC]"


def test_midnights_are_read_on_the_clients_clock():
    new_york_midnight = MIDNIGHT + 4 * 3_600_000  # 2027-10-01T00:00 EDT
    df = rows_to_frame([{"d": new_york_midnight}], field_types={"d": "time"}, tz="America/New_York")
    assert df["d"].tolist() == [pd.Timestamp("2027-10-01")]
    utc_midnight = rows_to_frame(
        [{"d": MIDNIGHT}], field_types={"d": "time"}, tz="America/New_York"
    )
    assert str(utc_midnight["d"].dtype) == "datetime64[us, America/New_York]"


def test_csv_text_dates_follow_the_same_rule():
    df = csv_to_frame(
        "d,t\n2027-10-01,2027-10-01T10:00:00Z\n", field_types={"d": "time", "t": "time"}
    )
    assert str(df["d"].dtype) == "datetime64[us]" and df["d"][0] == pd.Timestamp("2027-10-01")
    assert str(df["t"].dtype) == "datetime64[us, UTC]"


# -- against the sandbox --------------------------------------------------------------------------


def test_metadata_dates_of_accounts_and_visitors_are_dates(client, sandbox):
    accounts = pn.aggregate([{"source": {"accounts": None}}], client=client)
    raw = {
        a: acc["metadata"]["custom"]["renewaldate"]
        for a, acc in sandbox.subscription.accounts.items()
    }
    renewal = accounts.set_index("accountId")["metadata.custom.renewaldate"]
    assert str(renewal.dtype) == "datetime64[us]"
    assert renewal.loc[list(raw)].tolist() == dates_of(raw.values())
    assert str(accounts["metadata.auto.lastvisit"].dtype) == "datetime64[us, UTC]"

    visitor_id, visitor = next(
        (vid, v) for vid, v in sandbox.subscription.visitors.items()
        if v["metadata"]["custom"].get("signupdate") is not None
    )  # fmt: skip
    one = pn.visitor(visitor_id, client=client)
    assert str(one["metadata.custom.signupdate"].dtype) == "datetime64[us]"
    assert (
        one["metadata.custom.signupdate"][0]
        == dates_of([visitor["metadata"]["custom"]["signupdate"]])[0]
    )


@pytest.mark.parametrize("step", ["expand", "bulkExpand"])
def test_dates_inside_an_expanded_object_are_dates_too(client, sandbox, step):
    steps = [
        {"source": {"visitors": None}},
        {"filter": 'metadata.auto.accountid != ""'},
        {step: {"account": {"account": "metadata.auto.accountid"}}},
        {"select": {"id": "visitorId", "accountId": "metadata.auto.accountid",
                    "renewal": "account.custom.renewaldate", "account": "account"}},
    ]  # fmt: skip
    df = pn.aggregate(steps, client=client)
    assert len(df)
    raw = [
        sandbox.subscription.accounts[a]["metadata"]["custom"]["renewaldate"]
        for a in df["accountId"]
    ]
    for column in ("renewal", "account.custom.renewaldate"):
        assert str(df[column].dtype) == "datetime64[us]", column
        assert df[column].tolist() == dates_of(raw)
    assert str(df["account.auto.lastvisit"].dtype) == "datetime64[us, UTC]"


def test_report_day_columns_are_dates_in_json_and_csv(client, sandbox):
    by_name = {r["name"]: r["id"] for r in sandbox.subscription.reports}
    for name, column in [
        ("Active users (last 30 days)", "lastActiveDay"),
        ("Anonymous traffic by day (last 14 days)", "day"),
        ("Paying accounts renewing within 90 days", "renewalDate"),
    ]:
        as_json = pn.report(by_name[name], client=client)
        as_csv = pn.report_csv(by_name[name], client=client)
        assert str(as_json[column].dtype) == "datetime64[us]", name
        assert as_json[column].equals(as_csv[column])
    visits = pn.report(by_name["Enterprise accounts"], client=client)
    assert str(visits["lastVisit"].dtype) == "datetime64[us, UTC]"


def test_the_widgets_and_static_views_show_the_frames_dates(client, sandbox):
    accounts = pn.aggregate([{"source": {"accounts": None}}, {"limit": 3}], client=client)
    shown = readable(accounts)["metadata.custom.renewaldate"]
    printed = accounts["metadata.custom.renewaldate"].astype(str)
    assert shown.tolist() == printed.tolist()  # 2027-08-02 in both
    assert all(len(text) == 10 for text in shown)


def test_parts_with_dates_in_one_and_instants_in_another_stitch_as_instants():
    dates = rows_to_frame([{"d": MIDNIGHT}], field_types={"d": "time"})
    instants = rows_to_frame([{"d": NOON}], field_types={"d": "time"})
    stitched = concat_parts([dates, instants])
    assert str(stitched["d"].dtype) == "datetime64[us, UTC]"
    assert [t.value // 1000 for t in stitched["d"]] == [MIDNIGHT * 1000, NOON * 1000]


def test_report_buckets_are_buckets_on_any_clock_and_when_empty(sandbox):
    # Seen from New York, a UTC day bucket is not a midnight: it is still the bucket its
    # aggregation gives, its start on New York's clock, as pn.aggregate types it.
    client = pn.connect(sandbox=sandbox, cache=False, tz="America/New_York")
    by_name = {r["name"]: r for r in sandbox.subscription.reports}
    report = by_name["Anonymous traffic by day (last 14 days)"]
    frame = pn.report(report["id"], client=client)
    same = pn.aggregate(report["aggregation"]["pipeline"], client=client)
    assert str(frame["day"].dtype) == "datetime64[us]"
    assert frame["day"].tolist() == same["day"].tolist()
    assert frame["day"].tolist() == pn.report_csv(report["id"], client=client)["day"].tolist()
