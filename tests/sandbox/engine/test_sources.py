"""Sources (reference 3.2, 3.4, 4.5, 5.6): hand-built events with hand-computed rows, and the
generator's raw events regrouped with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pendo_nb.sandbox.engine import AggregationError, run_pipeline
from pendo_nb.sandbox.subscription.generate import generate
from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK

from .engine_builders import IOS_APP, WEB_APP, ms

LAST_3_DAYS = {"period": "dayRange", "first": "now()", "count": -3}
ROW_FIELDS = ["visitorId", "accountId", "appId", "day", "pageId", "featureId", "remoteIp",
              "server", "userAgent", "numEvents", "numMinutes", "firstTime", "lastTime",
              "parameters"]  # fmt: skip


def source(name, params=None, time_series=LAST_3_DAYS):
    spec = {name: params}
    if time_series is not None:
        spec["timeSeries"] = time_series
    return {"source": spec}


EVENTS = [
    # v1 on Oct 30: two page loads in the same minute, one click two minutes later (web).
    ("2026-10-30T10:00:05", "v1", "a1", "page", "p1"),
    ("2026-10-30T10:00:50", "v1", "a1", "page", "p1"),
    ("2026-10-30T10:02:00", "v1", "a1", "click", "f1"),
    # v1 on Oct 30 from another IP: a separate row.
    ("2026-10-30T11:00:00", "v1", "a1", "page", "p2", {"ip": 1}),
    # v2 on Oct 31: an untagged page load (counts for `events`, not `pageEvents`).
    ("2026-10-31T23:59:59", "v2", "a2", "page", None),
    # the anonymous visitor has no account; a server-side track event.
    ("2026-10-31T09:00", "_PENDO_T_anon", None, "track", "t1", {"server": 1}),
    # iOS app page load: only when appId asks for it.
    ("2026-10-31T09:00", "v1", "a1", "page", "p3", {"app": IOS_APP}),
    # outside the range: today (Nov 1) and Oct 28.
    ("2026-11-01T01:00", "v1", "a1", "page", "p1"),
    ("2026-10-28T23:59:59", "v1", "a1", "page", "p1"),
]


def by_key(rows, *fields):
    return sorted(rows, key=lambda r: tuple(str(r[f]) for f in fields))


def test_events_rows_group_per_visitor_day_ip_and_count_minutes(make_subscription):
    sub = make_subscription(EVENTS)
    rows = run_pipeline([source("events")], sub)
    chrome = sub.user_agents[0]
    # Issue 14: the click on f1 is a row of its own that names its feature (featureId); the
    # sandbox's pages carry no URL parameters.
    expected = [
        {"visitorId": "v1", "accountId": "a1", "appId": WEB_APP, "day": ms("2026-10-30"),
         "pageId": "allevents", "featureId": "", "remoteIp": "10.0.0.1", "server": "app.example",
         "userAgent": chrome, "numEvents": 2, "numMinutes": 1,
         "firstTime": ms("2026-10-30T10:00:05"), "lastTime": ms("2026-10-30T10:00:50"),
         "parameters": {}},
        {"visitorId": "v1", "accountId": "a1", "appId": WEB_APP, "day": ms("2026-10-30"),
         "pageId": "allevents", "featureId": "f1", "remoteIp": "10.0.0.1",
         "server": "app.example", "userAgent": chrome, "numEvents": 1, "numMinutes": 1,
         "firstTime": ms("2026-10-30T10:02:00"), "lastTime": ms("2026-10-30T10:02:00"),
         "parameters": {}},
        {"visitorId": "v1", "accountId": "a1", "appId": WEB_APP, "day": ms("2026-10-30"),
         "pageId": "allevents", "featureId": "", "remoteIp": "10.0.0.2", "server": "app.example",
         "userAgent": chrome, "numEvents": 1, "numMinutes": 1,
         "firstTime": ms("2026-10-30T11:00"), "lastTime": ms("2026-10-30T11:00"),
         "parameters": {}},
        {"visitorId": "v2", "accountId": "a2", "appId": WEB_APP, "day": ms("2026-10-31"),
         "pageId": "allevents", "featureId": "", "remoteIp": "10.0.0.1", "server": "app.example",
         "userAgent": chrome, "numEvents": 1, "numMinutes": 1,
         "firstTime": ms("2026-10-31T23:59:59"), "lastTime": ms("2026-10-31T23:59:59"),
         "parameters": {}},
    ]  # fmt: skip
    assert by_key(rows, "visitorId", "remoteIp", "featureId") == expected
    assert all(list(row) == ROW_FIELDS for row in rows)


def test_events_for_all_apps_name_the_pseudo_page_per_app(make_subscription):
    sub = make_subscription(EVENTS)
    rows = run_pipeline([source("events", {"appId": 'expandAppIds("*")'})], sub)
    ios = [row for row in rows if row["appId"] == IOS_APP]
    assert [(r["visitorId"], r["pageId"], r["numEvents"]) for r in ios] == [
        ("v1", f"allevents-{IOS_APP}", 1)
    ]
    assert {row["pageId"] for row in rows if row["appId"] == WEB_APP} == {"allevents"}


@pytest.mark.parametrize(
    ("app_id", "pages"),
    [
        (None, {"p1", "p2"}),
        (WEB_APP, {"p1", "p2"}),
        (IOS_APP, {"p3"}),
        ([WEB_APP, IOS_APP], {"p1", "p2", "p3"}),
        ('expandAppIds("ios")', {"p3"}),
        (['expandAppIds("web")'], {"p1", "p2"}),
        (str(IOS_APP), {"p3"}),
    ],
)
def test_page_events_app_id_forms(make_subscription, app_id, pages):
    sub = make_subscription(EVENTS)
    params = None if app_id is None else {"appId": app_id}
    rows = run_pipeline([source("pageEvents", params)], sub)
    assert {row["pageId"] for row in rows} == pages


def test_event_class_picks_apps_by_platform(make_subscription):
    sub = make_subscription(EVENTS)
    rows = run_pipeline([source("events", {"eventClass": ["web", "ios"]})], sub)
    assert {row["appId"] for row in rows} == {WEB_APP, IOS_APP}
    rows = run_pipeline([source("events", {"eventClass": "ios"})], sub)
    assert {row["appId"] for row in rows} == {IOS_APP}


def test_page_feature_and_track_events_keep_tagged_objects(make_subscription):
    sub = make_subscription(EVENTS)
    pages = run_pipeline([source("pageEvents")], sub)
    assert by_key([(r["pageId"], r["numEvents"], r["numMinutes"]) for r in pages], 0) == [
        ("p1", 2, 1),
        ("p2", 1, 1),
    ]
    features = run_pipeline([source("featureEvents")], sub)
    assert [(r["featureId"], r["visitorId"], r["numEvents"]) for r in features] == [("f1", "v1", 1)]
    tracks = run_pipeline([source("trackEvents")], sub)
    assert [(r["trackTypeId"], r["visitorId"], r["accountId"], r["server"]) for r in tracks] == [
        ("t1", "_PENDO_T_anon", "", "__apitrackevent__")
    ]


def test_object_id_filters(make_subscription):
    sub = make_subscription(EVENTS)
    only_p2 = run_pipeline([source("pageEvents", {"pageId": "p2"})], sub)
    assert [r["pageId"] for r in only_p2] == ["p2"]
    several = run_pipeline([source("pageEvents", {"pageIds": ["p2", "p3"]})], sub)
    # An id filter picks the objects' own apps: p3 (iOS) is found without appId.
    assert sorted(r["pageId"] for r in several) == ["p2", "p3"]
    assert run_pipeline([source("pageEvents", {"pageId": "nope"})], sub) == []


def test_hour_range_buckets_are_hour_starts(make_subscription):
    sub = make_subscription(EVENTS)
    hours = {"period": "hourRange", "first": ms("2026-10-30T10:30"), "count": 2}
    rows = run_pipeline([source("events", None, hours)], sub)
    # Issue 14: the 10:02 click on f1 is a row of its own.
    assert sorted((r["hour"], r["numEvents"]) for r in rows) == [
        (ms("2026-10-30T10:00"), 1),
        (ms("2026-10-30T10:00"), 2),
        (ms("2026-10-30T11:00"), 1),
    ]
    assert all("day" not in row for row in rows)


def test_week_and_month_buckets(make_subscription):
    sub = make_subscription(EVENTS)
    weeks = run_pipeline([source("events", None, {"period": "weekRange", "first": "now()",
                                                 "count": -1})], sub)  # fmt: skip
    # Oct 25 (Sunday) .. Nov 1: everything but today's and the Oct 28 load... which is in it.
    assert {r["week"] for r in weeks} == {ms("2026-10-25")}
    assert sum(r["numEvents"] for r in weeks) == 6
    months = run_pipeline([source("events", None, {"period": "monthRange", "first": "now()",
                                                  "count": 1})], sub)  # fmt: skip
    assert [(r["month"], r["numEvents"]) for r in months] == [(ms("2026-11-01"), 1)]


def test_day_buckets_follow_the_time_zone(make_subscription):
    tz = "America/New_York"
    # 23:30 local on Oct 30 is Oct 31 in UTC; the row's day is local Oct 30.
    sub = make_subscription([("2026-10-30T23:30", "v1", "a1", "page", "p1")], timezone=tz)
    rows = run_pipeline([source("events")], sub)
    assert [r["day"] for r in rows] == [ms("2026-10-30", tz)]


def test_dst_day_holds_all_its_25_hours(make_subscription):
    tz = "America/New_York"  # Nov 1 2026 01:00 EDT -> 01:00 EST
    sub = make_subscription(
        [("2026-11-01T00:30", "v1", "a1", "page", "p1"),
         ("2026-11-01T23:30", "v1", "a1", "page", "p1"),
         ("2026-11-02T00:10", "v1", "a1", "page", "p1")],
        timezone=tz, now="2026-11-02T12:00",
    )  # fmt: skip
    rows = run_pipeline([source("events", None, {"period": "dayRange", "first": "now()",
                                                 "count": -1})], sub)  # fmt: skip
    assert [(r["day"], r["numEvents"]) for r in rows] == [(ms("2026-11-01", tz), 2)]


def test_blacklist_applies_do_not_process_flags(make_subscription):
    sub = make_subscription(EVENTS, do_not_process={"visitor": {"v2"}})

    def visitors(params):
        return {r["visitorId"] for r in run_pipeline([source("events", params)], sub)}

    assert visitors(None) == {"v1"}
    assert visitors({"blacklist": "ignore"}) == {"v1", "v2"}
    assert visitors({"blacklist": "only"}) == {"v2"}
    with pytest.raises(AggregationError, match="blacklist"):
        visitors({"blacklist": "sometimes"})


def test_object_sources_are_fresh_copies(make_subscription):
    sub = make_subscription()
    rows = run_pipeline([source("visitors", None, None),
                         {"eval": {"metadata.agent.email": "\"changed\""}}], sub)  # fmt: skip
    assert {r["metadata"]["agent"]["email"] for r in rows} == {"changed"}
    assert sub.visitors["v1"]["metadata"]["agent"]["email"] == "v1@example.com"


def test_visitors_accounts_and_do_not_process_sources(make_subscription):
    sub = make_subscription(do_not_process={"visitor": {"v2"}, "account": {"a1"}})
    assert [r["visitorId"] for r in run_pipeline([source("visitors", None, None)], sub)] == [
        "v1", "v2", "_PENDO_T_anon"]  # fmt: skip
    identified = run_pipeline([source("visitors", {"identified": True}, None)], sub)
    assert [r["visitorId"] for r in identified] == ["v1", "v2"]
    assert [r["accountId"] for r in run_pipeline([source("accounts", None, None)], sub)] == [
        "a1", "a2"]  # fmt: skip
    dnp_v = run_pipeline([source("doNotProcessVisitors", None, None)], sub)
    dnp_a = run_pipeline([source("doNotProcessAccounts", None, None)], sub)
    assert [r["visitorId"] for r in dnp_v] == ["v2"]
    assert [r["accountId"] for r in dnp_a] == ["a1"]


def test_catalog_sources_default_to_the_default_app(make_subscription):
    sub = make_subscription()

    def ids(name, params=None):
        return [r["id"] for r in run_pipeline([source(name, params, None)], sub)]

    assert ids("pages") == ["p1", "p2"]
    assert ids("pages", {"appId": IOS_APP}) == ["p3"]
    assert ids("pages", {"pageId": "p3"}) == ["p3"]
    assert ids("features") == ["f1"]
    assert ids("trackTypes") == ["t1"]
    assert ids("guides") == ["g1"]
    assert ids("apps") == [WEB_APP, IOS_APP]


def test_groups_items_only_on_request(make_subscription):
    sub = make_subscription()
    assert run_pipeline([source("groups", None, None)], sub) == [
        {"id": "grp1", "name": "Analytics"}
    ]
    with_items = run_pipeline([source("groups", {"items": True}, None)], sub)
    assert with_items[0]["items"] == [{"itemId": "p1"}]


def test_const_source_rows(make_subscription):
    rows = [{"a": 1}, {"a": 2, "b": {"c": None}}]
    assert run_pipeline([source("const", rows, None)], make_subscription()) == rows
    with pytest.raises(AggregationError, match="const"):
        run_pipeline([source("const", {"a": 1}, None)], make_subscription())


def _guide_event(visitor, when, kind, step="s1", guide="g1"):
    return {"visitorId": visitor, "accountId": "a1", "appId": WEB_APP, "browserTime": ms(when),
            "type": kind, "guideId": guide, "guideStepId": step}  # fmt: skip


GUIDE_EVENTS = [
    _guide_event("v1", "2026-10-20T10:00", "guideSeen"),
    _guide_event("v1", "2026-10-31T10:00", "guideSeen"),
    _guide_event("v1", "2026-10-31T10:01", "guideAdvanced"),
    _guide_event("v2", "2026-10-20T10:00", "guideSeen"),
    _guide_event("v2", "2026-10-20T10:05", "guideDismissed"),
    _guide_event("_PENDO_T_anon", "2026-10-30T10:00", "guideTimeout"),  # never seen
]


def test_guide_events_in_range(make_subscription):
    sub = make_subscription(guide_events=GUIDE_EVENTS)
    rows = run_pipeline([source("guideEvents")], sub)
    assert [(r["visitorId"], r["type"]) for r in rows] == [
        ("_PENDO_T_anon", "guideTimeout"),
        ("v1", "guideSeen"),
        ("v1", "guideAdvanced"),
    ]


def test_guides_seen_summaries(make_subscription):
    sub = make_subscription(guide_events=GUIDE_EVENTS)
    ever = by_key(run_pipeline([source("guidesSeenEver", None, None)], sub), "visitorId")
    assert ever == [
        {"guideId": "g1", "guideStepId": "s1", "visitorId": "v1",
         "firstSeenAt": ms("2026-10-20T10:00"), "lastSeenAt": ms("2026-10-31T10:00"),
         "lastAdvancedAutoAt": ms("2026-10-31T10:01"), "lastDismissedAutoAt": None,
         "lastNotSeenAt": None, "lastTimeoutAt": None, "seenCount": 2, "lastState": "advanced"},
        {"guideId": "g1", "guideStepId": "s1", "visitorId": "v2",
         "firstSeenAt": ms("2026-10-20T10:00"), "lastSeenAt": ms("2026-10-20T10:00"),
         "lastAdvancedAutoAt": None, "lastDismissedAutoAt": ms("2026-10-20T10:05"),
         "lastNotSeenAt": None, "lastTimeoutAt": None, "seenCount": 1, "lastState": "dismissed"},
    ]  # fmt: skip
    recent = run_pipeline([source("guidesSeen")], sub)  # last view within Oct 29..31
    assert [r["visitorId"] for r in recent] == ["v1"]


def _poll_event(visitor, when, response, poll="poll1"):
    return {"visitorId": visitor, "accountId": "a1", "appId": WEB_APP, "browserTime": ms(when),
            "type": "pollResponse", "guideId": "g1", "pollId": poll,
            "pollResponse": response}  # fmt: skip


def test_polls_seen_emit_both_response_fields(make_subscription):
    sub = make_subscription(poll_events=[
        _poll_event("v1", "2026-10-20T10:00", 3),
        _poll_event("v1", "2026-10-31T10:00", 9),
        _poll_event("v2", "2026-10-20T10:00", 10),
    ])  # fmt: skip
    ever = by_key(run_pipeline([source("pollsSeenEver", None, None)], sub), "visitorId")
    assert [(r["visitorId"], r["pollResponse"], r["response"], r["time"]) for r in ever] == [
        ("v1", 9, 9, ms("2026-10-31T10:00")),
        ("v2", 10, 10, ms("2026-10-20T10:00")),
    ]
    assert [r["visitorId"] for r in run_pipeline([source("pollsSeen")], sub)] == ["v1"]
    events = run_pipeline([source("pollEvents", {"pollId": "poll1"})], sub)
    assert [r["pollResponse"] for r in events] == [9]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"source": {"segments": None}}, "unknown source 'segments'"),
        ({"source": {}}, "name exactly one source"),
        ({"source": {"visitors": None, "accounts": None}}, "name exactly one source"),
        ({"source": {"events": None}}, "needs a timeSeries"),
        ({"source": {"visitors": 3}}, "parameters must be an object"),
        ({"source": {"events": {"appId": "nope("}, "timeSeries": LAST_3_DAYS}}, "appId"),
        ({"source": {"events": {"appId": True}, "timeSeries": LAST_3_DAYS}}, "appId"),
        ({"source": {"events": {"appId": "inf"}, "timeSeries": LAST_3_DAYS}}, "appId"),
        ({"source": {"events": {"eventClass": 3}, "timeSeries": LAST_3_DAYS}}, "eventClass"),
        ({"source": {"events": None, "timeSeries": {"period": "dayRange", "first": 0}}},
         "exactly one of"),
        ({"source": {"pageEvents": {"pageId": 3}, "timeSeries": LAST_3_DAYS}}, "pageId"),
    ],
)  # fmt: skip
def test_bad_sources_are_400_naming_the_place(make_subscription, step, message):
    with pytest.raises(AggregationError) as caught:
        run_pipeline([step], make_subscription())
    assert caught.value.status == 400
    assert message in caught.value.message
    assert "pipeline[0].source" in caught.value.message


def test_time_series_placement_quirks(make_subscription):
    sub = make_subscription(EVENTS)
    inside = run_pipeline([source("events")], sub)
    sibling = run_pipeline([{"source": {"events": None}, "timeSeries": LAST_3_DAYS}], sub)
    in_params = run_pipeline([{"source": {"events": {"timeSeries": LAST_3_DAYS}}}], sub)
    assert inside == sibling == in_params != []


# --------------------------------------------------------------------------------------------
# The generator's data, regrouped independently with pandas


ZONE = "Europe/Berlin"  # the small data's last 30 days hold the Oct 25 DST change


@pytest.fixture(scope="module")
def small():
    return generate(size="small", timezone=ZONE)


# source -> (event kinds, object field, subscription catalog); `events` has no object field.
_KINDS = {
    "events": ([PAGE_LOAD, CLICK], None, None),
    "pageEvents": ([PAGE_LOAD], "pageId", "pages"),
    "featureEvents": ([CLICK], "featureId", "features"),
    "trackEvents": ([TRACK], "trackTypeId", "track_types"),
}


def _local_bucket(ts: pd.Series, period: str) -> pd.Series:
    """Bucket starts (epoch ms) computed by pandas on local wall-clock times."""
    utc = pd.to_datetime(ts, unit="ms", utc=True)
    if period == "hourRange":  # Berlin's offsets are whole hours: local hours are UTC hours
        starts = utc.dt.floor("h")
    else:
        naive = utc.dt.tz_convert(ZONE).dt.tz_localize(None).dt.normalize()
        if period == "weekRange":
            naive = naive - pd.to_timedelta((naive.dt.day_of_week + 1) % 7, unit="D")
        starts = naive.dt.tz_localize(ZONE)  # local midnights are never ambiguous in Berlin
    return (starts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def _pandas_rows(sub, name: str, period: str, start: int, end: int) -> list[tuple]:
    kinds, object_field, catalog = _KINDS[name]
    table = sub.events
    frame = pd.DataFrame(
        {
            "ts": table.ts,
            "visitor": table.visitor,
            "account": table.account,
            "app": table.app,
            "kind": table.kind,
            "object": table.object,
            "ip": table.ip,
            "server": table.server,
            "ua": table.user_agent,
        }
    )
    frame = frame[(frame.ts >= start) & (frame.ts < end) & frame.kind.isin(kinds)
                  & (frame.app == 0)]  # fmt: skip
    if object_field:
        frame = frame[frame.object >= 0]
    else:  # events rows: one pseudo page, and a tagged click's feature (issue 14)
        frame = frame.assign(
            object=frame.object.where((frame.kind == CLICK) & (frame.object >= 0), -1)
        )
    frame = frame.assign(bucket=_local_bucket(frame.ts, period), minute=frame.ts // 60_000)
    keys = ["visitor", "account", "bucket", "object", "ip", "server", "ua"]
    rows = (
        frame.groupby(keys)
        .agg(
            numEvents=("ts", "size"),
            numMinutes=("minute", "nunique"),
            firstTime=("ts", "min"),
            lastTime=("ts", "max"),
        )
        .reset_index()
    )
    visitors = np.asarray(sub.visitor_ids, dtype=object)
    accounts = np.asarray([*sub.account_ids, ""], dtype=object)  # -1 (no account) reads ""
    catalog_ids = [o["id"] for o in getattr(sub, catalog or "features")]
    objects = np.asarray(catalog_ids if catalog else ["allevents"] * len(catalog_ids),
                         dtype=object)  # fmt: skip
    return sorted(zip(visitors[rows.visitor], accounts[rows.account], rows.bucket.tolist(),
                      objects[rows.object.where(rows.object >= 0, 0)],
                      np.asarray(sub.remote_ips, dtype=object)[rows.ip],
                      np.asarray(sub.user_agents, dtype=object)[rows.ua],
                      rows.numEvents.tolist(), rows.numMinutes.tolist(), rows.firstTime.tolist(),
                      rows.lastTime.tolist(), strict=True))  # fmt: skip


def _range(sub, period: str) -> tuple[dict, int, int]:
    """A timeSeries and its bounds, the bounds computed with pandas."""
    now = pd.Timestamp(sub.now_ms, unit="ms", tz="UTC")
    if period == "hourRange":
        end = now.floor("h")
        return {"period": period, "first": "now()", "count": -48}, end - pd.Timedelta(hours=48), end
    today = now.tz_convert(ZONE).tz_localize(None).normalize()
    if period == "dayRange":
        start, end = today - pd.Timedelta(days=20), today
        return (
            {"period": period, "first": "now()", "count": -20},
            start.tz_localize(ZONE),
            end.tz_localize(ZONE),
        )
    sunday = today - pd.Timedelta(days=(today.weekday() + 1) % 7)
    start = sunday - pd.Timedelta(days=14)
    return (
        {"period": period, "first": "now()", "count": -2},
        start.tz_localize(ZONE),
        sunday.tz_localize(ZONE),
    )


@pytest.mark.parametrize("name", list(_KINDS))
@pytest.mark.parametrize(
    ("period", "bucket"), [("dayRange", "day"), ("hourRange", "hour"), ("weekRange", "week")]
)
def test_grouped_sources_match_pandas_over_generated_data(small, name, period, bucket):
    time_series, start, end = _range(small, period)
    rows = run_pipeline([source(name, None, time_series)], small)
    object_field = _KINDS[name][1] or "pageId"
    got = sorted((r["visitorId"], r["accountId"], r[bucket], r[object_field], r["remoteIp"],
                  r["userAgent"], r["numEvents"], r["numMinutes"], r["firstTime"], r["lastTime"])
                 for r in rows)  # fmt: skip
    want = _pandas_rows(small, name, period, int(start.timestamp() * 1000),
                        int(end.timestamp() * 1000))  # fmt: skip
    assert len(want) > 5
    assert got == want


def test_group_by_visitor_over_generated_events_matches_pandas(small):
    time_series, start, end = _range(small, "dayRange")
    group = {"group": {"group": ["visitorId"], "fields": {"n": {"sum": "numEvents"},
                                                          "m": {"sum": "numMinutes"}}}}  # fmt: skip
    got = sorted(
        (r["visitorId"], r["n"], r["m"])
        for r in run_pipeline([source("events", None, time_series), group], small)
    )
    rows = _pandas_rows(small, "events", "dayRange", int(start.timestamp() * 1000),
                        int(end.timestamp() * 1000))  # fmt: skip
    frame = pd.DataFrame(rows).groupby(0)[[6, 7]].sum()
    want = sorted(zip(frame.index, frame[6].tolist(), frame[7].tolist(), strict=True))
    assert got == want
