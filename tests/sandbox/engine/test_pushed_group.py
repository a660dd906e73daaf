"""A ``group`` right after a grouped event source is done by the source on the raw events
(``sources.PushedGroup``): it must give exactly the rows, in the same order, that grouping the
source's rows gives. A ``limit`` between the two keeps the rows column-wise but stops the push,
so the same group then runs on the source's rows."""

from __future__ import annotations

import pytest

from pendo_nb.sandbox.engine import Limits, run_pipeline
from pendo_nb.sandbox.engine.compiler import compile_steps
from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.run_state import StepEnv
from pendo_nb.sandbox.subscription.generate import generate

NOT_PUSHED = {"limit": 10**9}
EVERYTHING = {"numEvents": {"sum": "numEvents"}, "first": {"min": "firstTime"},
              "last": {"max": "lastTime"}}  # fmt: skip


@pytest.fixture(scope="module")
def berlin():
    return generate(size="small", timezone="Europe/Berlin")


def series(period, count):
    return {"period": period, "first": "now()", "count": -count}


def source(name, period="dayRange", count=40, **params):
    return {"source": {name: params or None, "timeSeries": series(period, count)}}


def field_of(period):
    return {"dayRange": "day", "hourRange": "hour", "weekRange": "week"}[period]


PUSHED = [
    # (source name, period, group keys, fields): keys are the rows' leading keys, in any order.
    ("events", "dayRange", ["{period}", "visitorId"], None),
    ("events", "dayRange", ["visitorId", "{period}"], EVERYTHING),
    ("events", "weekRange", ["{period}"], {"n": {"sum": "numEvents"}}),
    ("events", "hourRange", ["{period}", "visitorId", "accountId"], {"t": {"max": "lastTime"}}),
    ("events", "dayRange", ["{period}", "visitorId", "accountId", "appId", "featureId"],
     EVERYTHING),
    ("events", "dayRange", ["{period}", "visitorId", "accountId", "pageId"], None),
    ("pageEvents", "dayRange", ["{period}", "visitorId", "accountId", "appId", "pageId"],
     EVERYTHING),
    ("featureEvents", "weekRange", ["visitorId", "{period}"], {"n": {"sum": "numEvents"}}),
    ("trackEvents", "dayRange", ["{period}", "visitorId"], {"first": {"min": "firstTime"}}),
    # Keys after a skipped one: the groups come in the order of their least skipped keys.
    ("events", "dayRange", ["{period}", "accountId"], EVERYTHING),
    ("events", "weekRange", ["accountId", "{period}"], None),
    ("events", "dayRange", ["visitorId"], {"n": {"sum": "numEvents"}}),
    ("events", "dayRange", ["accountId"], None),
    ("events", "hourRange", ["userAgent", "remoteIp"], {"t": {"max": "lastTime"}}),
    ("pageEvents", "dayRange", ["pageId", "{period}"], EVERYTHING),
    ("featureEvents", "dayRange", ["accountId", "featureId", "server"], None),
    ("trackEvents", "weekRange", ["trackTypeId"], {"n": {"sum": "numEvents"}}),
]  # fmt: skip

NOT_PUSHABLE = [
    # Fields that are not keys, two keys of one raw column, aggregators the raw events cannot
    # give, dotted outputs, forceKeys.
    ("events", "dayRange", {"group": ["{period}", "numEvents"]}),
    ("events", "dayRange", {"group": ["appId", "pageId"]}),
    ("events", "dayRange", {"group": ["{period}", "visitorId"],
                            "fields": {"m": {"sum": "numMinutes"}}}),
    ("events", "dayRange", {"group": ["{period}", "visitorId"],
                            "fields": {"rows": {"count": None}}}),
    ("events", "dayRange", {"group": ["{period}", "visitorId"],
                            "fields": {"n.events": {"sum": "numEvents"}}}),
    ("events", "dayRange", {"group": ["{period}"],
                            "forceKeys": {"{period}": "list(1)"}}),
]  # fmt: skip


def keyed(keys, period):
    return [key.format(period=field_of(period)) for key in keys]


def compiled_head(steps, subscription):
    env = StepEnv(subscription, EvalContext(subscription.now_ms, subscription.timezone), Limits())
    return compile_steps(steps, env, "pipeline", with_source=True).head


@pytest.mark.parametrize(("name", "period", "keys", "fields"), PUSHED)
def test_a_pushed_group_gives_the_rows_of_the_group_step(berlin, name, period, keys, fields):
    group = {"group": {"group": keyed(keys, period), **({"fields": fields} if fields else {})}}
    steps = [source(name, period, appId='expandAppIds("*")'), group]
    assert compiled_head(steps, berlin).call.grouped_by is not None  # the push happens
    pushed = run_pipeline(steps, berlin)
    assert pushed  # the generated subscription has events of every kind in the range
    assert pushed == run_pipeline([steps[0], NOT_PUSHED, group], berlin)


@pytest.mark.parametrize(("name", "period", "spec"), NOT_PUSHABLE)
def test_a_group_the_raw_events_cannot_give_runs_on_the_rows(berlin, name, period, spec):
    spec = {key: keyed(value, period) if key == "group" else value for key, value in spec.items()}
    if "forceKeys" in spec:
        spec["forceKeys"] = {field_of(period): "list(1)"}
    steps = [source(name, period), {"group": spec}]
    assert compiled_head(steps, berlin).call.grouped_by is None


def test_only_the_group_right_after_the_source_is_pushed(berlin):
    group = {"group": {"group": ["day", "visitorId"]}}
    regroup = {"group": {"group": ["day"], "fields": {"visitors": {"count": None}}}}
    steps = [source("events"), group, regroup]
    head = compiled_head(steps, berlin)
    assert head.call.grouped_by.keys == ("day", "visitorId")
    assert run_pipeline(steps, berlin) == run_pipeline(
        [steps[0], NOT_PUSHED, group, regroup], berlin
    )
    assert (
        compiled_head(
            [source("events"), {"identified": "visitorId"}, group], berlin
        ).call.grouped_by
        is None
    )


def test_a_pushed_group_of_no_events_is_empty(berlin):
    quiet = {"source": {"events": None, "timeSeries": {"period": "dayRange",
                                                       "first": 'date("2020-01-01")',
                                                       "count": 3}}}  # fmt: skip
    assert run_pipeline([quiet, {"group": {"group": ["day", "visitorId"]}}], berlin) == []
