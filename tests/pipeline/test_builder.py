"""Each builder method writes the JSON Pendo documents (reference 3.2-3.6), checked against
literal bodies written by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import pendo_nb.pipeline as pn
from pendo_nb.pipeline import Pipeline


def steps(pipeline: Pipeline) -> list:
    return pipeline.to_json()["request"]["pipeline"]


def last_step(pipeline: Pipeline) -> dict:
    return steps(pipeline)[-1]


BASE = pn.source.visitors()


def test_the_issue_example_builds_the_documented_body():
    p = (
        pn.source.events(app_id="*")
        .last(30, "days")
        .identified("visitorId")
        .group("visitorId", "day", events=pn.agg.sum("numEvents"), minutes=pn.agg.sum("numMinutes"))
        .filter(pn.col("events") > 10)
        .sort("-events")
        .limit(100)
    )
    assert p.to_json() == {
        "response": {"mimeType": "application/json"},
        "request": {
            "pipeline": [
                {
                    "source": {
                        "events": {"appId": 'expandAppIds("*")'},
                        "timeSeries": {"period": "dayRange", "first": "now()", "count": -30},
                    }
                },
                {"identified": "visitorId"},
                {
                    "group": {
                        "group": ["visitorId", "day"],
                        "fields": {
                            "events": {"sum": "numEvents"},
                            "minutes": {"sum": "numMinutes"},
                        },
                    }
                },
                {"filter": "events > 10"},
                {"sort": ["-events"]},
                {"limit": 100},
            ]
        },
    }


# -- sources ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (pn.source.visitors(), {"source": {"visitors": None}}),
        (pn.source.accounts(), {"source": {"accounts": None}}),
        (pn.source.do_not_process_visitors(), {"source": {"doNotProcessVisitors": None}}),
        (pn.source.pages(app_id=-323232), {"source": {"pages": {"appId": -323232}}}),
        (
            pn.source.features(feature_ids=["a", "b"]),
            {"source": {"features": {"featureIds": ["a", "b"]}}},
        ),
        (
            pn.source.track_types(track_type_id="t"),
            {"source": {"trackTypes": {"trackTypeId": "t"}}},
        ),
        (pn.source.guides(), {"source": {"guides": None}}),
        (
            pn.source.groups(items=True, group_type="guideCategory"),
            {"source": {"groups": {"items": True, "groupType": "guideCategory"}}},
        ),
        (pn.source.apps(), {"source": {"apps": None}}),
        (pn.source.voc_items(type="idea"), {"source": {"vocItems": {"type": "idea"}}}),
        (
            pn.source.visitors(identified=True, since=1700000000000, blacklist="only"),
            {
                "source": {
                    "visitors": {"identified": True, "since": 1700000000000, "blacklist": "only"}
                }
            },
        ),
        (
            pn.source.polls_seen_ever(guide_id="g", poll_id="p"),
            {"source": {"pollsSeenEver": {"guideId": "g", "pollId": "p"}}},
        ),
        (pn.source.const([{"a": 1}]), {"source": {"const": [{"a": 1}]}}),
        (pn.source.pageEvents(page_id="x"), {"source": {"pageEvents": {"pageId": "x"}}}),
    ],
)
def test_sources(pipeline, expected):
    assert steps(pipeline) == [expected]


@pytest.mark.parametrize(
    ("app_id", "expected"),
    [
        ("*", 'expandAppIds("*")'),
        ("web", 'expandAppIds("web")'),
        ("ios|android", 'expandAppIds("ios|android")'),
        (-323232, -323232),
        ("-323232", -323232),
        ([-323232, "mobile"], [-323232, 'expandAppIds("mobile")']),
        ("expandAppIds(`*`)", "expandAppIds(`*`)"),
    ],
)
def test_app_id_forms(app_id, expected):
    assert steps(pn.source.events(app_id=app_id)) == [{"source": {"events": {"appId": expected}}}]


# -- time series --------------------------------------------------------------------------------
def series(pipeline: Pipeline) -> dict:
    return steps(pipeline)[0]["source"]["timeSeries"]


EVENTS = pn.source.page_events(page_id="p1")


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (EVENTS.last(7), {"period": "dayRange", "first": "now()", "count": -7}),
        (EVENTS.last(3, "weeks"), {"period": "weekRange", "first": "now()", "count": -3}),
        (EVENTS.last(1, "month"), {"period": "monthRange", "first": "now()", "count": -1}),
        (EVENTS.last(24, "hours"), {"period": "hourRange", "first": "now()", "count": -24}),
        (
            EVENTS.last(30, "days", include_current=True),
            {"period": "dayRange", "first": 'dateAdd(now(), -29, "days")', "last": "now()"},
        ),
        (
            EVENTS.last(1, "days", include_current=True),
            {"period": "dayRange", "first": "now()", "last": "now()"},
        ),
        (
            EVENTS.between("2024-03-01", "2024-03-31"),
            {"period": "dayRange", "first": 'date("2024-03-01")', "last": 'date("2024-03-31")'},
        ),
        (
            EVENTS.between(dt.date(2024, 1, 1), "now()", period="weeks"),
            {"period": "weekRange", "first": 'date("2024-01-01")', "last": "now()"},
        ),
        (
            EVENTS.between(
                dt.datetime(2024, 1, 2, 9, 30),
                dt.datetime(2024, 1, 2, 17, 5, 7, 250000),
                period="hourRange",
            ),  # fmt: skip
            {
                "period": "hourRange",
                "first": 'date("2024-01-02T09:30:00")',
                "last": 'date("2024-01-02T17:05:07.250")',
            },
        ),
        (
            # 2024-01-01T00:00:00Z is 1704067200 s after the epoch (computed by hand: 19723 days).
            EVENTS.on(pd.Timestamp("2024-01-01", tz="UTC")),
            {"period": "dayRange", "first": 1704067200000, "count": 1},
        ),
        (
            EVENTS.on(pd.Timestamp("2024-01-01T01:00", tz="Europe/Paris")),
            {"period": "dayRange", "first": 1704067200000, "count": 1},
        ),
        (EVENTS.on("2024-02"), {"period": "dayRange", "first": 'date("2024-02")', "count": 1}),
        (
            EVENTS.time_series("monthRange", 'startOfPeriod("monthly", now())', count=-3),
            {"period": "monthRange", "first": 'startOfPeriod("monthly", now())', "count": -3},
        ),
        (
            EVENTS.time_series("daily", 1700000000000, last="1700500000000"),
            {"period": "daily", "first": 1700000000000, "last": "1700500000000"},
        ),
    ],
)
def test_time_series_helpers(pipeline, expected):
    assert series(pipeline) == expected


def test_time_series_replaces_an_earlier_one():
    assert series(EVENTS.last(7).on("2024-01-05")) == {
        "period": "dayRange",
        "first": 'date("2024-01-05")',
        "count": 1,
    }


# -- basic operators ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (BASE.filter("numEvents > 1"), {"filter": "numEvents > 1"}),
        (BASE.filter(pn.col("a") == "x"), {"filter": 'a == "x"'}),
        (
            BASE.select(visitorId="visitorId", email="metadata.agent.email"),
            {"select": {"visitorId": "visitorId", "email": "metadata.agent.email"}},
        ),
        (
            BASE.select({"Visitor Count": "n", "a.b": pn.col("x") + 1}),
            {"select": {"Visitor Count": "n", "a.b": "x + 1"}},
        ),
        (
            BASE.eval(hours="numMinutes / 60", one=1),
            {"eval": {"hours": "numMinutes / 60", "one": "1"}},
        ),
        (BASE.eval({"x.y": "true"}), {"eval": {"x.y": "true"}}),
        (BASE.set(flag=True, tags=["a"]), {"set": {"flag": True, "tags": ["a"]}}),
        (BASE.sort("-events", "visitorId"), {"sort": ["-events", "visitorId"]}),
        (BASE.limit(5), {"limit": 5}),
        (BASE.count(), {"count": None}),
        (BASE.cat(), {"cat": None}),
        (BASE.group("visitorId"), {"group": {"group": ["visitorId"]}}),
        (
            BASE.group("v", n=pn.agg.count(), d=pn.agg.count("day")),
            {"group": {"group": ["v"], "fields": {"n": {"count": None}, "d": {"count": "day"}}}},
        ),
        (
            BASE.group("v", list_form=True, n={"count": None}),
            {"group": {"group": ["v"], "fields": [{"n": {"count": None}}]}},
        ),
        (
            BASE.group("status", force_keys={"status": 'list("a", "b")'}, n=pn.agg.count()),
            {
                "group": {
                    "group": ["status"],
                    "fields": {"n": {"count": None}},
                    "forceKeys": {"status": 'list("a", "b")'},
                }
            },
        ),
        (
            BASE.group("v", fields={"list_form": pn.agg.first("x")}),
            {"group": {"group": ["v"], "fields": {"list_form": {"first": "x"}}}},
        ),
        (BASE.reduce(total=pn.agg.sum("numEvents")), {"reduce": {"total": {"sum": "numEvents"}}}),
        (
            BASE.reduce(total=pn.agg.sum("numEvents"), list_form=True),
            {"reduce": [{"total": {"sum": "numEvents"}}]},
        ),
    ],
)
def test_basic_operators(pipeline, expected):
    assert last_step(pipeline) == expected


# -- aggregators --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("aggregator", "expected"),
    [
        (pn.agg.count(), {"count": None}),
        (pn.agg.count("visitorId"), {"count": "visitorId"}),
        (pn.agg.count(["visitorId", "accountId"]), {"count": ["visitorId", "accountId"]}),
        (
            pn.agg.count_if("visitorId", "numEvents > 0"),
            {"countIf": {"count": "visitorId", "if": "numEvents > 0"}},
        ),
        (pn.agg.count_if(None, pn.col("x") > 0), {"countIf": {"count": None, "if": "x > 0"}}),
        (pn.agg.sum("numEvents * numMinutes"), {"sum": "numEvents * numMinutes"}),
        (pn.agg.sum(pn.col("numMinutes") / 60), {"sum": "numMinutes / 60"}),
        (pn.agg.avg("x"), {"avg": "x"}),
        (pn.agg.mean("x"), {"mean": "x"}),
        (pn.agg.median("x"), {"median": "x"}),
        (pn.agg.min("day"), {"min": "day"}),
        (pn.agg.max("day"), {"max": "day"}),
        (pn.agg.first("x"), {"first": "x"}),
        (pn.agg.list("x"), {"list": "x"}),
        (pn.agg.stddev("x"), {"stddev": "x"}),
        (pn.agg.var("x"), {"var": "x"}),
        (pn.agg.concat("tags"), {"concat": "tags"}),
        (pn.agg.list_average("xs"), {"listAverage": "xs"}),
        (pn.agg.list_if("x", "x > 1"), {"listIf": {"list": "x", "if": "x > 1"}}),
        (
            pn.agg.percentiles("numMinutes", p50=50, p90=90),
            {"percentiles": {"field": "numMinutes", "p50": 50, "p90": 90}},
        ),
        (
            pn.agg.percentiles("m", {"p 99": 99}),
            {"percentiles": {"field": "m", "p 99": 99}},
        ),
    ],
)
def test_aggregators(aggregator, expected):
    assert last_step(BASE.reduce(out=aggregator)) == {"reduce": {"out": expected}}


# -- Pendo-specific operators -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (BASE.identified(), {"identified": "visitorId"}),
        (BASE.identified("accountId"), {"identified": "accountId"}),
        (BASE.identified("visitorId", anonymous=True), {"identified": "!visitorId"}),
        (
            BASE.bulk_expand("visitorInfo", visitor="visitorId"),
            {"bulkExpand": {"visitorInfo": {"visitor": "visitorId"}}},
        ),
        (
            BASE.bulk_expand("account", account="accountId"),
            {"bulkExpand": {"account": {"account": "accountId"}}},
        ),
        (BASE.expand("pageInfo", page="pageId"), {"expand": {"pageInfo": {"page": "pageId"}}}),
        (BASE.expand("f", feature="featureId"), {"expand": {"f": {"feature": "featureId"}}}),
        (
            BASE.expand("t", track_type="trackTypeId"),
            {"expand": {"t": {"trackType": "trackTypeId"}}},
        ),
        (BASE.expand("v", voc_item="id"), {"expand": {"v": {"vocItem": "id"}}}),
        (BASE.item_seen("seen", page_id="abc"), {"itemSeen": {"seen": {"pageId": "abc"}}}),
        (BASE.item_seen("seen", feature_id="f"), {"itemSeen": {"seen": {"featureId": "f"}}}),
        (BASE.item_seen("seen", track_type_id="t"), {"itemSeen": {"seen": {"trackTypeId": "t"}}}),
        (BASE.segment("seg1"), {"segment": {"id": "seg1"}}),
        (BASE.useragent("ua"), {"useragent": {"ua": "userAgent"}}),
        (
            BASE.useragent("ua", "metadata.auto.lastuseragent"),
            {"useragent": {"ua": "metadata.auto.lastuseragent"}},
        ),
    ],
)
def test_pendo_operators(pipeline, expected):
    assert last_step(pipeline) == expected


# -- advanced operators -------------------------------------------------------------------------
SUB = Pipeline().filter("x > 1")


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (BASE.unwind("items"), {"unwind": {"field": "items"}}),
        (
            BASE.unwind("items", index="i", keep_empty=True, prefix=False),
            {"unwind": {"field": "items", "index": "i", "keepEmpty": True, "prefix": False}},
        ),
        (
            BASE.switch(
                "size", "numEvents", [{"value": "small", "<": 10}, {"value": "big", ">=": 10}]
            ),
            {
                "switch": {
                    "size": {"numEvents": [{"value": "small", "<": 10}, {"value": "big", ">=": 10}]}
                }
            },
        ),
        (
            BASE.fork(SUB, Pipeline().cat()),
            {"fork": [[{"filter": "x > 1"}], [{"cat": None}]]},
        ),
        (
            BASE.fork([{"count": None}], SUB.limit(2)),
            {"fork": [[{"count": None}], [{"filter": "x > 1"}, {"limit": 2}]]},
        ),
        (
            Pipeline().spawn(pn.source.visitors(), pn.source.accounts().count()),
            {
                "spawn": [
                    [{"source": {"visitors": None}}],
                    [{"source": {"accounts": None}}, {"count": None}],
                ]
            },
        ),
        (BASE.join("visitorId"), {"join": {"fields": ["visitorId"], "width": 2}}),
        (BASE.join("a", "b", width=3), {"join": {"fields": ["a", "b"], "width": 3}}),
        (
            BASE.merge("accountId", pn.source.accounts()),
            {"merge": {"fields": ["accountId"], "pipeline": [{"source": {"accounts": None}}]}},
        ),
        (
            BASE.merge(["a", "b"], pn.source.accounts(), mappings={"name": "metadata.agent.name"}),
            {
                "merge": {
                    "fields": ["a", "b"],
                    "mappings": {"name": "metadata.agent.name"},
                    "pipeline": [{"source": {"accounts": None}}],
                }
            },
        ),
        (
            BASE.merge("a", [{"source": {"accounts": None}}], mappings={}),
            {
                "merge": {
                    "fields": ["a"],
                    "mappings": {},
                    "pipeline": [{"source": {"accounts": None}}],
                }
            },
        ),
        (BASE.unofficial("treeify", {"keySort": True}), {"treeify": {"keySort": True}}),
    ],
)
def test_advanced_operators(pipeline, expected):
    assert last_step(pipeline) == expected


# -- envelope and composition -------------------------------------------------------------------
def test_request_labels_and_mime_type():
    p = BASE.with_request(name="n", request_id="r", mime_type="text/csv")
    assert p.to_json() == {
        "response": {"mimeType": "text/csv"},
        "request": {"pipeline": [{"source": {"visitors": None}}], "name": "n", "requestId": "r"},
    }


def test_adding_pipelines_concatenates_their_steps():
    head = pn.source.visitors().with_request(name="head")
    tail = Pipeline().filter("a == 1").limit(3)
    combined = head + tail
    assert steps(combined) == [
        {"source": {"visitors": None}},
        {"filter": "a == 1"},
        {"limit": 3},
    ]
    assert combined.name == "head"
    assert len(combined) == 3


def test_equal_pipelines_are_equal_and_hash_alike():
    def make():
        return pn.source.visitors().filter("a > 1").group("a", n=pn.agg.count())

    assert make() == make()
    assert hash(make()) == hash(make())
    assert len({make(), make()}) == 1
    assert make() != make().limit(1)
