"""Pendo's own published aggregation bodies run against the sandbox.

The bodies are those of GitHub ``pendo-io/pendo-ETL-API-calls`` (reference section 0, [ETL]),
written out here as Python values; the expected field names are those of the sample outputs
published beside them (``Sample ... Data.txt``) or, where none is published, the fields the body
itself selects or groups into. Counts are checked against pandas over the raw events.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pendo_nb.sandbox.subscription.model import TRACK

from .sandbox_helpers import DAY_MS, raw_events

YESTERDAY = {"period": "dayRange", "first": "now()", "count": -1}
LAST_30_DAYS = {"period": "dayRange", "first": "now() - 30 * 1000 * 60 *60 * 24", "count": 30}


def envelope(pipeline: list, name: str = "", request_id: str = "", **extra) -> dict:
    """The request envelope the way the samples send it (some with channelId / location)."""
    return {
        **extra,
        "response": {"mimeType": "application/json"},
        "request": {"name": name, "pipeline": pipeline, "requestId": request_id},
    }


# Events/Events.json
EVENTS = envelope(
    [
        {"source": {"events": {"eventClass": ["web", "ios"]}, "timeSeries": YESTERDAY}},
        {"identified": "visitorId"},
        {
            "select": {
                "numEvents": "numEvents",
                "numMinutes": "numMinutes",
                "accountId": "accountId",
                "visitorId": "visitorId",
                "day": "day",
            }
        },
        {
            "group": {
                "group": ["visitorId", "accountId", "day"],
                "fields": {"totalTime": {"sum": "numMinutes"}, "totalEvents": {"sum": "numEvents"}},
            }
        },
        {"sort": ["accountId", "totalTime"]},
    ],
    name="Events",
    request_id="Events",
)
# "Page Events Data/pageEvents.json" (it asks for featureEvents)
FEATURE_EVENTS = {
    "channelId": "",
    "response": {"location": "request", "mimeType": "application/json"},
    "request": {
        "name": "",
        "pipeline": [{"source": {"featureEvents": None, "timeSeries": YESTERDAY}}],
        "requestId": "",
    },
}
VISITOR_FIELDS = [
    "firstvisit",
    "lastbrowsername",
    "lastbrowserversion",
    "lastoperatingsystem",
    "lastservername",
    "lastupdated",
    "lastuseragent",
    "lastvisit",
]
# User Data/visitors.json
VISITORS = envelope(
    [
        {"source": {"visitors": None}},
        {"identified": "visitorId"},
        {
            "select": {
                "visitorId": "visitorId",
                **{f: f"metadata.auto.{f}" for f in VISITOR_FIELDS},
                "accountid": "metadata.auto.accountid",
            }
        },
        {"limit": 10},
    ]
)
# User Data/anonymous_visitors.json
ANONYMOUS_VISITORS = envelope(
    [
        {"source": {"visitors": None}},
        {"identified": "!visitorId"},
        {
            "select": {
                "visitorId": "visitorId",
                **{f: f"metadata.auto.{f}" for f in VISITOR_FIELDS},
                "accountids": "metadata.auto.accountids",
            }
        },
    ]
)
# User Data/accounts.json
ACCOUNTS = envelope(
    [
        {"source": {"accounts": None}},
        {"identified": "accountId"},
        {
            "select": {
                "accountId": "accountId",
                "firstvisit": "metadata.auto.firstvisit",
                "name": "metadata.agent.name",
                "lastupdated": "metadata.auto.lastupdated",
                "lastvisit": "metadata.auto.lastvisit",
                "arrannuallyrecurringrevenue": "metadata.custom.arrannuallyrecurringrevenue",
                "customersuccessmanager": "metadata.custom.customersuccessmanager",
                "industry": "metadata.custom.industry",
                "planlevel": "metadata.custom.planlevel",
                "renewaldate": "metadata.custom.renewaldate",
                "totallicenses": "metadata.custom.totallicenses",
            }
        },
    ]
)
# User Data/newUserLastXdays.json
NEW_USERS = envelope(
    [
        {"source": {"visitors": None}},
        {"identified": "visitorId"},
        {"eval": {"visitorId": "hash(visitorId)"}},
        {"select": {"visitorId": "visitorId", "first": "metadata.auto.firstvisit"}},
        {"filter": "first >= now() - 7 * 1000 * 60 *60 * 24"},
    ]
)


def _active_count(kind: str, name: str) -> dict:
    """Monthly Active User and Account/monthlyactive{user,account}count.json."""
    field = "visitorId" if kind == "user" else "accountId"
    out = "uniqueVisitors" if kind == "user" else "uniqueAccounts"
    app_ids = "expandAppIds(`*`)" if kind == "user" else 'expandAppIds("*")'  # both quotings appear
    return envelope(
        [
            {"source": {"events": {"appId": app_ids}, "timeSeries": LAST_30_DAYS}},
            {"identified": field},
            {"reduce": {out: {"count": field}}},
            {"select": {out: out, "date": "now()"}},
        ],
        name=name,
        request_id=name,
    )


def _catalog_names(source: str) -> dict:
    """Page - Feature - Guide IDs/all{Pages,Features,Guides}.json."""
    return {
        "channelId": "",
        "response": {"location": "request", "mimeType": "application/json"},
        "request": {
            "name": "",
            "pipeline": [{"source": {source: None}}, {"select": {"id": "id", "name": "name"}}],
            "requestId": "",
        },
    }


@pytest.fixture(scope="module")
def sub(sandbox):
    return sandbox.subscription


@pytest.fixture(scope="module")
def events(sub):
    return raw_events(sub)


def _results(api, body: dict) -> list[dict]:
    response = api.post("/api/v1/aggregation", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_events_sample(api, sub, events):
    rows = _results(api, EVENTS)
    assert rows and all(
        set(r) == {"visitorId", "accountId", "day", "totalTime", "totalEvents"} for r in rows
    )
    yesterday = sub.now_ms - sub.now_ms % DAY_MS - DAY_MS
    window = events[
        (events.ts >= yesterday) & (events.ts < yesterday + DAY_MS) & (events.kind != TRACK)
    ]
    window = window[~window.visitorId.str.startswith("_PENDO_T_")]
    # Default app only, or web and iOS if `eventClass` widens the source (reference 3.2: open).
    web_only = int((window.appId == -323232).sum())
    assert web_only <= sum(r["totalEvents"] for r in rows) <= len(window)
    assert {r["day"] for r in rows} == {yesterday}
    assert [(r["accountId"], r["totalTime"]) for r in rows] == sorted(
        (r["accountId"], r["totalTime"]) for r in rows
    )


def test_feature_events_sample_has_the_published_fields(api):
    sample_fields = {
        "accountId",
        "appId",
        "day",
        "featureId",
        "numEvents",
        "numMinutes",
        "remoteIp",
        "server",
        "userAgent",
        "visitorId",
    }
    rows = _results(api, FEATURE_EVENTS)
    assert rows and all(sample_fields <= set(r) for r in rows)


def test_visitors_sample(api):
    rows = _results(api, VISITORS)
    assert len(rows) == 10
    assert all(list(r) == ["visitorId", *VISITOR_FIELDS, "accountid"] for r in rows)
    assert not any(r["visitorId"].startswith("_PENDO_T_") for r in rows)


def test_anonymous_visitors_sample(api, sub):
    rows = _results(api, ANONYMOUS_VISITORS)
    expected = {v for v in sub.visitor_ids if v.startswith("_PENDO_T_")}
    assert {r["visitorId"] for r in rows} == expected
    assert all(r["accountids"] == [] for r in rows)


def test_accounts_sample_has_the_published_fields(api, sub):
    published = {
        "accountId",
        "arrannuallyrecurringrevenue",
        "customersuccessmanager",
        "firstvisit",
        "industry",
        "lastupdated",
        "lastvisit",
        "name",
        "planlevel",
        "renewaldate",
        "totallicenses",
    }
    rows = _results(api, ACCOUNTS)
    assert len(rows) == len(sub.accounts)
    assert all(set(r) == published for r in rows)
    # Fields this subscription does not have come back null, as in Pendo's sample.
    assert all(r["planlevel"] is None and r["name"] for r in rows)


def test_new_users_sample(api, sub):
    rows = _results(api, NEW_USERS)
    week_ago = sub.now_ms - 7 * DAY_MS
    expected = [
        v
        for v, row in sub.visitors.items()
        if not v.startswith("_PENDO_T_") and row["metadata"]["auto"]["firstvisit"] >= week_ago
    ]
    assert len(rows) == len(expected) and all(set(r) == {"visitorId", "first"} for r in rows)
    assert all(
        not isinstance(r["visitorId"], str) or r["visitorId"] not in sub.visitors for r in rows
    )  # hashed


@pytest.mark.parametrize(
    ("kind", "field", "out"),
    [("user", "visitorId", "uniqueVisitors"), ("account", "accountId", "uniqueAccounts")],
)
def test_monthly_active_counts(api, sub, events, kind, field, out):
    rows = _results(api, _active_count(kind, out))
    today = sub.now_ms - sub.now_ms % DAY_MS
    window = events[
        (events.ts >= today - 30 * DAY_MS) & (events.ts < today) & (events.kind != TRACK)
    ]
    identified = window[field].ne("") & ~window[field].str.startswith("_PENDO_T_")
    assert rows == [{out: window[identified][field].nunique(), "date": sub.now_ms}]


@pytest.mark.parametrize(
    ("source", "attribute"), [("pages", "pages"), ("features", "features"), ("guides", "guides")]
)
def test_catalog_lookup_samples(api, sub, source, attribute):
    rows = _results(api, _catalog_names(source))
    default_app = [o for o in getattr(sub, attribute) if o["appId"] == -323232]
    assert pd.DataFrame(rows).sort_values("id").to_dict("records") == sorted(
        ({"id": o["id"], "name": o["name"]} for o in default_app), key=lambda r: r["id"]
    )


def test_poll_ids_sample(api, sub):
    guide = next(
        g for g in sub.guides if any(p["attributes"]["type"] == "NPSRating" for p in g["polls"])
    )
    body = {
        "response": {},
        "request": {
            "name": "pollIds",
            "pipeline": [
                {"source": {"guides": None}},
                {"filter": f"id==`{guide['id']}`"},
                {"select": {"pollId1": "polls[0].id", "pollId2": "polls[1].id"}},
            ],
            "requestId": "pollIds",
        },
    }
    assert _results(api, body) == [
        {"pollId1": guide["polls"][0]["id"], "pollId2": guide["polls"][1]["id"]}
    ]


def test_raw_visitor_rows_have_the_published_fields(api):
    # "Visitor and Account Data/Sample Visitor Data.txt"; `nid` left out (meaning unknown, ref 4.1).
    published_auto = {
        "accountid",
        "accountids",
        "firstvisit",
        "id",
        "idhash",
        "lastbrowsername",
        "lastbrowserversion",
        "lastoperatingsystem",
        "lastservername",
        "lastupdated",
        "lastuseragent",
        "lastvisit",
    }
    rows = _results(
        api, envelope([{"source": {"visitors": None}}, {"identified": "visitorId"}, {"limit": 5}])
    )
    assert all(
        set(r) == {"visitorId", "metadata"} and published_auto <= set(r["metadata"]["auto"])
        for r in rows
    )


def _nps_body(guide_id: str, quantitative_poll: str, qualitative_poll: str) -> dict:
    """NPS Calls/combinedNpsResponses.json with the placeholders filled in."""

    def branch(poll_id: str, prefix: str) -> list:
        return [
            {"source": {"pollsSeenEver": {"guideId": guide_id, "pollId": poll_id}}},
            {"identified": "visitorId"},
            {"cat": None},
            {
                "select": {
                    "visitorId": "visitorId",
                    "accountId": "accountId",
                    f"{prefix}Time": "time",
                    f"{prefix}Response": "response",
                }
            },
        ]

    pipeline = [
        {
            "spawn": [
                branch(quantitative_poll, "quantitative"),
                branch(qualitative_poll, "qualitative"),
            ]
        },
        {"join": {"fields": ["visitorId"], "width": 2}},
        {"eval": {"visitorId": "hash(visitorId)"}},
        {
            "select": {
                "visitorId": "visitorId",
                "accountId": "accountId",
                "qualitativeResponse": "qualitativeResponse",
                "qualitativeTime": "qualitativeTime",
                "quantitativeResponse": "quantitativeResponse",
                "quantitativeTime": "quantitativeTime",
            }
        },
        {"sort": ["accountId", "-quantitativeResponse", "visitorId"]},
    ]
    return envelope(pipeline, name="NPSResponses", request_id="NPSResponses")


def test_combined_nps_responses_sample(api, sub):
    guide = next(
        g for g in sub.guides if any(p["attributes"]["type"] == "NPSRating" for p in g["polls"])
    )
    score_poll, reason_poll = (p["id"] for p in guide["polls"])
    rows = _results(api, _nps_body(guide["id"], score_poll, reason_poll))
    answers: dict[str, dict] = {}
    for row in sub.poll_events:
        if not row["visitorId"].startswith("_PENDO_T_"):
            answers.setdefault(row["visitorId"], {})[row["pollId"]] = row["pollResponse"]
    both = {v: a for v, a in answers.items() if score_poll in a and reason_poll in a}
    # Visitors who saw both questions but skipped one may be listed with a null answer.
    complete = [
        r
        for r in rows
        if r["quantitativeResponse"] is not None and r["qualitativeResponse"] is not None
    ]
    assert both and len(complete) == len(both)
    fields = {
        "visitorId",
        "accountId",
        "qualitativeResponse",
        "qualitativeTime",
        "quantitativeResponse",
        "quantitativeTime",
    }
    assert all(set(r) == fields for r in rows)
    assert sorted(r["quantitativeResponse"] for r in complete) == sorted(
        a[score_poll] for a in both.values()
    )
    assert sorted(r["qualitativeResponse"] for r in complete) == sorted(
        a[reason_poll] for a in both.values()
    )
