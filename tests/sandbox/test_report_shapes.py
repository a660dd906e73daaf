"""Pipelines shaped like the ones embedded in real Pendo reports run on the sandbox.

Reference 2.5: report definitions carry pipelines made of ``bulkExpand``, ``eval``, ``fork``,
``group``, ``merge``, ``segment``, ``select``, ``spawn``, ``switch`` and ``unwind``. Two such
pipelines (a visitor list and an account list) go through the real server on loopback; every
expected row is built here from the subscription's own objects and raw events with plain Python
and pandas, never by the engine.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pendo_nb.sandbox.subscription.model import TRACK

from .sandbox_helpers import DAY_MS, raw_events

LAST_30_DAYS = {"period": "dayRange", "first": "now()", "count": -30}


@pytest.fixture(scope="module")
def sub(sandbox):
    return sandbox.subscription


def _segment_id(sub, name: str) -> str:
    return next(s["id"] for s in sub.segments if s["name"] == name)


def _usage_band(num_events: int) -> str:
    if num_events == 0:
        return "none"
    return "light" if num_events < 50 else "heavy"


def test_visitor_list_with_segment_bulk_expand_merge_eval_switch_select(api, sub):
    pipeline = [
        {"source": {"visitors": None}},
        {"segment": {"id": _segment_id(sub, "Admins")}},
        {"bulkExpand": {"account": {"account": "metadata.auto.accountid"}}},
        {"merge": {"fields": ["visitorId"],
                   "mappings": {"numEvents": "numEvents", "daysActive": "daysActive"},
                   "pipeline": [
                       {"source": {"events": {"appId": 'expandAppIds("*")'},
                                   "timeSeries": LAST_30_DAYS}},
                       {"group": {"group": ["visitorId"], "fields": {
                           "numEvents": {"sum": "numEvents"}, "daysActive": {"count": "day"}}}},
                   ]}},
        {"eval": {"numEvents": "if(isNull(numEvents), 0, numEvents)"}},
        {"switch": {"usage": {"numEvents": [
            {"value": "none", "==": 0},
            {"value": "light", ">": 0, "<": 50},
            {"value": "heavy", ">=": 50},
        ]}}},
        {"select": {"visitorId": "visitorId", "accountName": "account.agent.name",
                    "plan": "account.agent.plan", "numEvents": "numEvents",
                    "daysActive": "daysActive", "usage": "usage"}},
        {"sort": ["visitorId"]},
    ]  # fmt: skip

    # Expected: the admins, their last account's agent metadata, and their events of the 30 UTC
    # days before today (all apps; the events source leaves track events out).
    events = raw_events(sub)
    today = sub.now_ms - sub.now_ms % DAY_MS
    window = events[
        (events.ts >= today - 30 * DAY_MS) & (events.ts < today) & (events.kind != TRACK)
    ]
    window = window.assign(day=window.ts - window.ts % DAY_MS)
    usage = window.groupby("visitorId").agg(numEvents=("ts", "size"), daysActive=("day", "nunique"))
    expected = []
    for visitor_id in sorted(sub.visitors):
        metadata = sub.visitors[visitor_id]["metadata"]
        if metadata.get("agent", {}).get("role") != "admin":
            continue
        account = sub.accounts.get(metadata["auto"]["accountid"])
        agent = account["metadata"]["agent"] if account else {}
        used = visitor_id in usage.index
        num_events = int(usage.at[visitor_id, "numEvents"]) if used else 0
        expected.append(
            {
                "visitorId": visitor_id,
                "accountName": agent.get("name"),
                "plan": agent.get("plan"),
                "numEvents": num_events,
                "daysActive": int(usage.at[visitor_id, "daysActive"]) if used else None,
                "usage": _usage_band(num_events),
            }
        )
    assert len({row["usage"] for row in expected}) >= 2  # the bands are really exercised

    answer = api.aggregate(pipeline)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == expected


def test_account_list_with_spawn_unwind_group_segment_join_fork(api, sub):
    pipeline = [
        {"spawn": [
            [
                {"source": {"visitors": None}},
                {"eval": {"accountId": "metadata.auto.accountids"}},
                {"unwind": {"field": "accountId", "index": "position"}},
                {"group": {"group": ["accountId"], "fields": {
                    "members": {"count": "visitorId"}, "firstListed": {"min": "position"}}}},
            ],
            [
                {"source": {"accounts": None}},
                {"segment": {"id": _segment_id(sub, "Paying accounts")}},
                {"select": {"accountId": "accountId", "plan": "metadata.agent.plan"}},
            ],
        ]},
        {"join": {"fields": ["accountId"], "width": 2}},
        {"filter": "!isNull(plan) && !isNull(members)"},
        {"fork": [
            [{"filter": 'plan == "enterprise" || plan == "pro"'}, {"eval": {"tier": '"top"'}}],
            [{"filter": 'plan != "enterprise" && plan != "pro"'}, {"eval": {"tier": '"rest"'}}],
        ]},
        {"sort": ["accountId"]},
    ]  # fmt: skip

    # Expected: for each paying account listed by at least one visitor, how many visitors list
    # it and the smallest position at which one of them does.
    listings = pd.DataFrame(
        [
            {"visitorId": visitor_id, "accountId": account_id, "position": position}
            for visitor_id, row in sub.visitors.items()
            for position, account_id in enumerate(row["metadata"]["auto"].get("accountids", []))
        ]
    )
    per_account = listings.groupby("accountId").agg(
        members=("visitorId", "nunique"), firstListed=("position", "min")
    )
    expected = []
    for account_id in sorted(sub.accounts):
        metadata = sub.accounts[account_id]["metadata"]
        if metadata["custom"].get("ispaying") is not True or account_id not in per_account.index:
            continue
        plan = metadata["agent"]["plan"]
        expected.append(
            {
                "accountId": account_id,
                "members": int(per_account.at[account_id, "members"]),
                "firstListed": int(per_account.at[account_id, "firstListed"]),
                "plan": plan,
                "tier": "top" if plan in ("enterprise", "pro") else "rest",
            }
        )
    assert {row["tier"] for row in expected} == {"top", "rest"}  # both branches carry rows

    answer = api.aggregate(pipeline)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == expected
