"""Tiny subscriptions built by hand for engine tests, so expected rows are obvious.

``make_subscription(...)`` builds a real :class:`Subscription` from a few readable events; tests
compute what they expect from the same few events by hand. (A module of its own, not conftest,
so test modules can import ``ms`` and the constants.)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, EventTable, Subscription

WEB_APP = -323232
IOS_APP = 5629499534213120
APPS = [
    {"id": WEB_APP, "name": "Web", "platform": "web"},
    {"id": IOS_APP, "name": "iOS", "platform": "ios"},
]
KINDS = {"page": PAGE_LOAD, "click": CLICK, "track": TRACK}


def ms(text: str, tz: str = "UTC") -> int:
    """Epoch ms of an ISO local time in ``tz`` (``"2026-03-08T01:30"``)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def _visitor(visitor_id: str, account_id: str, **custom) -> dict:
    return {
        "visitorId": visitor_id,
        "metadata": {
            "auto": {
                "id": visitor_id,
                "accountid": account_id,
                "accountids": [account_id],
                "lastupdated": 1_000,
            },  # fmt: skip
            "agent": {"email": f"{visitor_id}@example.com"},
            "custom": dict(custom),
        },
    }


def _account(account_id: str, **custom) -> dict:
    return {
        "accountId": account_id,
        "metadata": {
            "auto": {"id": account_id},
            "agent": {"name": account_id.upper()},
            "custom": dict(custom),
        },  # fmt: skip
    }


def make_subscription(events=(), *, timezone="UTC", now="2026-11-01T12:00", guide_events=(),
                  poll_events=(), segments=(), do_not_process=None) -> Subscription:  # fmt: skip
    """A subscription holding exactly ``events`` (and the fixed people and catalog below).

    Each event is ``(iso_local_time, visitor, account_or_None, kind, object_id_or_None)`` with
    optional ``app``, ``ip``, ``server``, ``ua`` in a trailing dict. Visitors ``v1``, ``v2``,
    ``_PENDO_T_anon`` and accounts ``a1``, ``a2`` exist; pages ``p1``, ``p2`` (web) and ``p3``
    (iOS), features ``f1`` (web), track type ``t1`` (web).
    """
    visitors = {
        "v1": _visitor("v1", "a1", plan="pro", score=3),
        "v2": _visitor("v2", "a2", plan="free", score=None),
        "_PENDO_T_anon": _visitor("_PENDO_T_anon", ""),
    }
    accounts = {"a1": _account("a1", tier=1), "a2": _account("a2", tier=2)}
    pages = [{"id": "p1", "appId": WEB_APP, "name": "Home", "kind": "Page"},
             {"id": "p2", "appId": WEB_APP, "name": "Reports", "kind": "Page"},
             {"id": "p3", "appId": IOS_APP, "name": "Inbox", "kind": "Page"}]  # fmt: skip
    features = [{"id": "f1", "appId": WEB_APP, "name": "Export", "pageId": "p2"}]
    track_types = [{"id": "t1", "appId": WEB_APP, "name": "Signed up"}]
    catalogs = {PAGE_LOAD: pages, CLICK: features, TRACK: track_types}
    visitor_ids, account_ids = list(visitors), list(accounts)
    ips, servers, agents = (
        ["10.0.0.1", "10.0.0.2"],
        ["app.example", "__apitrackevent__"],
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Gecko/20100101 Firefox/120.0",
        ],
    )
    parsed = []
    for event in events:
        when, visitor, account, kind, object_id, *extra = event
        options = extra[0] if extra else {}
        kind = KINDS[kind]
        parsed.append((
            ms(when, timezone),
            visitor_ids.index(visitor),
            account_ids.index(account) if account else -1,
            [a["id"] for a in APPS].index(options.get("app", WEB_APP)),
            kind,
            [o["id"] for o in catalogs[kind]].index(object_id) if object_id else -1,
            options.get("ip", 0),
            options.get("server", 0),
            options.get("ua", 0),
        ))  # fmt: skip
    parsed.sort(key=lambda e: e[0])
    columns = list(zip(*parsed, strict=True)) if parsed else [()] * 9
    dtypes = [np.int64, np.int32, np.int32, np.int32, np.int8, np.int32, np.int32, np.int32,
              np.int32]  # fmt: skip
    table = EventTable(*(np.array(c, dtype=d) for c, d in zip(columns, dtypes, strict=True)))
    return Subscription(
        seed=0,
        size="tiny",
        now_ms=ms(now, timezone),
        timezone=ZoneInfo(timezone),
        apps=[dict(a) for a in APPS],
        account_ids=account_ids,
        visitor_ids=visitor_ids,
        accounts=accounts,
        visitors=visitors,
        schema={},
        pages=pages,
        features=features,
        track_types=track_types,
        guides=[{"id": "g1", "appId": WEB_APP, "name": "Tour", "steps": [{"id": "s1"}]}],
        groups=[{"id": "grp1", "name": "Analytics", "items": [{"itemId": "p1"}]}],
        remote_ips=ips,
        servers=servers,
        user_agents=agents,
        events=table,
        guide_events=sorted(guide_events, key=lambda r: r["browserTime"]),
        poll_events=sorted(poll_events, key=lambda r: r["browserTime"]),
        segments=list(segments),
        reports=[],
        do_not_process=do_not_process or {},
    )
