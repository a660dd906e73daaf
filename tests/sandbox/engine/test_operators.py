"""Pipeline operators (reference 3.5) over hand-written rows; every expected row is written out."""

from __future__ import annotations

import pytest

from pendo_nb.sandbox.engine import AggregationError, run_pipeline
from pendo_nb.sandbox.subscription.generate import generate

from .engine_builders import make_subscription, ms

SUB = make_subscription(
    [
        ("2026-10-30T10:00", "v1", "a1", "page", "p1"),
        ("2026-10-30T10:01", "v1", "a1", "page", "p1"),
        ("2026-10-31T09:00", "v1", "a1", "page", "p2"),
        ("2026-10-31T09:30", "v2", "a2", "page", "p1"),
        ("2026-10-31T09:31", "v2", "a2", "click", "f1"),
    ],
    segments=[
        {
            "id": "seg-pro",
            "name": "Pro",
            "kind": "visitor",
            "filter": 'metadata.custom.plan == "pro"',
        },
        {"id": "seg-a2", "name": "A2", "kind": "account", "filter": "metadata.custom.tier == 2"},
    ],
)
SUB_WITH_ANONYMOUS = make_subscription(
    [
        ("2026-10-30T10:00", "v1", "a1", "page", "p1"),
        ("2026-10-30T11:00", "_PENDO_T_anon", None, "page", "p1"),
        ("2026-10-31T09:30", "v2", "a2", "page", "p1"),
    ]
)
LAST_3_DAYS = {"period": "dayRange", "first": "now()", "count": -3}
EVENTS_3_DAYS = {"source": {"events": None, "timeSeries": LAST_3_DAYS}}


def run(rows, *steps, sub=SUB):
    return run_pipeline([{"source": {"const": rows}}, *steps], sub)


def refused(*steps, rows=(), status=400):
    with pytest.raises(AggregationError) as caught:
        run(list(rows), *steps)
    assert caught.value.status == status
    return caught.value.message


# ------------------------------------------------------------------------------- basic steps


def test_filter_keeps_true_rows_only_and_null_is_false():
    rows = [{"n": 1}, {"n": 5}, {}, {"n": None}]
    assert run(rows, {"filter": "n > 2"}) == [{"n": 5}]
    assert run(rows, {"filter": "isNull(n)"}) == [{}, {"n": None}]
    # A number counts as && reads it: non-zero is true; other types drop the row.
    assert run(rows, {"filter": "n - 1"}) == [{"n": 5}]
    assert run([{"s": "yes"}, {"s": [1]}], {"filter": "s"}) == []


def test_select_keeps_only_named_fields_with_nulls_for_missing():
    rows = [{"a": 1, "b": {"c": 2}, "z": 0}, {"a": 3}]
    assert run(rows, {"select": {"a": "a", "Deep C": "b.c", "x.y": "a * 2"}}) == [
        {"a": 1, "Deep C": 2, "x": {"y": 2}},
        {"a": 3, "Deep C": None, "x": {"y": 6}},
    ]


def test_eval_adds_fields_and_sees_the_row_before_the_step():
    rows = [{"a": 1}]
    assert run(rows, {"eval": {"a": "a + 10", "b": "a", "n.m": "a * 3"}}) == [
        {"a": 11, "b": 1, "n": {"m": 3}}
    ]


@pytest.mark.parametrize("field", ["day", "hour", "week", "month", "day.x"])
def test_eval_and_set_refuse_read_only_fields(field):
    assert f"{field!r} is read-only" in refused({"eval": {field: "1"}})
    assert "read-only" in refused({"set": {field: 1}})


def test_set_writes_constants_not_expressions():
    assert run([{"a": 1}], {"set": {"a": "a + 1", "b.c": [1, 2]}}) == [
        {"a": "a + 1", "b": {"c": [1, 2]}}
    ]


def test_identified_and_anonymous():
    rows = [{"visitorId": "v1"}, {"visitorId": "_PENDO_T_x"}, {"visitorId": "v2"}]
    assert run(rows, {"identified": "visitorId"}) == [{"visitorId": "v1"}, {"visitorId": "v2"}]
    assert run(rows, {"identified": "!visitorId"}) == [{"visitorId": "_PENDO_T_x"}]


def test_identified_on_event_rows_equals_row_by_row():
    for step in ({"identified": "visitorId"}, {"identified": "!visitorId"}):
        columnar = run_pipeline([EVENTS_3_DAYS, step], SUB_WITH_ANONYMOUS)
        row_wise = run_pipeline([EVENTS_3_DAYS, {"eval": {"x": "1"}}, step], SUB_WITH_ANONYMOUS)
        assert [r["visitorId"] for r in columnar] == [r["visitorId"] for r in row_wise]
    kept = run_pipeline([EVENTS_3_DAYS, {"identified": "!visitorId"}], SUB_WITH_ANONYMOUS)
    assert [r["visitorId"] for r in kept] == ["_PENDO_T_anon"]


def test_limit_count_and_cat():
    rows = [{"i": i} for i in range(5)]
    assert run(rows, {"limit": 2}) == [{"i": 0}, {"i": 1}]
    assert run(rows, {"limit": 0}) == []
    assert run(rows, {"limit": 99}) == rows
    assert run(rows, {"count": None}) == [{"count": 5}]
    assert run([], {"count": None}) == [{"count": 0}]
    assert run(rows, {"cat": None}) == rows


@pytest.mark.parametrize("value", [-1, 1.5, "3", True, None, float("inf")])
def test_limit_refuses_what_is_not_a_row_count(value):
    assert "pipeline[1].limit" in refused({"limit": value})


def test_limit_placement_changes_results():
    rows = [{"i": i} for i in range(5)]
    assert run(rows, {"limit": 2}, {"filter": "i > 2"}) == []
    assert run(rows, {"filter": "i > 2"}, {"limit": 2}) == [{"i": 3}, {"i": 4}]


def test_sort_multi_key_descending_and_nulls():
    rows = [{"k": "b", "n": 1}, {"k": "a", "n": 2}, {"k": "b", "n": 3}, {"n": 4}, {"k": "a"}]
    assert run(rows, {"sort": ["k", "-n"]}) == [
        {"n": 4},  # null k first ascending
        {"k": "a", "n": 2},
        {"k": "a"},  # null n last descending
        {"k": "b", "n": 3},
        {"k": "b", "n": 1},
    ]
    assert [r.get("k") for r in run(rows, {"sort": ["-k"]})] == ["b", "b", "a", "a", None]


def test_sort_orders_mixed_types_and_is_stable():
    rows = [{"v": "x"}, {"v": 2}, {"v": True}, {"v": None}, {"v": 1}, {"v": [1]}, {"v": 1, "t": 2}]
    assert run(rows, {"sort": ["v"]}) == [
        {"v": None}, {"v": True}, {"v": 1}, {"v": 1, "t": 2}, {"v": 2}, {"v": "x"}, {"v": [1]},
    ]  # fmt: skip


# ---------------------------------------------------------------------------- group / reduce

ROWS = [
    {"v": "v1", "a": "x", "n": 1, "t": 10},
    {"v": "v2", "a": "x", "n": 2, "t": 5},
    {"v": "v1", "a": "y", "n": 3, "t": 7},
    {"v": "v3", "a": None, "n": None},
]


def test_group_object_and_list_forms_agree():
    object_form = {"group": {"group": ["v"], "fields": {"total": {"sum": "n"},
                                                        "rows": {"count": None}}}}  # fmt: skip
    list_form = {"group": {"group": ["v"], "fields": [{"total": {"sum": "n"}},
                                                      {"rows": {"count": None}}]}}  # fmt: skip
    expected = [
        {"v": "v1", "total": 4, "rows": 2},
        {"v": "v2", "total": 2, "rows": 1},
        {"v": "v3", "total": 0, "rows": 1},
    ]
    assert run(ROWS, object_form) == expected
    assert run(ROWS, list_form) == expected


def test_group_without_fields_gives_distinct_combinations_nulls_included():
    assert run(ROWS, {"group": {"group": ["a"]}}) == [{"a": "x"}, {"a": "y"}, {"a": None}]
    assert run(ROWS, {"group": {"group": ["a", "v"]}}) == [
        {"a": "x", "v": "v1"}, {"a": "x", "v": "v2"}, {"a": "y", "v": "v1"}, {"a": None, "v": "v3"},
    ]  # fmt: skip


def test_group_of_no_rows_is_empty_and_dotted_keys_nest():
    assert run([], {"group": {"group": ["v"], "fields": {"n": {"count": None}}}}) == []
    rows = [{"m": {"k": 1}}, {"m": {"k": 1}}]
    assert run(rows, {"group": {"group": ["m.k"], "fields": {"c": {"count": None}}}}) == [
        {"m": {"k": 1}, "c": 2}
    ]


def test_group_force_keys_emit_empty_groups_with_zero_values():
    step = {"group": {"group": ["a"], "fields": {"total": {"sum": "n"}, "c": {"count": None},
                                                 "l": {"list": "n"}},
                      "forceKeys": {"a": 'list("x", "z")'}}}  # fmt: skip
    assert run(ROWS[:3], step) == [
        {"a": "x", "total": 3, "c": 2, "l": [1, 2]},
        {"a": "y", "total": 3, "c": 1, "l": [3]},
        {"a": "z", "total": 0, "c": 0, "l": []},
    ]
    assert "not one of the group fields" in refused(
        {"group": {"group": ["a"], "forceKeys": {"b": 'list("x")'}}}
    )


def test_first_aggregator_depends_on_row_order():
    by_time = {"sort": ["t"]}
    first = {"group": {"group": ["a"], "fields": {"v": {"first": "v"}}}}
    assert run(ROWS[:3], first) == [{"a": "x", "v": "v1"}, {"a": "y", "v": "v1"}]
    assert run(ROWS[:3], by_time, first) == [{"a": "x", "v": "v2"}, {"a": "y", "v": "v1"}]


def test_reduce_both_forms_and_empty_input():
    assert run(ROWS, {"reduce": {"total": {"sum": "n"}, "most": {"max": "t"}}}) == [
        {"total": 6, "most": 10}
    ]
    assert run(ROWS, {"reduce": [{"total": {"sum": "n"}}]}) == [{"total": 6}]
    assert run([], {"reduce": {"total": {"sum": "n"}, "c": {"count": None}}}) == [
        {"total": 0, "c": 0}
    ]


def test_group_on_event_columns_equals_grouping_row_by_row():
    fields = {"numEvents": {"sum": "numEvents"}, "minutes": {"sum": "numMinutes"},
              "days": {"count": "day"}, "first": {"min": "firstTime"},
              "last": {"max": "lastTime"}, "avg": {"avg": "numEvents"},
              "mid": {"median": "numMinutes"}, "rows": {"count": None},
              "firstDay": {"first": "day"}, "days_seen": {"list": "day"},
              "starts": {"list": "firstTime"}}  # fmt: skip
    group = {"group": {"group": ["visitorId", "accountId"], "fields": fields}}
    columnar = run_pipeline([EVENTS_3_DAYS, group], SUB)
    # An eval turns the batch into dict rows first, so the same group runs row by row.
    row_wise = run_pipeline([EVENTS_3_DAYS, {"eval": {"x": "1"}}, group], SUB)
    assert columnar == row_wise
    assert columnar == [
        {"visitorId": "v1", "accountId": "a1", "numEvents": 3, "minutes": 3, "days": 2,
         "first": ms("2026-10-30T10:00"), "last": ms("2026-10-31T09:00"), "avg": 1.5,
         "mid": 1.5, "rows": 2, "firstDay": ms("2026-10-30"),
         "days_seen": [ms("2026-10-30"), ms("2026-10-31")],
         "starts": [ms("2026-10-30T10:00"), ms("2026-10-31T09:00")]},
        # Issue 14: v2's page load and feature click are two events rows (the click's row
        # names its feature), so two rows of one event each.
        {"visitorId": "v2", "accountId": "a2", "numEvents": 2, "minutes": 2, "days": 1,
         "first": ms("2026-10-31T09:30"), "last": ms("2026-10-31T09:31"), "avg": 1.0,
         "mid": 1.0, "rows": 2, "firstDay": ms("2026-10-31"),
         "days_seen": [ms("2026-10-31"), ms("2026-10-31")],
         "starts": [ms("2026-10-31T09:30"), ms("2026-10-31T09:31")]},
    ]  # fmt: skip
    reduced = run_pipeline([EVENTS_3_DAYS, {"reduce": {"n": {"sum": "numEvents"}}}], SUB)
    assert reduced == [{"n": 5}]


def test_group_lists_of_no_event_rows_is_empty():
    quiet = {"source": {"events": None, "timeSeries": {"period": "dayRange",
                                                       "first": "date(\"2026-10-01\")",
                                                       "count": 3}}}  # fmt: skip
    lists = {"group": {"group": ["visitorId"], "fields": {"days": {"list": "day"}}}}
    assert run_pipeline([quiet, lists], SUB) == []


def test_sort_select_limit_on_event_columns_equal_row_by_row():
    steps = [{"sort": ["-numEvents", "visitorId"]}, {"select": {"who": "visitorId",
                                                                "n": "numEvents"}},
             {"limit": 2}]  # fmt: skip
    columnar = run_pipeline([EVENTS_3_DAYS, *steps], SUB)
    row_wise = run_pipeline([EVENTS_3_DAYS, {"eval": {"x": "1"}}, *steps], SUB)
    # Issue 14: v2's load and click are two rows of one event each (the click names f1).
    assert columnar == row_wise == [{"who": "v1", "n": 2}, {"who": "v1", "n": 1}]


# ------------------------------------------------------------------------- Pendo-specific steps


def test_bulk_expand_attaches_metadata_groups_directly():
    rows = [{"visitorId": "v1", "acct": "a2"}, {"visitorId": "nobody", "acct": "a1"}]
    out = run(rows, {"bulkExpand": {"info": {"visitor": "visitorId"},
                                    "account": {"account": "acct"}}})  # fmt: skip
    assert out[0]["info"]["agent"]["email"] == "v1@example.com"
    assert out[0]["info"]["auto"]["id"] == "v1"
    assert out[0]["account"]["agent"]["name"] == "A2"
    assert out[1]["info"] is None and out[1]["account"]["auto"]["id"] == "a1"
    out[0]["info"]["agent"]["email"] = "changed"  # a copy, not the subscription's object
    assert SUB.visitors["v1"]["metadata"]["agent"]["email"] == "v1@example.com"
    assert "'group' is not one of visitor, account" in refused(
        {"bulkExpand": {"x": {"group": "v"}}}
    )


def test_expand_attaches_catalog_objects():
    rows = [{"pageId": "p2", "featureId": "f1", "trackTypeId": "missing"}]
    out = run(rows, {"expand": {"pageInfo": {"page": "pageId"}, "f": {"feature": "featureId"},
                                "t": {"trackType": "trackTypeId"}}})  # fmt: skip
    assert out[0]["pageInfo"]["name"] == "Reports"
    assert out[0]["f"]["name"] == "Export"
    assert out[0]["t"] is None


def test_expand_attaches_visitor_and_account_metadata_as_bulk_expand_does():
    rows = [{"visitorId": "v1", "accountId": "a2"}, {"visitorId": "nobody", "accountId": ["a1"]}]
    lookups = {"v": {"visitor": "visitorId"}, "a": {"account": "accountId"}}
    out = run([dict(r) for r in rows], {"expand": lookups})
    # engine_builders: v1 belongs to a1 with plan "pro" and score 3; a2 has tier 2.
    assert out[0] == {
        "visitorId": "v1",
        "accountId": "a2",
        "v": {
            "auto": {"id": "v1", "accountid": "a1", "accountids": ["a1"], "lastupdated": 1_000},
            "agent": {"email": "v1@example.com"},
            "custom": {"plan": "pro", "score": 3},
        },
        "a": {"auto": {"id": "a2"}, "agent": {"name": "A2"}, "custom": {"tier": 2}},
    }
    assert out[1]["v"] is None and out[1]["a"] is None  # unknown id; a list is no id
    assert run([dict(r) for r in rows], {"bulkExpand": lookups}) == out
    out[0]["v"]["agent"]["email"] = "changed"  # a copy, not the subscription's object
    assert SUB.visitors["v1"]["metadata"]["agent"]["email"] == "v1@example.com"
    assert "'vocItem' is not one of page, feature, trackType, guide, visitor, account" in refused(
        {"expand": {"o": {"vocItem": "x"}}}
    )


def test_item_seen_counts_all_time_use():
    rows = [{"visitorId": "v1"}, {"visitorId": "v2"}, {"visitorId": "_PENDO_T_anon"}]
    out = run(rows, {"itemSeen": {"home": {"pageId": "p1"}, "export": {"featureId": "f1"}}})
    assert [(r["home"], r["export"]) for r in out] == [
        ({"count": 2, "lastUsed": ms("2026-10-30T10:01")}, {"count": 0, "lastUsed": None}),
        ({"count": 1, "lastUsed": ms("2026-10-31T09:30")},
         {"count": 1, "lastUsed": ms("2026-10-31T09:31")}),
        ({"count": 0, "lastUsed": None}, {"count": 0, "lastUsed": None}),
    ]  # fmt: skip


def test_segment_keeps_members_by_kind():
    rows = [{"visitorId": "v1", "accountId": "a2"}, {"visitorId": "v2", "accountId": "a1"}]
    assert run(rows, {"segment": {"id": "seg-pro"}}) == [rows[0]]
    assert run(rows, {"segment": {"id": "seg-a2"}}) == [rows[0]]
    assert "unknown segment 'nope'" in refused({"segment": {"id": "nope"}})


def test_inline_segment_keeps_rows_of_the_visitors_or_accounts_its_filter_holds_for():
    people = [{"visitorId": "v1"}, {"visitorId": "v2"}, {"visitorId": "_PENDO_T_anon"}]
    free = {"source": {"visitors": None}, "filter": 'metadata.custom.plan == "free"'}
    assert run(people, {"segment": free}) == [{"visitorId": "v2"}]
    # Read as `filter` reads it: v1's score 3 holds, v2's null score does not.
    scored = {"source": {"visitors": {}}, "filter": "metadata.custom.score"}
    assert run(people, {"segment": scored}) == [{"visitorId": "v1"}]
    accounts = [{"accountId": "a1"}, {"accountId": "a2"}, {"accountId": "zz"}, {}]
    tiered = {"source": {"accounts": None}, "filter": "metadata.custom.tier >= 1"}
    assert run(accounts, {"segment": tiered}) == [{"accountId": "a1"}, {"accountId": "a2"}]
    # The inline form of a saved segment's filter keeps the same rows as the saved segment.
    rows = [{"visitorId": "v1", "accountId": "a2"}, {"visitorId": "v2", "accountId": "a1"}]
    pro = {"source": {"visitors": None}, "filter": 'metadata.custom.plan == "pro"'}
    assert run(rows, {"segment": pro}) == run(rows, {"segment": {"id": "seg-pro"}}) == [rows[0]]


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        ({}, "pipeline[1].segment: expected a non-empty object"),
        ({"name": "x"}, 'pipeline[1].segment: expected {"id": "<segmentId>"} or {"source": '),
        ({"source": {"events": None}, "filter": "true"},
         'pipeline[1].segment.source: an inline segment is drawn from {"visitors": null} or '
         '{"accounts": null}'),
        ({"source": {"visitors": {"identified": True}}, "filter": "true"},
         "pipeline[1].segment.source: an inline segment is drawn from"),
        ({"source": {"visitors": None}}, "pipeline[1].segment.filter: required"),
        ({"source": {"visitors": None}, "filter": "a ="},
         "Cannot parse pipeline[1].segment.filter expression"),
        ({"source": {"visitors": None}, "filter": "true", "timeSeries": {}},
         "pipeline[1].segment: unknown field 'timeSeries'"),
        ({"id": "seg-pro", "filter": "true"}, "pipeline[1].segment: unknown field 'filter'"),
    ],
)  # fmt: skip
def test_segment_forms_that_are_refused(segment, message):
    assert message in refused({"segment": segment})


def test_useragent_parses_name_version_os():
    rows = [{"ua": SUB.user_agents[0]}, {"ua": SUB.user_agents[1]}, {"ua": None}]
    out = run(rows, {"useragent": {"parsed": "ua"}})
    assert [r["parsed"] for r in out] == [
        {"name": "Chrome", "version": "119.0", "os": "Windows"},
        {"name": "Firefox", "version": "120.0", "os": "Mac OS X"},
        None,
    ]


# --------------------------------------------------------------------------------- unwind


def test_unwind_with_index():
    rows = [{"id": 1, "l": ["a", "b"]}, {"id": 2, "l": []}, {"id": 3}]
    assert run(rows, {"unwind": {"field": "l", "index": "i"}}) == [
        {"id": 1, "l": "a", "i": 0},
        {"id": 1, "l": "b", "i": 1},
    ]


def test_unwind_keep_empty_keeps_rows_without_elements():
    rows = [{"id": 1, "l": ["a"]}, {"id": 2, "l": []}, {"id": 3}]
    assert run(rows, {"unwind": {"field": "l", "index": "i", "keepEmpty": True}}) == [
        {"id": 1, "l": "a", "i": 0},
        {"id": 2, "l": None, "i": None},
        {"id": 3, "l": None, "i": None},
    ]


def test_unwind_prefix_emits_running_lists():
    rows = [{"path": ["home", "reports", "export"]}]
    assert run(rows, {"unwind": {"field": "path", "prefix": True}}) == [
        {"path": ["home"]},
        {"path": ["home", "reports"]},
        {"path": ["home", "reports", "export"]},
    ]


def test_unwound_rows_do_not_share_nested_changes():
    rows = [{"l": [1, 2], "meta": {"k": 0}}]
    out = run(rows, {"unwind": {"field": "l"}}, {"eval": {"meta.k": "l * 10"}})
    assert out == [{"l": 1, "meta": {"k": 10}}, {"l": 2, "meta": {"k": 20}}]


def test_unwind_scalar_is_a_list_of_itself_and_bad_flags_refused():
    assert run([{"l": 5}], {"unwind": {"field": "l", "index": "i"}}) == [{"l": 5, "i": 0}]
    assert "keepEmpty" in refused({"unwind": {"field": "l", "keepEmpty": "yes"}})
    assert "unknown field 'fields'" in refused({"unwind": {"field": "l", "fields": 1}})


# --------------------------------------------------------------------------------- switch

SIZES = {"switch": {"size": {"n": [
    {"value": "small", "<": 10},
    {"value": "medium", ">=": 10, "<": 20},
    {"value": "large", ">=": 20},
]}}}  # fmt: skip


def test_switch_picks_the_first_matching_case_and_drops_the_rest():
    rows = [{"n": 3}, {"n": 10}, {"n": 25}, {"n": "text"}, {"n": None}, {}]
    assert run(rows, SIZES) == [
        {"n": 3, "size": "small"},
        {"n": 10, "size": "medium"},
        {"n": 25, "size": "large"},
    ]


def test_switch_equality_and_catch_all_cases():
    step = {"switch": {"label": {"plan": [{"value": "paid", "==": "pro"},
                                          {"value": "other"}]}}}  # fmt: skip
    rows = [{"plan": "pro"}, {"plan": "free"}, {"plan": None}]
    assert run(rows, step) == [{"plan": "pro", "label": "paid"}, {"plan": "free", "label": "other"}]
    assert "unknown comparison '=~'" in refused({"switch": {"o": {"i": [{"value": 1, "=~": 2}]}}})
    assert "'value'" in refused({"switch": {"o": {"i": [{"<": 2}]}}})


# ----------------------------------------------------------------------------- fork / spawn


def test_fork_runs_every_branch_and_concatenates():
    rows = [{"n": 1}, {"n": 2}]
    out = run(rows, {"fork": [[{"filter": "n > 1"}], [{"count": None}]]})
    assert out == [{"n": 2}, {"count": 2}]


def test_fork_branches_share_the_same_row_objects():
    rows = [{"n": 1}]
    out = run(rows, {"fork": [[{"eval": {"seen": "true"}}], [{"filter": "seen"}]]})
    assert out == [{"n": 1, "seen": True}, {"n": 1, "seen": True}]


def test_fork_refuses_empty_branches_and_sources():
    assert "empty pipeline" in refused({"fork": [[{"cat": None}], []]})
    assert "pipeline[1].fork[0][0].source" in refused({"fork": [[{"source": {"visitors": None}}]]})


def test_spawn_runs_pipelines_with_their_own_sources():
    accounts = [{"source": {"accounts": None}}, {"select": {"id": "accountId"}}]
    pipeline = [{"spawn": [[{"source": {"const": [{"a": 1}]}}], accounts]}]
    assert run_pipeline(pipeline, SUB) == [{"a": 1}, {"id": "a1"}, {"id": "a2"}]


def test_spawn_must_come_first_and_branches_need_sources():
    assert "only the first step" in refused({"spawn": [[{"source": {"visitors": None}}]]})
    with pytest.raises(AggregationError, match=r"pipeline\[0\].spawn\[0\]\[0\].cat"):
        run_pipeline([{"spawn": [[{"cat": None}]]}], SUB)


# --------------------------------------------------------------------------------- join / merge


def test_join_merges_rows_sharing_keys_by_width():
    rows = [{"k": 1, "a": "x"}, {"k": 2, "b": "y"}, {"k": 1, "b": "z"},
            {"k": 1, "a": "w"}, {"k": 3, "a": "alone"}]  # fmt: skip
    assert run(rows, {"join": {"fields": ["k"], "width": 2}}) == [
        {"k": 1, "a": "x", "b": "z"},  # complete at its second row
        {"k": 2, "b": "y"},  # incomplete ones at the end, in arrival order
        {"k": 1, "a": "w"},
        {"k": 3, "a": "alone"},
    ]


def test_join_later_rows_win_collisions_and_width_is_checked():
    rows = [{"k": 1, "a": "first"}, {"k": 1, "a": "second"}]
    assert run(rows, {"join": {"fields": ["k"], "width": 2}}) == [{"k": 1, "a": "second"}]
    for width in (1, 0, 2.5, "2", True):
        assert "width" in refused({"join": {"fields": ["k"], "width": width}})


def test_join_of_spawned_pipelines_per_visitor():
    pipeline = [
        {"spawn": [
            [EVENTS_3_DAYS, {"group": {"group": ["visitorId"],
                                        "fields": {"n": {"sum": "numEvents"}}}}],
            [{"source": {"visitors": None}}, {"select": {"visitorId": "visitorId",
                                                         "email": "metadata.agent.email"}}],
        ]},
        {"join": {"fields": ["visitorId"], "width": 2}},
    ]  # fmt: skip
    assert run_pipeline(pipeline, SUB) == [
        {"visitorId": "v1", "n": 3, "email": "v1@example.com"},
        {"visitorId": "v2", "n": 2, "email": "v2@example.com"},
        {"visitorId": "_PENDO_T_anon", "email": "_PENDO_T_anon@example.com"},
    ]


INNER = {"source": {"const": [{"k": 1, "x": "one", "y": 1}, {"k": 2, "x": "two", "y": 2},
                              {"k": 1, "x": "uno", "y": 9}]}}  # fmt: skip


def test_merge_with_mappings_first_inner_row_wins_and_every_main_row_gets_it():
    rows = [{"k": 1}, {"k": 1, "x": "mine"}, {"k": 3}]
    step = {"merge": {"fields": ["k"], "mappings": {"name": "x"}, "pipeline": [INNER]}}
    assert run(rows, step) == [{"k": 1, "name": "one"}, {"k": 1, "x": "mine", "name": "one"},
                               {"k": 3}]  # fmt: skip


def test_merge_without_mappings_copies_all_inner_fields_and_empty_mappings_nothing():
    rows = [{"k": 2, "x": "old"}]
    assert run(rows, {"merge": {"fields": ["k"], "pipeline": [INNER]}}) == [
        {"k": 2, "x": "two", "y": 2}
    ]
    assert run(rows, {"merge": {"fields": ["k"], "mappings": {}, "pipeline": [INNER]}}) == rows


def test_merge_on_several_keys_and_merged_values_are_not_shared():
    inner = {"source": {"const": [{"a": 1, "b": 2, "info": {"deep": 0}}]}}
    rows = [{"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 3}]
    step = {"merge": {"fields": ["a", "b"], "mappings": {"info": "info"}, "pipeline": [inner]}}
    out = run(rows, step, {"eval": {"info.deep": "b"}})
    assert out == [{"a": 1, "b": 2, "info": {"deep": 2}}, {"a": 1, "b": 2, "info": {"deep": 2}},
                   {"a": 1, "b": 3, "info": {"deep": 3}}]  # fmt: skip


def test_merge_needs_a_pipeline_with_a_source():
    assert "pipeline: required" in refused({"merge": {"fields": ["k"]}})
    assert "must start with a source" in refused(
        {"merge": {"fields": ["k"], "pipeline": [{"cat": None}]}}
    )


# ------------------------------------------------------------------------------ unknown steps


def test_skip_is_unknown_as_on_pendo():
    assert refused({"skip": 1}) == "unknown step type 'skip'"
    assert refused({"treeify": {}}) == "unknown step type 'treeify'"


@pytest.mark.parametrize(
    ("step", "where"),
    [
        ({"filter": "n >"}, "pipeline[1].filter"),
        ({"filter": 3}, "pipeline[1].filter"),
        ({"select": {}}, "pipeline[1].select"),
        ({"eval": []}, "pipeline[1].eval"),
        ({"group": {"group": []}}, "pipeline[1].group.group"),
        ({"group": {"group": ["a"], "fields": {"x": {"nope": "a"}}}}, "pipeline[1].group.fields"),
        ({"group": {"group": ["a"], "by": 1}}, "pipeline[1].group"),
        ({"sort": []}, "pipeline[1].sort"),
        ({"sort": ["a b"]}, "pipeline[1].sort[0]"),
        ({"count": 3}, "pipeline[1].count"),
        ({"identified": 3}, "pipeline[1].identified"),
        ({"unwind": {"index": "i"}}, "pipeline[1].unwind.field"),
        ({"switch": {"o": []}}, "pipeline[1].switch.o"),
        ({"fork": []}, "pipeline[1].fork"),
        ({"join": {"width": 2}}, "pipeline[1].join.fields"),
        ({"merge": {"fields": ["k"], "mappings": {"a": 1}, "pipeline": [INNER]}},
         "pipeline[1].merge.mappings.a"),
        ({"expand": {"o": {"vocItem": "x"}}}, "pipeline[1].expand.o"),
        ({"itemSeen": {"o": {"guideId": "g1"}}}, "pipeline[1].itemSeen.o"),
        ({"reduce": 5}, "pipeline[1].reduce"),
    ],
)  # fmt: skip
def test_bad_arguments_name_the_step(step, where):
    assert where in refused(step)


@pytest.fixture(scope="module")
def new_york():
    return generate(size="small", timezone="America/New_York")


@pytest.mark.parametrize(
    "step",
    [
        {"group": {"group": ["pageId", "week"]}},
        {"group": {"group": ["accountId"], "fields": {
            "visitors": {"count": "visitorId"}, "weeks": {"count": "week"},
            "firstVisitor": {"first": "visitorId"}, "most": {"max": "numMinutes"}}}},
        {"reduce": {"n": {"sum": "numEvents"}, "v": {"count": "visitorId"},
                    "m": {"median": "numMinutes"}}},
        {"group": {"group": ["accountId", "week", "pageId"],
                   "fields": {"n": {"sum": "numEvents"}}}},
        {"group": {"group": ["visitorId"], "fields": {"visitorId": {"count": None},
                                                      "_size": {"sum": "numEvents"}}}},
        # Lists keep each group's values in row order, numbers and strings alike.
        {"group": {"group": ["visitorId"], "fields": {
            "weeks": {"list": "week"}, "pages": {"list": "pageId"}, "n": {"count": None}}}},
        {"group": {"group": ["accountId"], "fields": {"by.weeks": {"list": "week"}}}},
        {"reduce": {"visitors": {"list": "visitorId"}, "n": {"sum": "numEvents"}}},
        {"group": {"group": ["visitorId"], "fields": {"params": {"list": "parameters"}}}},
        {"sort": ["-userAgent", "visitorId", "firstTime"]},
        {"identified": "!visitorId"},
        {"select": {"who": "visitorId", "when": "firstTime"}},
    ],
)  # fmt: skip
def test_column_steps_give_the_rows_of_the_row_by_row_steps(new_york, step):
    """Event rows stay column-wise through these steps; forcing them into dict rows first (an
    eval) must not change a single row (the row-wise steps are checked by hand above)."""
    weeks = {"period": "weekRange", "first": "now()", "count": -3}
    source = {"source": {"pageEvents": {"appId": 'expandAppIds("*")'}, "timeSeries": weeks}}
    columnar = run_pipeline([source, step], new_york)
    row_wise = run_pipeline([source, {"eval": {"forced": "1"}}, step], new_york)
    for row in row_wise:
        row.pop("forced", None)
    assert columnar
    assert columnar == row_wise


def test_inline_segment_over_generated_visitors(new_york):
    speakers = sorted(
        visitor_id
        for visitor_id, row in new_york.visitors.items()
        if row["metadata"]["agent"].get("language") == "de-DE"
    )
    segment = {"source": {"visitors": None}, "filter": 'metadata.agent.language == "de-DE"'}
    select = {"select": {"id": "visitorId"}}
    out = run_pipeline([{"source": {"visitors": None}}, {"segment": segment}, select], new_york)
    assert speakers and sorted(row["id"] for row in out) == speakers
