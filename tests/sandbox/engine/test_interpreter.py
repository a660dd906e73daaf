"""The interpreter (pipeline.py): the request envelope (reference 3.1), step checks and limits."""

from __future__ import annotations

import copy

import pytest

from pendo_nb.sandbox.engine import (
    AggregationError,
    Limits,
    response_mime_type,
    run_aggregation,
    run_pipeline,
)
from pendo_nb.sandbox.subscription.generate import generate

from .engine_builders import make_subscription, ms

SUB = make_subscription([("2026-10-31T10:00", "v1", "a1", "page", "p1")])
CONST = {"source": {"const": [{"a": 1}, {"a": 2}]}}


def refused(body, *, limits=None):
    with pytest.raises(AggregationError) as caught:
        run_aggregation(body, SUB, limits=limits)
    return caught.value


def test_answer_has_start_time_and_results():
    body = {"response": {"location": "request", "mimeType": "application/json"},
            "request": {"name": "n", "requestId": "r", "pipeline": [CONST]}}  # fmt: skip
    assert run_aggregation(body, SUB) == {"startTime": SUB.now_ms, "results": [{"a": 1}, {"a": 2}]}


@pytest.mark.parametrize(
    "body",
    [
        {"request": {"pipeline": [CONST]}},
        {"response": {}, "request": {"pipeline": [CONST]}},
        {"response": {"mimeType": ""}, "request": {"pipeline": [CONST]}},
        {"response": {}, "request": {"pipeline": [CONST], "name": "", "requestId": ""},
         "channelId": ""},
        {"response": {}, "request": {"pipeline": [CONST], "sort": ["a"]}},
    ],
)  # fmt: skip
def test_harmless_envelope_variants_are_accepted(body):
    assert run_aggregation(body, SUB)["results"] == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize(
    ("response", "mime_type"),
    [
        (None, "application/json"),
        ({}, "application/json"),
        ({"mimeType": ""}, "application/json"),
        ({"mimeType": None, "location": "request"}, "application/json"),
        ({"mimeType": "application/json"}, "application/json"),
        ({"mimeType": "text/csv"}, "text/csv"),
    ],
)
def test_response_mime_type_defaults_to_json_and_accepts_csv(response, mime_type):
    body = {"request": {"pipeline": [CONST]}}
    if response is not None:
        body["response"] = response
    assert response_mime_type(body) == mime_type
    assert run_aggregation(body, SUB)["results"] == [{"a": 1}, {"a": 2}]  # same rows either way


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "body must be a JSON object"),
        ({}, "request: required"),
        ({"request": {}}, "request.pipeline: required"),
        ({"request": {"pipeline": {}}}, "pipeline: must be a list"),
        ({"request": {"pipeline": []}}, "pipeline: must hold at least one step"),
        ({"response": "json", "request": {"pipeline": [CONST]}}, "response: must be an object"),
        ({"response": {"mimeType": "text/xml"}, "request": {"pipeline": [CONST]}},
         "response.mimeType"),
        ({"request": {"pipeline": [{"limit": 1}]}}, "pipeline[0].limit: a pipeline must start"),
        ({"request": {"pipeline": [CONST, "limit"]}}, "pipeline[1]: a step must be an object"),
        ({"request": {"pipeline": [CONST, {"limit": 1, "sort": ["a"]}]}},
         "pipeline[1]: a step must be an object with exactly one key"),
        ({"request": {"pipeline": [CONST, CONST]}}, "pipeline[1].source: only the first step"),
    ],
)  # fmt: skip
def test_bad_envelopes_are_400(body, message):
    error = refused(body)
    assert error.status == 400
    assert message in error.message


def test_the_whole_pipeline_is_checked_before_running():
    # The bad step comes after a source that would read events: refused without running.
    body = {"request": {"pipeline": [
        {"source": {"events": None, "timeSeries": {"period": "dayRange", "first": "now()",
                                                   "count": -1}}},
        {"limit": 3},
        {"filter": "numEvents >"},
    ]}}  # fmt: skip
    error = refused(body)
    assert "pipeline[2].filter" in error.message


def test_result_size_cap_answers_413_with_advice():
    body = {"request": {"pipeline": [{"source": {"const": [{"i": i} for i in range(20)]}}]}}
    error = refused(body, limits=Limits(max_rows=10))
    assert error.status == 413
    assert "more than 10 rows" in error.message and "split the time range" in error.message


def test_rows_between_steps_count_against_the_cap():
    rows = [{"l": list(range(10))} for _ in range(3)]
    body = {"request": {"pipeline": [{"source": {"const": rows}}, {"unwind": {"field": "l"}},
                                     {"count": None}]}}  # fmt: skip
    assert refused(body, limits=Limits(max_rows=20)).status == 413
    prefix = {"request": {"pipeline": [{"source": {"const": [{"l": list(range(8))}]}},
                                       {"unwind": {"field": "l", "prefix": True}}]}}  # fmt: skip
    # 8 rows, but 36 list elements in the prefixes.
    assert refused(prefix, limits=Limits(max_rows=20)).status == 413


def test_run_time_cap_answers_408_with_advice():
    error = refused({"request": {"pipeline": [CONST]}}, limits=Limits(max_seconds=0))
    assert error.status == 408
    assert "split the time range" in error.message


def _nested_forks(depth):
    steps = [{"cat": None}]
    for _ in range(depth):
        steps = [{"fork": [steps]}]
    return steps


def test_nesting_depth_is_capped():
    limits = Limits(max_depth=3)
    assert run_pipeline([CONST, *_nested_forks(3)], SUB, limits=limits) == [{"a": 1}, {"a": 2}]
    with pytest.raises(AggregationError, match="nested deeper than 3 levels") as caught:
        run_pipeline([CONST, *_nested_forks(4)], SUB, limits=limits)
    assert caught.value.status == 400


def test_deep_nesting_with_default_limits_is_a_400_not_a_crash():
    with pytest.raises(AggregationError) as caught:
        run_pipeline([CONST, *_nested_forks(5000)], SUB)
    assert caught.value.status == 400


def test_step_count_is_capped_across_nested_pipelines():
    steps = [CONST, {"fork": [[{"cat": None}] * 6, [{"cat": None}] * 6]}]
    with pytest.raises(AggregationError, match="more than 10 steps"):
        run_pipeline(steps, SUB, limits=Limits(max_steps=10))


def test_fork_multiplying_rows_hits_the_row_cap():
    wide = {"fork": [[{"cat": None}]] * 10}
    with pytest.raises(AggregationError) as caught:
        run_pipeline([CONST, wide, wide, wide], SUB, limits=Limits(max_rows=500))
    assert caught.value.status == 413


def test_unknown_step_types_use_pendos_wording():
    with pytest.raises(AggregationError) as caught:
        run_pipeline([CONST, {"fork": [[{"skip": 2}]]}], SUB)
    assert caught.value.message == "unknown step type 'skip'"


def test_report_pipelines_of_the_generated_subscription_run():
    sub = generate(size="small")
    ran = 0
    for report in sub.reports:
        pipeline = (report.get("aggregation") or {}).get("pipeline")
        if report.get("definition", {}).get("type") != "List" or not pipeline:
            continue
        rows = run_pipeline(pipeline, sub)
        assert isinstance(rows, list)
        ran += 1
    assert ran >= 3


def test_values_doubling_at_each_step_hit_the_value_cap():
    doubling = [{"eval": {"l": "list(l, l)"}}] * 40  # 2**40 values once written out
    with pytest.raises(AggregationError) as caught:
        run_pipeline([{"source": {"const": [{"l": [1]}]}}, *doubling], SUB)
    assert caught.value.status == 413
    assert "values" in caught.value.message


def test_values_nested_too_deep_are_refused():
    wrapping = [{"eval": {"l": "list(l)"}}] * 250
    with pytest.raises(AggregationError, match="nest deeper than 200 levels") as caught:
        run_pipeline([{"source": {"const": [{"l": 1}]}}, *wrapping], SUB)
    assert caught.value.status == 400


@pytest.mark.parametrize("value", [2**70, [[[[]]]]])
def test_const_rows_json_cannot_carry_are_refused(value):
    deep: object = value
    if isinstance(value, list):
        for _ in range(300):
            deep = [deep]
    with pytest.raises(AggregationError, match="cannot be written as JSON") as caught:
        run_pipeline([{"source": {"const": [{"v": deep}]}}], SUB)
    assert caught.value.status == 400


def _poll_event(visitor, account, when, poll, response):
    return {"visitorId": visitor, "accountId": account, "appId": -323232, "browserTime": ms(when),
            "type": "pollResponse", "guideId": "g1", "pollId": poll,
            "pollResponse": response}  # fmt: skip


def test_pendo_sample_shape_nps_spawn_join_hash_sort():
    """The shape of Pendo's ETL NPS sample: two pollsSeenEver pipelines joined per visitor."""
    sub = make_subscription(poll_events=[
        _poll_event("v1", "a1", "2026-10-20T10:00", "score", 9),
        _poll_event("v1", "a1", "2026-10-20T10:01", "why", "great"),
        _poll_event("v2", "a2", "2026-10-21T10:00", "score", 4),
        _poll_event("_PENDO_T_anon", "", "2026-10-21T10:00", "score", 10),
    ])  # fmt: skip

    def branch(poll, prefix):
        return [{"source": {"pollsSeenEver": {"guideId": "g1", "pollId": poll}}},
                {"identified": "visitorId"}, {"cat": None},
                {"select": {"visitorId": "visitorId", "accountId": "accountId",
                            f"{prefix}Time": "time", f"{prefix}Response": "response"}}]  # fmt: skip

    pipeline = [{"spawn": [branch("score", "quantitative"), branch("why", "qualitative")]},
                {"join": {"fields": ["visitorId"], "width": 2}},
                {"eval": {"visitorId": "hash(visitorId)"}},
                {"sort": ["accountId", "-quantitativeResponse"]}]  # fmt: skip
    rows = run_pipeline(pipeline, sub)
    assert [(r["accountId"], r["quantitativeResponse"], r.get("qualitativeResponse"))
            for r in rows] == [("a1", 9, "great"), ("a2", 4, None)]  # fmt: skip
    assert all(isinstance(r["visitorId"], float) for r in rows)  # hashed (numbers are floats)


def test_pendo_sample_shapes_events_group_and_active_user_count():
    sub = make_subscription([
        ("2026-10-30T10:00", "v1", "a1", "page", "p1"),
        ("2026-10-31T10:00", "v1", "a1", "page", "p1"),
        ("2026-10-31T11:00", "v2", "a2", "page", "p1", {"app": 5629499534213120}),
        ("2026-10-31T12:00", "_PENDO_T_anon", None, "page", "p1"),
    ])  # fmt: skip
    by_day = run_pipeline([
        {"source": {"events": {"eventClass": ["web", "ios"]},
                    "timeSeries": {"period": "dayRange", "first": "now()", "count": -2}}},
        {"identified": "visitorId"},
        {"select": {"numEvents": "numEvents", "numMinutes": "numMinutes",
                    "accountId": "accountId", "visitorId": "visitorId", "day": "day"}},
        {"group": {"group": ["visitorId", "accountId", "day"],
                   "fields": {"totalTime": {"sum": "numMinutes"},
                              "totalEvents": {"sum": "numEvents"}}}},
        {"sort": ["accountId", "day"]},
    ], sub)  # fmt: skip
    assert [(r["visitorId"], r["day"], r["totalEvents"]) for r in by_day] == [
        ("v1", ms("2026-10-30"), 1),
        ("v1", ms("2026-10-31"), 1),
        ("v2", ms("2026-10-31"), 1),
    ]
    thirty_days_ago = "now() - 30 * 1000 * 60 * 60 * 24"
    active = run_pipeline([
        {"source": {"events": {"appId": "expandAppIds(`*`)"},
                    "timeSeries": {"period": "dayRange", "first": thirty_days_ago, "count": 30}}},
        {"identified": "visitorId"},
        {"reduce": {"uniqueVisitors": {"count": "visitorId"}}},
        {"select": {"uniqueVisitors": "uniqueVisitors", "date": "now()"}},
    ], sub)  # fmt: skip
    assert active == [{"uniqueVisitors": 2, "date": SUB.now_ms}]


def test_pendo_sample_shape_poll_ids_from_guides():
    sub = make_subscription()
    sub.guides[0]["polls"] = [{"id": "poll-a"}, {"id": "poll-b"}]
    rows = run_pipeline(
        [
            {"source": {"guides": None}},
            {"filter": "id==`g1`"},
            {"select": {"pollId1": "polls[0].id", "pollId2": "polls[1].id"}},
        ],
        sub,
    )
    assert rows == [{"pollId1": "poll-a", "pollId2": "poll-b"}]


def test_no_step_changes_the_subscription_and_results_are_the_callers():
    sub = make_subscription()
    before = copy.deepcopy((sub.visitors, sub.accounts, sub.pages, sub.groups))
    writes = [
        {"eval": {"metadata.agent.email": '"x"', "metadata.auto.accountids": "list(1)"}},
        {"set": {"metadata.custom.plan": "y", "metadata.new.field": 1}},
        {"bulkExpand": {"acct": {"account": "metadata.auto.accountid"}}},
        {"eval": {"acct.agent.name": '"z"'}},
        {"select": {"m": "metadata", "m.custom.plan": "1", "acct": "acct"}},
        {"unwind": {"field": "m.auto.accountids", "index": "m.agent.i"}},
        {"switch": {"m.custom.score": {"m.custom.plan": [{"value": 0}]}}},
    ]
    rows = run_pipeline([{"source": {"visitors": None}}, *writes], sub)
    rows[0]["acct"]["agent"]["name"] = "the caller's own"
    expand = [{"source": {"const": [{"p": "p1"}]}}, {"expand": {"page": {"page": "p"}}},
              {"eval": {"page.name": '"renamed"'}}]  # fmt: skip
    assert run_pipeline(expand, sub)[0]["page"]["name"] == "renamed"
    groups = run_pipeline([{"source": {"groups": {"items": True}}}, {"unwind": {"field": "items"}},
                           {"eval": {"items.itemId": '"q"'}}], sub)  # fmt: skip
    assert groups[0]["items"] == {"itemId": "q"}
    assert (sub.visitors, sub.accounts, sub.pages, sub.groups) == before


@pytest.mark.parametrize("step", [{"group": {"group": ["a"]}}, {"sort": ["a"]}])
def test_values_too_deep_to_compare_are_a_400(step):
    deep: object = 1
    for _ in range(3000):
        deep = [deep]
    with pytest.raises(AggregationError, match="nest too deeply") as caught:
        run_pipeline([{"source": {"const": [{"a": deep}, {"a": 1}]}}, step], SUB)
    assert caught.value.status == 400
