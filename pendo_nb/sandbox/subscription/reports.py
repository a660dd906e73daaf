"""Saved segments and public reports.

List reports (visitor and account lists) are defined, as in Pendo, by an aggregation: the columns
(``aggregation.fields``) and the pipeline that computes the rows. Their group steps write
``fields`` in the list form, as Pendo's documentation does (reference 3.5). They use only the
core operators, so the engine can compute their contents. The Path and Funnel reports are
listed but, as in Pendo, their contents cannot be fetched.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.catalog import DAY_MS, WEB_APP_ID
from pendo_nb.sandbox.subscription.identifiers import catalog_ids

_ALL_APPS = 'expandAppIds("*")'
_LAST_30_DAYS = {"period": "dayRange", "first": "now()", "count": -30}
_LAST_14_DAYS = {"period": "dayRange", "first": "now()", "count": -14}

_SEGMENTS = (
    ("Enterprise accounts", "account", 'metadata.agent.plan == "enterprise"'),
    ("Paying accounts", "account", "metadata.custom.ispaying == true"),
    ("Admins", "visitor", 'metadata.agent.role == "admin"'),
    ("Beta testers", "visitor", "metadata.custom.betaopt == true"),
    ("German speakers", "visitor", 'metadata.agent.language == "de-DE"'),
)


def _field(field: str, title: str, type_: str) -> dict[str, Any]:
    return {"field": field, "title": title, "type": type_}


# name, generator, kind, time series (for the definition), fields, pipeline
_LIST_REPORTS = (
    (
        "Active users (last 30 days)",
        "visitorList",
        "visitor",
        _LAST_30_DAYS,
        [
            _field("visitorId", "Visitor ID", "string"),
            _field("daysActive", "Days Active", "number"),
            _field("numEvents", "Number of Events", "number"),
            _field("numMinutes", "Minutes Active", "number"),
            _field("lastActiveDay", "Last Active Day", "time"),
        ],
        [
            {"source": {"events": {"appId": _ALL_APPS}, "timeSeries": _LAST_30_DAYS}},
            {"identified": "visitorId"},
            {
                "group": {
                    "group": ["visitorId"],
                    "fields": [
                        {"daysActive": {"count": "day"}},
                        {"numEvents": {"sum": "numEvents"}},
                        {"numMinutes": {"sum": "numMinutes"}},
                        {"lastActiveDay": {"max": "day"}},
                    ],
                }
            },
            {"sort": ["-numEvents", "visitorId"]},
        ],
    ),
    (
        "Enterprise accounts",
        "accountList",
        "account",
        None,
        [
            _field("accountId", "Account ID", "string"),
            _field("name", "Name", "string"),
            _field("arr", "ARR", "number"),
            _field("seats", "Seats", "number"),
            _field("lastVisit", "Last Visit", "time"),
        ],
        [
            {"source": {"accounts": None}},
            {"filter": 'metadata.agent.plan == "enterprise"'},
            {
                "select": {
                    "accountId": "accountId",
                    "name": "metadata.agent.name",
                    "arr": "metadata.custom.arr",
                    "seats": "metadata.custom.seats",
                    "lastVisit": "metadata.auto.lastvisit",
                }
            },
            {"sort": ["-arr", "accountId"]},
        ],
    ),
    (
        "Admins",
        "visitorList",
        "visitor",
        None,
        [
            _field("visitorId", "Visitor ID", "string"),
            _field("email", "Email", "string"),
            _field("name", "Name", "string"),
            _field("accountId", "Account ID", "string"),
            _field("lastVisit", "Last Visit", "time"),
        ],
        [
            {"source": {"visitors": None}},
            {"identified": "visitorId"},
            {"filter": 'metadata.agent.role == "admin"'},
            {
                "select": {
                    "visitorId": "visitorId",
                    "email": "metadata.agent.email",
                    "name": "metadata.agent.name",
                    "accountId": "metadata.auto.accountid",
                    "lastVisit": "metadata.auto.lastvisit",
                }
            },
            {"sort": ["-lastVisit", "visitorId"]},
        ],
    ),
    (
        "Top accounts by usage (last 30 days)",
        "accountList",
        "account",
        _LAST_30_DAYS,
        [
            _field("accountId", "Account ID", "string"),
            _field("numEvents", "Number of Events", "number"),
            _field("activeVisitors", "Active Visitors", "number"),
            _field("daysActive", "Days Active", "number"),
        ],
        [
            {"source": {"events": {"appId": _ALL_APPS}, "timeSeries": _LAST_30_DAYS}},
            {"filter": 'accountId != ""'},
            {
                "group": {
                    "group": ["accountId"],
                    "fields": [
                        {"numEvents": {"sum": "numEvents"}},
                        {"activeVisitors": {"count": "visitorId"}},
                        {"daysActive": {"count": "day"}},
                    ],
                }
            },
            {"sort": ["-numEvents", "accountId"]},
            {"limit": 20},
        ],
    ),
    (
        "Paying accounts renewing within 90 days",
        "accountList",
        "account",
        None,
        [
            _field("accountId", "Account ID", "string"),
            _field("name", "Name", "string"),
            _field("plan", "Plan", "string"),
            _field("renewalDate", "Renewal Date", "time"),
            _field("daysToRenewal", "Days to Renewal", "number"),
        ],
        [
            {"source": {"accounts": None}},
            {"eval": {"daysToRenewal": "(metadata.custom.renewaldate - now()) / 86400000"}},
            {"filter": "metadata.custom.ispaying && daysToRenewal <= 90"},
            {
                "select": {
                    "accountId": "accountId",
                    "name": "metadata.agent.name",
                    "plan": "metadata.agent.plan",
                    "renewalDate": "metadata.custom.renewaldate",
                    "daysToRenewal": "daysToRenewal",
                }
            },
            {"sort": ["daysToRenewal", "accountId"]},
        ],
    ),
    (
        "Anonymous traffic by day (last 14 days)",
        "visitorList",
        "visitor",
        _LAST_14_DAYS,
        [
            _field("day", "Day", "time"),
            _field("visitors", "Anonymous Visitors", "number"),
            _field("numEvents", "Number of Events", "number"),
        ],
        [
            {"source": {"events": None, "timeSeries": _LAST_14_DAYS}},
            {"identified": "!visitorId"},
            {
                "group": {
                    "group": ["day"],
                    "fields": [
                        {"visitors": {"count": "visitorId"}},
                        {"numEvents": {"sum": "numEvents"}},
                    ],
                }
            },
            {"sort": ["day"]},
        ],
    ),
)

# Listed but not retrievable (reference 2.5): their pipelines use operators outside the core.
_UNRETRIEVABLE_REPORTS = (
    (
        "Paths from the Dashboard",
        "Path",
        "visitor",
        [
            {"source": {"singleEvents": {"appId": WEB_APP_ID}, "timeSeries": _LAST_30_DAYS}},
            {
                "group": {
                    "group": ["visitorId"],
                    "fields": [{"path": {"path": {"sort": "browserTime", "depth": 5}}}],
                }
            },
            {"treeify": {"keySort": True, "threshold": 1}},
        ],
    ),
    (
        "Trial to paid funnel",
        "Funnel",
        "visitor",
        [
            {"source": {"singleEvents": {"appId": WEB_APP_ID}, "timeSeries": _LAST_30_DAYS}},
            {
                "group": {
                    "group": ["visitorId"],
                    "fields": [{"steps": {"sequence": {"new": "pageId", "sort": "browserTime"}}}],
                }
            },
        ],
    ),
)


# How each report type is drawn in Pendo's report pages.
_GRAPH_TYPES = {"List": "table", "Path": "tree", "Funnel": "funnel"}


def _definition(
    generator: str,
    type_: str,
    kind: str,
    series: dict[str, Any] | None,
    fields: list[dict[str, Any]],
    today_ms: int,
) -> dict[str, Any]:
    """A report's ``definition``: what Pendo's report editor saved (reference 2.5)."""
    # The saved range's start is epoch ms, not an expression: airbyte's schema (imported from
    # real answers) types primaryTimeSeries.first an integer, tap-pendo's an integer or a string.
    # "now()" of a dayRange resolves to today's local midnight.
    primary = None if series is None else {**series, "first": today_ms}
    return {
        "config": {
            "columns": [
                {
                    "columnName": f["field"],
                    "columnLabel": f["title"],
                    "field": f["field"],
                    "type": f["type"],
                }
                for f in fields
            ],
            "appId": WEB_APP_ID,
            "segmentId": "",
        },
        "generator": generator,
        "type": type_,
        "kind": kind,
        # Pendo keeps a primary and an optional comparison range; the sandbox never compares.
        "timeSeries": None
        if series is None
        else {**copy.deepcopy(series), "primaryTimeSeries": primary, "secondaryTimeSeries": None},
        "dateRanges": {
            "useSecondaryDateRange": False,
            "primaryDateRange": copy.deepcopy(series) or {},
            "secondaryDateRange": None,
        },
        # App ids as strings: both connectors' schemas type the lists' items strings.
        "sources": {"alls": [str(WEB_APP_ID)]} if series is not None else {},
        "segments": [],
        "graphType": _GRAPH_TYPES[type_],
        "tableType": f"{kind}List",
    }


def build_segments(
    rng: np.random.Generator, now_ms: int, users: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Saved segments: ``{"id", "name", "kind", "filter"}`` (the filter is an expression) plus
    who made them and when (``createdAt``, ``createdByUser``, ``lastUpdatedAt``...).

    ``kind`` says whose ids the segment holds (``visitor`` or ``account``); the server shows each
    segment as Pendo's segment object (``server/segments.py``). Times and authors follow the
    table's order, without random draws, so the reports drawn after the segments stay as they are.
    """
    segments = []
    for i, (sid, (name, kind, condition)) in enumerate(
        zip(catalog_ids(rng, len(_SEGMENTS)), _SEGMENTS, strict=True)
    ):
        created = now_ms - (200 - 30 * i) * DAY_MS
        author = users[i % len(users)]
        segments.append(
            {
                "id": sid,
                "name": name,
                "kind": kind,
                "filter": condition,
                "createdAt": created,
                "createdByUser": dict(author),
                "lastUpdatedAt": created + (i + 1) * 7 * DAY_MS,
                "lastUpdatedByUser": dict(author),
            }
        )
    return segments


def build_reports(
    rng: np.random.Generator, now_ms: int, today_ms: int, users: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Public report objects (reference 2.5): the List reports, then a Path and a Funnel report.

    ``today_ms`` is the local midnight starting the sandbox clock's day.
    """
    # (name, generator, type, kind, timeSeries, fields, pipeline) of every report.
    specs: list[
        tuple[str, str, str, str, dict[str, object] | None, list[dict[str, Any]], list[Any]]
    ] = [
        (name, generator, "List", kind, series, fields, pipeline)
        for name, generator, kind, series, fields, pipeline in _LIST_REPORTS
    ]
    specs += [
        (name, "", type_, kind, _LAST_30_DAYS, [], pipeline)
        for name, type_, kind, pipeline in _UNRETRIEVABLE_REPORTS
    ]
    reports = []
    for report_id, (name, generator, type_, kind, series, fields, pipeline) in zip(
        catalog_ids(rng, len(specs)), specs, strict=True
    ):
        created = now_ms - int(rng.integers(20, 300)) * DAY_MS - int(rng.integers(0, DAY_MS))
        updated = created + int(rng.integers(0, now_ms - created)) // 2
        owner = users[int(rng.integers(0, len(users)))]
        last_run = now_ms - int(rng.integers(1, 48)) * 3_600_000
        reports.append(
            {
                "id": report_id,
                "name": name,
                "kind": "Report",
                "type": "",
                "shared": True,
                "share": "public",
                "level": "subscription",
                "scope": "",
                "target": "",
                "createdAt": created,
                "createdByUser": dict(owner),
                "lastUpdatedAt": updated,
                "lastUpdatedByUser": dict(owner),
                "ownedByUser": dict(owner),
                "rootVersionId": report_id,
                "stableVersionId": f"{report_id}-{updated}",
                "lastRunAt": last_run,
                # Every sandbox report ran without error last time.
                "lastSuccessRunAt": last_run,
                # A string naming the stored result of that run: airbyte's schema and a Go
                # client's types, both written from real answers, type it a string.
                "lastSuccessRunObj": f"{report_id}/{last_run}",
                "definition": _definition(generator, type_, kind, series, fields, today_ms),
                # Deep copies: the tables above are shared by every subscription.
                "aggregation": {
                    "fields": copy.deepcopy(fields),
                    "pipeline": copy.deepcopy(pipeline),
                },
            }
        )
    return reports
