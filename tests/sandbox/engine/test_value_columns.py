"""Rows a source shares and rows a plain ``select`` keeps column-wise (rows.SharedRows,
rows.ValueColumns): the same results as dict rows, and nothing of the subscription changed or
handed out."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pendo_nb.sandbox.engine import AggregationError, Limits, run_pipeline
from pendo_nb.sandbox.engine.paths import column_at, get_segments

from .engine_builders import make_subscription

SUB = make_subscription([("2026-10-30T10:00", "v1", "a1", "page", "p1")])

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=6,
)
ROWS = st.lists(st.dictionaries(st.sampled_from(["a", "l", "x"]), JSON, max_size=3), max_size=6)
SELECT = {"select": {"a": "a", "l": "l", "deep": "x.y.z"}}


def _const(rows):
    return {"source": {"const": rows}}


def _as_dict_rows():
    # An eval makes the rows dicts again, so the next step takes the row-by-row path.
    return {"eval": {"marker": "1"}}


def _without_marker(rows):
    return [{k: v for k, v in row.items() if k != "marker"} for row in rows]


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, index=st.sampled_from([None, "i", "a", "l"]), count=st.integers(0, 8))
def test_column_wise_select_unwind_and_limit_equal_the_row_by_row_steps(rows, index, count):
    unwind = {"unwind": {"field": "l"} | ({"index": index} if index else {})}
    column_wise = run_pipeline([_const(rows), SELECT, unwind, {"limit": count}], SUB)
    row_by_row = run_pipeline(
        [_const(rows), SELECT, _as_dict_rows(), unwind, {"limit": count}], SUB
    )
    assert column_wise == _without_marker(row_by_row)
    # Key order too: it is what the answer's JSON shows.
    assert [list(row) for row in column_wise] == [
        [k for k in row if k != "marker"] for row in row_by_row
    ]


def test_select_then_unwind_of_the_subscription_lists_hands_out_copies():
    before = copy.deepcopy(SUB.visitors)
    rows = run_pipeline(
        [
            {"source": {"visitors": None}},
            {"select": {"visitorId": "visitorId", "ids": "metadata.auto.accountids",
                        "auto": "metadata.auto"}},
            {"unwind": {"field": "ids", "index": "n"}},
        ],
        SUB,
    )  # fmt: skip
    assert [(row["visitorId"], row["ids"], row["n"]) for row in rows] == [
        (visitor_id, visitor["metadata"]["auto"]["accountids"][0], 0)
        for visitor_id, visitor in SUB.visitors.items()
    ]
    for row in rows:
        row["auto"]["accountids"].append("changed")
    assert SUB.visitors == before


@pytest.mark.parametrize(
    "steps",
    [
        [{"limit": 1}, {"eval": {"metadata.auto.id": '"changed"', "visitorId": '"x"'}}],
        [{"filter": "true"}, {"set": {"visitorId": "x"}}],
        [{"cat": None}, {"unwind": {"field": "metadata.auto.accountids", "index": "visitorId"}}],
        [{"sort": ["-visitorId"]}, {"useragent": {"visitorId": "visitorId"}}],
    ],
)
def test_steps_that_write_never_change_the_subscription_objects(steps):
    before = copy.deepcopy(SUB.visitors)
    assert run_pipeline([{"source": {"visitors": None}}, *steps], SUB)
    assert SUB.visitors == before


def test_column_wise_unwind_counts_its_rows_against_the_budget_before_making_them():
    rows = [{"l": list(range(40))}, {"l": list(range(30))}]
    steps = [_const(rows), {"select": {"l": "l"}}, {"unwind": {"field": "l"}}]
    assert len(run_pipeline(steps, SUB, limits=Limits(max_rows=70))) == 70
    with pytest.raises(AggregationError) as caught:
        run_pipeline(steps, SUB, limits=Limits(max_rows=69))
    assert caught.value.status == 413
    assert "pipeline[2].unwind" in caught.value.message


def test_column_wise_results_are_measured_against_max_values():
    steps = [_const([{"a": 1, "b": "x"}] * 5), {"select": {"a": "a", "b": "b"}}]
    assert len(run_pipeline(steps, SUB, limits=Limits(max_values=10))) == 5
    with pytest.raises(AggregationError) as caught:
        run_pipeline(steps, SUB, limits=Limits(max_values=9))
    assert caught.value.status == 413


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": {"b": 1}}, {"a": {"b": 2}}],  # every row has the path: read column-wise
        [{"a": {"b": 1}}, {"a": None}, {}, {"a": 3}, {"a": {"c": 1}}],  # steps missing
        [{"a": [{"b": 1}, {"b": 2}]}, {"a": {"b": [5]}}],  # a list on the way
    ],
)
@pytest.mark.parametrize("path", [("a", "b"), ("a", "0"), ("a", "-1", "b"), ("a",)])
def test_column_at_reads_what_get_segments_reads(rows, path):
    assert column_at(rows, path) == [get_segments(row, path) for row in rows]
