"""A pipeline is a value: methods return new pipelines, and nothing handed in or out can change
one afterwards."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest

import pendo_nb.pipeline as pn
from pendo_nb.pipeline import Pipeline

BASE = pn.source.events(app_id="*").last(7)
BASE_JSON = {
    "response": {"mimeType": "application/json"},
    "request": {
        "pipeline": [
            {
                "source": {
                    "events": {"appId": 'expandAppIds("*")'},
                    "timeSeries": {"period": "dayRange", "first": "now()", "count": -7},
                }
            }
        ]
    },
}

METHODS = [
    lambda p: p.filter("numEvents > 1"),
    lambda p: p.select(v="visitorId"),
    lambda p: p.eval(x="1"),
    lambda p: p.set(x=1),
    lambda p: p.group("visitorId", n=pn.agg.count()),
    lambda p: p.reduce(n=pn.agg.count()),
    lambda p: p.sort("-numEvents"),
    lambda p: p.limit(3),
    lambda p: p.count(),
    lambda p: p.cat(),
    lambda p: p.identified(),
    lambda p: p.bulk_expand("v", visitor="visitorId"),
    lambda p: p.expand("pg", page="pageId"),
    lambda p: p.item_seen("s", page_id="p"),
    lambda p: p.segment("s"),
    lambda p: p.useragent("ua"),
    lambda p: p.unwind("xs"),
    lambda p: p.switch("s", "numEvents", [{"value": 1, ">": 0}]),
    lambda p: p.fork(Pipeline().cat(), Pipeline().count()),
    lambda p: p.spawn(pn.source.visitors()),
    lambda p: p.join("visitorId"),
    lambda p: p.merge("visitorId", pn.source.visitors()),
    lambda p: p.unofficial("treeify", {}),
    lambda p: p.last(3, "weeks"),
    lambda p: p.between("2024-01-01", "2024-01-31"),
    lambda p: p.on("2024-01-01"),
    lambda p: p.time_series("hourRange", "now()", count=-2),
    lambda p: p.with_request(name="x"),
    lambda p: p + Pipeline().limit(1),
]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_returns_a_new_pipeline_and_leaves_the_original(method):
    result = method(BASE)
    assert isinstance(result, Pipeline)
    assert result is not BASE and result != BASE
    assert BASE.to_json() == BASE_JSON


def test_a_pipeline_can_be_extended_in_several_directions():
    recent = pn.source.visitors().filter("metadata.auto.lastvisit > 0")
    first = recent.limit(1)
    counted = recent.count()
    assert [list(step)[0] for step in first.to_json()["request"]["pipeline"]] == [
        "source",
        "filter",
        "limit",
    ]
    assert [list(step)[0] for step in counted.to_json()["request"]["pipeline"]] == [
        "source",
        "filter",
        "count",
    ]
    assert len(recent) == 2


def test_attributes_cannot_be_assigned():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BASE.steps = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        BASE.steps[0].name = "visitors"


def test_changing_the_written_json_does_not_change_the_pipeline():
    body = BASE.to_json()
    body["request"]["pipeline"][0]["source"]["events"]["appId"] = 1
    body["request"]["pipeline"].append({"limit": 1})
    assert BASE.to_json() == BASE_JSON


def test_changing_the_json_read_does_not_change_the_pipeline():
    body = [
        {"source": {"const": [{"a": 1}]}},
        {"set": {"tags": ["x"]}},
        {"switch": {"s": {"a": [{"value": 1, ">": 0}]}}},
    ]
    p = Pipeline.from_json(body)
    before = p.to_json()
    body[0]["source"]["const"][0]["a"] = 2
    body[1]["set"]["tags"].append("y")
    body[2]["switch"]["s"]["a"][0]["value"] = 9
    assert p.to_json() == before


def test_changing_arguments_after_building_does_not_change_the_pipeline():
    cases = [{"value": "low", "<": 5}]
    mappings = {"name": "metadata.agent.name"}
    rows = [{"a": 1}]
    branch = [{"cat": None}]
    p = (
        pn.source.const(rows)
        .switch("s", "a", cases)
        .merge("a", pn.source.accounts(), mappings=mappings)
        .fork(branch)
    )
    before = p.to_json()
    cases[0]["value"] = "high"
    mappings["other"] = "x"
    rows.append({"a": 2})
    branch.append({"count": None})
    assert p.to_json() == before


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parent / "bodies").glob("*.json")), ids=lambda p: p.stem
)
def test_pipelines_pickle_and_copy_as_equal_values(path):
    p = Pipeline.from_json(json.loads(path.read_text()))
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.deepcopy(p) == p
    assert dataclasses.replace(p) == p
