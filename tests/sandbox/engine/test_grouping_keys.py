"""Grouped event rows stay exact when the group keys span more than an int64 can count.

The engine packs each event's group key (bucket, visitor, account, app, remote IP, server, user
agent) and its minute into one integer. Here the lookup lists are long enough that the product of
their sizes and the minutes of a 30-day range passes 2**63, so a packing that multiplies blindly
wraps around and merges or splits groups. The expected rows come from pandas' ``groupby`` over the
raw events.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from pendo_nb.sandbox.engine import run_pipeline
from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, EventTable

from .engine_builders import APPS, WEB_APP, ms

DAY_MS = 86_400_000
DAYS = 30
NOW = "2026-11-01T12:00"
LAST_30_DAYS = {
    "source": {
        "events": {"appId": 'expandAppIds("*")'},
        "timeSeries": {"period": "dayRange", "first": "now()", "count": -DAYS},
    }
}
VISITORS, ACCOUNTS, IPS, AGENTS = 3_000, 1_000, 3_000, 3_000
PEOPLE, EVENTS = 60, 40_000


def wide_subscription(base, seed: int):
    """``base`` with long lookup lists and random page loads and clicks of a few people.

    Each person (visitor, account, app, IP, server) uses two neighbouring user agents, so groups
    whose packed keys differ by one exist on every day, at minutes spread over the whole range.
    """
    rng = np.random.default_rng(seed)
    person = rng.integers(0, PEOPLE, EVENTS)
    visitor = rng.integers(0, VISITORS, PEOPLE)[person]
    account = rng.integers(-1, ACCOUNTS, PEOPLE)[person]  # -1: no account
    app = rng.integers(0, len(APPS), PEOPLE)[person]
    ip = rng.integers(0, IPS, PEOPLE)[person]
    server = rng.integers(0, 2, PEOPLE)[person]
    agent = rng.integers(0, AGENTS - 1, PEOPLE)[person] + rng.integers(0, 2, EVENTS)
    end = ms(NOW) - ms(NOW) % DAY_MS
    ts = np.sort(rng.integers(end - (DAYS + 1) * DAY_MS, ms(NOW), EVENTS))  # some outside
    table = EventTable(
        ts=ts.astype(np.int64),
        visitor=visitor.astype(np.int32),
        account=account.astype(np.int32),
        app=app.astype(np.int32),
        kind=rng.choice([PAGE_LOAD, CLICK], EVENTS).astype(np.int8),
        object=np.full(EVENTS, -1, dtype=np.int32),
        ip=ip.astype(np.int32),
        server=server.astype(np.int32),
        user_agent=agent.astype(np.int32),
    )
    return dataclasses.replace(
        base,
        now_ms=ms(NOW),
        visitor_ids=[f"visitor-{i}" for i in range(VISITORS)],
        account_ids=[f"account-{i}" for i in range(ACCOUNTS)],
        remote_ips=[f"10.{i // 256}.{i % 256}.1" for i in range(IPS)],
        servers=["app.example", "eu.app.example"],
        user_agents=[f"Agent/{i}" for i in range(AGENTS)],
        events=table,
    )


def pandas_rows(sub) -> list[tuple]:
    """Pendo's grouped ``events`` rows of the last 30 days, by pandas from the raw events."""
    table = sub.events
    frame = pd.DataFrame({field.name: getattr(table, field.name)
                          for field in dataclasses.fields(table)})  # fmt: skip
    end = sub.now_ms - sub.now_ms % DAY_MS  # UTC: midnight today
    frame = frame[(frame.ts >= end - DAYS * DAY_MS) & (frame.ts < end)]
    frame = frame.assign(day=frame.ts // DAY_MS * DAY_MS, minute=frame.ts // 60_000)
    keys = ["visitor", "account", "app", "day", "ip", "server", "user_agent"]
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
    accounts = np.asarray([*sub.account_ids, ""], dtype=object)  # -1 reads ""
    app_ids = [app["id"] for app in sub.apps]
    pages = np.asarray(
        ["allevents" if i == WEB_APP else f"allevents-{i}" for i in app_ids], dtype=object
    )
    return sorted(zip(
        np.asarray(sub.visitor_ids, dtype=object)[rows.visitor],
        accounts[rows.account],
        np.asarray(app_ids)[rows.app].tolist(),
        rows.day.tolist(),
        pages[rows.app],
        np.asarray(sub.remote_ips, dtype=object)[rows.ip],
        np.asarray(sub.servers, dtype=object)[rows.server],
        np.asarray(sub.user_agents, dtype=object)[rows.user_agent],
        rows.numEvents.tolist(),
        rows.numMinutes.tolist(),
        rows.firstTime.tolist(),
        rows.lastTime.tolist(),
        strict=True,
    ))  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_events_rows_are_exact_when_keys_pass_two_to_the_63(make_subscription, seed):
    sub = wide_subscription(make_subscription(), seed)
    radices = [DAYS, VISITORS, ACCOUNTS + 1, len(APPS), IPS, 2, AGENTS, DAYS * 24 * 60]
    assert math.prod(radices) > 2**63  # the case this file is about

    rows = run_pipeline([LAST_30_DAYS], sub)
    got = sorted((r["visitorId"], r["accountId"], r["appId"], r["day"], r["pageId"],
                  r["remoteIp"], r["server"], r["userAgent"], r["numEvents"], r["numMinutes"],
                  r["firstTime"], r["lastTime"]) for r in rows)  # fmt: skip
    want = pandas_rows(sub)
    assert len(want) > 2_000
    assert got == want
