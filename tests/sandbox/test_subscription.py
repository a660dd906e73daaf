"""The synthetic subscription: determinism, sizes, Pendo's field names, and realistic shape.

Every expectation is computed here from the generator's raw data with pandas (or by hand).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from pendo_nb.sandbox.engine import run_pipeline
from pendo_nb.sandbox.subscription.events import _lookups
from pendo_nb.sandbox.subscription.generate import SIZES, generate, local_day_starts, parse_now
from pendo_nb.sandbox.subscription.model import CLICK

from .sandbox_helpers import DAY_MS, raw_events

CORE_OPERATORS = {
    "source",
    "filter",
    "select",
    "eval",
    "identified",
    "group",
    "reduce",
    "sort",
    "limit",
}
GUIDE_EVENT_FIELDS = {
    "visitorId",
    "accountId",
    "accountIds",
    "appId",
    "browserTime",
    "guideTimestamp",
    "type",
    "guideId",
    "guideStepId",
    "guideSeenReason",
    "country",
    "region",
    "latitude",
    "longitude",
    "remoteIp",
    "serverName",
    "url",
    "userAgent",
    "loadTime",
    "language",
    "elementPath",
    "eventId",
    "uiElementId",
    "uiElementType",
    "uiElementText",
    "uiElementActions",
    "destinationStepId",
}
SCHEMA_KEYS = {
    "Type",
    "DisplayName",
    "ElementType",
    "ElementFormat",
    "Dirty",
    "isHidden",
    "isDeleted",
    "isCalculated",
    "isPerApp",
    "isPromoted",
    "neverIndex",
}


@pytest.fixture(scope="module")
def sub():
    return generate(seed=7, size="small")


@pytest.fixture(scope="module")
def events(sub):
    return raw_events(sub)


def test_default_clock_is_2026_11_01_noon_utc(sub):
    assert sub.now_ms == int(datetime(2026, 11, 1, 12, tzinfo=UTC).timestamp() * 1000)
    assert sub.timezone == ZoneInfo("UTC")


def test_same_seed_and_size_give_identical_data(sub):
    again = generate(seed=7, size="small")
    for name, array in vars(sub.events).items():
        assert np.array_equal(array, getattr(again.events, name)), name
    for name in (
        "accounts",
        "visitors",
        "schema",
        "pages",
        "features",
        "guides",
        "guide_events",
        "poll_events",
        "reports",
        "segments",
        "visitor_ids",
        "remote_ips",
    ):
        assert getattr(sub, name) == getattr(again, name), name


def test_another_seed_gives_other_data(sub):
    other = generate(seed=8, size="small")
    assert other.visitor_ids != sub.visitor_ids
    assert len(other.events) != len(sub.events) or not np.array_equal(
        other.events.ts, sub.events.ts
    )


def test_small_size_counts_and_window(sub, events):
    assert len(sub.accounts) == SIZES["small"].accounts == 25
    assert len(sub.visitors) == SIZES["small"].visitors == 200
    assert len(set(sub.visitor_ids)) == 200
    assert list(sub.visitors) == sub.visitor_ids and list(sub.accounts) == sub.account_ids
    # 30 local days ending with the day that contains "now".
    assert sub.window_start_ms == int(datetime(2026, 10, 3, tzinfo=UTC).timestamp() * 1000)
    assert events.ts.min() >= sub.window_start_ms
    assert events.ts.max() < sub.now_ms
    assert (np.diff(sub.events.ts) >= 0).all()


def test_two_apps_web_default_and_mobile(sub, events):
    assert sub.apps[0] == {"id": -323232, "name": sub.apps[0]["name"], "platform": "web"}
    assert sub.apps[1]["platform"] == "ios" and sub.apps[1]["id"] != -323232
    assert set(events.appId) == {-323232, sub.apps[1]["id"]}


def test_visitors_have_pendo_metadata_groups(sub):
    auto_keys = {
        "id",
        "idhash",
        "accountid",
        "accountids",
        "firstvisit",
        "lastvisit",
        "lastupdated",
        "lastbrowsername",
        "lastbrowserversion",
        "lastoperatingsystem",
        "lastservername",
        "lastuseragent",
    }
    for visitor_id, row in sub.visitors.items():
        assert row["visitorId"] == visitor_id
        metadata = row["metadata"]
        assert set(metadata["auto"]) == auto_keys
        assert {"auto", "agent", "custom", "pendo"} <= set(metadata)
        assert set(metadata["pendo"]) == {"donotprocess", "blacklistguides", "designerenabled"}
        assert all(key == key.lower() for key in metadata["auto"])
        assert metadata["auto"]["id"] == visitor_id
        assert isinstance(metadata["auto"]["idhash"], int)
        assert metadata["auto"]["firstvisit"] <= metadata["auto"]["lastvisit"]


def test_identified_and_anonymous_visitors(sub):
    anonymous = [v for v in sub.visitor_ids if v.startswith("_PENDO_T_")]
    identified = [v for v in sub.visitor_ids if not v.startswith("_PENDO_T_")]
    assert 10 <= len(anonymous) <= 60 and len(identified) >= 140
    for visitor_id in anonymous:
        auto = sub.visitors[visitor_id]["metadata"]["auto"]
        assert auto["accountid"] == "" and auto["accountids"] == []
        assert re.fullmatch(r"_PENDO_T_[A-Za-z0-9_-]{11}", visitor_id)
    for visitor_id in identified:
        metadata = sub.visitors[visitor_id]["metadata"]
        assert set(metadata["agent"]) == {"email", "name", "role", "language"}
        assert metadata["auto"]["accountid"] in metadata["auto"]["accountids"]
        assert set(metadata["auto"]["accountids"]) <= set(sub.accounts)
    assert any(len(sub.visitors[v]["metadata"]["auto"]["accountids"]) > 1 for v in identified)


def test_every_account_has_a_visitor(sub):
    used = {a for row in sub.visitors.values() for a in row["metadata"]["auto"]["accountids"]}
    assert used == set(sub.accounts)


def test_accounts_have_auto_agent_custom(sub):
    for account_id, row in sub.accounts.items():
        metadata = row["metadata"]
        assert row["accountId"] == account_id
        assert set(metadata["auto"]) == {"id", "idhash", "firstvisit", "lastvisit", "lastupdated"}
        assert {"name", "plan", "industry"} <= set(metadata["agent"])
        assert metadata["agent"]["plan"] in ("free", "starter", "pro", "enterprise")
    assert any("/" in a for a in sub.account_ids)  # an id that needs b64_ in paths


def test_last_visits_match_the_events(sub, events):
    last_by_visitor = events.groupby("visitorId").ts.max()
    for visitor_id, last in last_by_visitor.items():
        assert sub.visitors[visitor_id]["metadata"]["auto"]["lastvisit"] == last
    with_account = events[events.accountId != ""]
    for account_id, last in with_account.groupby("accountId").ts.max().items():
        assert sub.accounts[account_id]["metadata"]["auto"]["lastvisit"] == last
    last_rows = (
        events[events.server != "__apitrackevent__"].sort_values("ts").groupby("visitorId").tail(1)
    )
    for row in last_rows.itertuples():
        assert sub.visitors[row.visitorId]["metadata"]["auto"]["lastuseragent"] == row.userAgent


def test_do_not_process_visitors_are_flagged_and_silent(sub, events):
    flagged = sub.do_not_process["visitor"]
    assert flagged
    for visitor_id in flagged:
        assert sub.visitors[visitor_id]["metadata"]["pendo"]["donotprocess"] is True
    assert not set(events.visitorId) & flagged


def test_custom_values_match_their_schema_types(sub):
    python_types = {"string": str, "boolean": bool, "integer": int, "float": float, "time": int}
    for kind, rows in (("visitor", sub.visitors), ("account", sub.accounts)):
        custom = sub.schema[kind]["custom"]
        assert {"string", "boolean", "time"} <= {d["Type"] for d in custom.values()}
        assert {"integer", "float"} & {d["Type"] for d in custom.values()}
        for row in rows.values():
            for name, value in row["metadata"]["custom"].items():
                assert type(value) is python_types[custom[name]["Type"]], (kind, name, value)


def test_schema_definitions_use_pendo_mixed_case_keys(sub):
    for kind in ("visitor", "account"):
        assert {"auto", "agent", "custom", "pendo"} <= set(sub.schema[kind])
        for group, fields in sub.schema[kind].items():
            for name, definition in fields.items():
                assert SCHEMA_KEYS <= set(definition), (kind, group, name)
                assert (group == "agent") == ("sample" in definition)


def test_weekday_weekend_rhythm_in_the_subscription_time_zone():
    tokyo = generate(seed=7, size="small", timezone="Asia/Tokyo")
    frame = raw_events(tokyo)
    local = pd.to_datetime(frame.ts, unit="ms", utc=True).dt.tz_convert("Asia/Tokyo")
    per_day = frame.groupby(local.dt.date).size()
    weekend = pd.Series([d.weekday() >= 5 for d in per_day.index], index=per_day.index)
    assert per_day[~weekend].mean() > 2.5 * per_day[weekend].mean()


def test_day_starts_are_local_midnights():
    starts, weekend = local_day_starts(
        parse_now("2026-11-01T12:00:00Z"), ZoneInfo("America/New_York"), 3
    )
    # Oct 30 and 31 are EDT (UTC-4); Nov 1 is EST (UTC-5) from 2 am: midnight Nov 1 is still EDT.
    expected = [datetime(2026, 10, d, 4, tzinfo=UTC) for d in (30, 31)]
    expected += [datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC)]
    assert starts.tolist() == [int(e.timestamp() * 1000) for e in expected]
    assert weekend.tolist() == [False, True, True]  # Friday, Saturday, Sunday


def test_heavy_and_light_users(events):
    per_visitor = events[~events.visitorId.str.startswith("_PENDO_T_")].groupby("visitorId").size()
    top = per_visitor.sort_values(ascending=False).head(len(per_visitor) // 5)
    assert top.sum() > 0.45 * per_visitor.sum()
    assert per_visitor.max() > 10 * per_visitor.median()


def test_feature_adoption_depends_on_plan(sub, events):
    plan = {a: row["metadata"]["agent"]["plan"] for a, row in sub.accounts.items()}
    clicks = events[
        (events.kind == CLICK) & events.objectId.notna() & (events.accountId != "")
    ].copy()
    clicks["plan"] = clicks.accountId.map(plan)
    pro_features = {
        f["id"]
        for f in sub.features
        if f["name"]
        in ("Share Dashboard", "Schedule Report", "Run Query", "Segment Picker", "AI Summary")
    }
    share = clicks.objectId.isin(pro_features).groupby(clicks.plan).mean()
    assert min(share["pro"], share["enterprise"]) > 5 * max(share["free"], share["starter"])


def test_churned_accounts_stop_using_the_product(sub, events):
    with_account = events[events.accountId != ""]
    last = with_account.groupby("accountId").ts.max()
    churned = last[last < sub.now_ms - 7 * DAY_MS]
    assert len(churned) >= 1
    for account_id in churned.index:
        assert sub.accounts[account_id]["metadata"]["custom"]["ispaying"] is False


def lookup_lists(sub) -> dict[str, list]:
    """Every list an event column indexes into, and the catalogs' ids."""
    return {
        "visitor_ids": sub.visitor_ids,
        "account_ids": sub.account_ids,
        "apps": [a["id"] for a in sub.apps],
        "pages": [p["id"] for p in sub.pages],
        "features": [f["id"] for f in sub.features],
        "track_types": [t["id"] for t in sub.track_types],
        "remote_ips": sub.remote_ips,
        "servers": sub.servers,
        "user_agents": sub.user_agents,
    }


# Seed 81's demo draws hit one address twice; the repeat is moved to the next free address.
@pytest.mark.parametrize(("seed", "size"), [(7, "small"), (7, "demo"), (81, "demo")])
def test_lookup_lists_hold_distinct_values(seed, size):
    sub = generate(seed=seed, size=size)
    for name, values in lookup_lists(sub).items():
        repeated = pd.Series(values)[pd.Series(values).duplicated()].tolist()
        assert repeated == [], name
    assert len(sub.parsed_user_agents) == len(sub.user_agents)


class SameDraws:
    """A random generator whose every draw is the largest allowed value (or the first choice)."""

    def integers(self, low, high, size):
        return np.full(size, high - 1)

    def choice(self, options, size):
        return np.full(size, options[0])


def test_repeated_address_draws_become_the_next_free_addresses():
    ips = _lookups(SameDraws(), 2, 3).remote_ips
    # Every draw is 23.254.254.254 (first octets come from the public list, whose first is 23):
    # the first keeps it, the others take the next addresses, wrapping within 23.x.x.x, and
    # every octet stays in 1..254.
    assert ips == ["23.254.254.254", "23.1.1.1", "23.1.1.2", "23.1.1.3", "23.1.1.4",
                   "198.51.100.20"]  # fmt: skip


@pytest.mark.parametrize("size", ["small", "demo"])
def test_grouped_event_rows_have_distinct_visible_keys(size):
    sub = generate(seed=7, size=size)
    time_series = {"period": "dayRange", "first": sub.window_start_ms, "count": SIZES[size].days}
    rows = run_pipeline(
        [{"source": {"events": {"appId": 'expandAppIds("*")'}, "timeSeries": time_series}}], sub
    )
    # Issue 14: a tagged click's events row names its feature, so featureId is a key too.
    keys = ["visitorId", "accountId", "appId", "day", "featureId", "remoteIp", "server",
            "userAgent"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=keys)
    assert len(frame) > 1_000
    assert not frame.duplicated().any()


def test_catalog_objects(sub):
    app_ids = {a["id"] for a in sub.apps}
    pages = {p["id"]: p for p in sub.pages}
    for kind, objects in (
        ("Page", sub.pages),
        ("Feature", sub.features),
        ("TrackType", sub.track_types),
    ):
        for obj in objects:
            assert obj["kind"] == kind and obj["appId"] in app_ids
            assert len(obj["id"]) == 27 and obj["createdAt"] <= obj["lastUpdatedAt"] < sub.now_ms
    for feature in sub.features:
        assert pages[feature["pageId"]]["appId"] == feature["appId"]
    members = {i["itemId"] for g in sub.groups for i in g["items"]}
    assert members == {o["id"] for o in [*sub.pages, *sub.features, *sub.track_types]}


def test_guides_steps_and_polls_with_one_nps(sub):
    polls = [p for g in sub.guides for p in g["polls"]]
    nps = [p for p in polls if p["attributes"]["type"] == "NPSRating"]
    assert len(nps) == 1 and nps[0]["numericResponses"] == list(range(11))
    for guide in sub.guides:
        assert guide["kind"] == "Guide" and guide["steps"]
        assert all(step["guideId"] == guide["id"] for step in guide["steps"])
    assert {g["state"] for g in sub.guides} >= {"public", "draft", "disabled"}


def test_guide_events(sub):
    rows = sub.guide_events
    assert {r["type"] for r in rows} >= {
        "guideSeen",
        "guideAdvanced",
        "guideDismissed",
        "guideTimeout",
    }
    steps = {(g["id"], s["id"]) for g in sub.guides for s in g["steps"]}
    public = {g["id"] for g in sub.guides if g["state"] == "public"}
    times = [r["browserTime"] for r in rows]
    assert times == sorted(times) and times[-1] < sub.now_ms
    for row in rows:
        # Issue 14: poll responses are guide events too, and name their poll and answer.
        poll_fields = {"pollId", "pollResponse"} if row["type"] == "pollResponse" else set()
        assert set(row) == GUIDE_EVENT_FIELDS | poll_fields
        assert (row["guideId"], row["guideStepId"]) in steps and row["guideId"] in public
        assert row["visitorId"] in sub.visitors and row["guideTimestamp"] == row["browserTime"]


def test_poll_events_answer_the_guides_polls(sub):
    polls = {p["id"]: (g["id"], p) for g in sub.guides for p in g["polls"]}
    nps_id = next(pid for pid, (_g, p) in polls.items() if p["attributes"]["type"] == "NPSRating")
    answers = [r for r in sub.poll_events if r["pollId"] == nps_id]
    assert answers
    assert all(r["type"] == "pollResponse" and isinstance(r["pollResponse"], int) for r in answers)
    assert {r["pollResponse"] for r in answers} <= set(range(11))
    for row in sub.poll_events:
        assert polls[row["pollId"]][0] == row["guideId"]


def test_segments(sub):
    assert sub.segments
    for segment in sub.segments:
        # Issue 14: segments also say who made them and when (GET /segment shows them).
        assert set(segment) == {"id", "name", "kind", "filter", "createdAt", "createdByUser",
                                "lastUpdatedAt", "lastUpdatedByUser"}  # fmt: skip
        assert segment["kind"] in ("visitor", "account")


def test_reports_lists_use_core_operators_plus_path_and_funnel(sub):
    types = [r["definition"]["type"] for r in sub.reports]
    assert types.count("Path") == 1 and types.count("Funnel") == 1 and types.count("List") >= 4
    for report in sub.reports:
        assert report["shared"] is True and report["kind"] == "Report"
        if report["definition"]["type"] != "List":
            continue
        assert report["definition"]["generator"] in ("visitorList", "accountList")
        fields = report["aggregation"]["fields"]
        assert fields and all(set(f) == {"field", "title", "type"} for f in fields)
        operators = {next(iter(step)) for step in report["aggregation"]["pipeline"]}
        assert operators <= CORE_OPERATORS
        source = report["aggregation"]["pipeline"][0]["source"]
        assert {k for k in source if k != "timeSeries"} <= {"visitors", "accounts", "events"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": "huge"}, "size='huge' is not one of"),
        ({"seed": -1}, "non-negative integer"),
        ({"now": "yesterday"}, "not an ISO 8601 time"),
        ({"now": "2026-11-01T12:00:00"}, "has no time zone"),
        ({"timezone": "Mars/Olympus"}, "not a known IANA time zone"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate(**kwargs)


def test_now_and_time_zone_move_the_window():
    sub = generate(seed=7, size="small", now="2026-03-15T08:30:00+01:00", timezone="Europe/Berlin")
    assert sub.now_ms == int(datetime(2026, 3, 15, 7, 30, tzinfo=UTC).timestamp() * 1000)
    # The window starts at local midnight of Feb 14 (CET, UTC+1).
    assert sub.window_start_ms == int(datetime(2026, 2, 13, 23, tzinfo=UTC).timestamp() * 1000)
    assert sub.events.ts.max() < sub.now_ms
