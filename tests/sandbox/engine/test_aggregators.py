"""Field aggregators of ``group.fields`` and ``reduce`` (reference 3.6), on five rows by hand."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pendo_nb.sandbox.engine.aggregators import compile_aggregators
from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.errors import AggregationError

CTX = EvalContext(now_ms=1_793_534_400_000, timezone=ZoneInfo("UTC"))
_KNOWN = [
    "count",
    "countIf",
    "sum",
    "avg",
    "mean",
    "median",
    "min",
    "max",
    "first",
    "list",
    "stddev",
    "var",
    "listIf",
    "concat",
    "percentiles",
]

# numEvents "7" is a string on purpose (numeric aggregators skip it); visitorId, numMinutes,
# tags and plan hold nulls.
ROWS = [
    {"visitorId": "v1", "accountId": "a1", "numEvents": 5, "numMinutes": 2, "day": 100,
     "tags": ["x", "y"], "plan": "pro", "meta": {"tier": 1}},
    {"visitorId": "v2", "accountId": "a1", "numEvents": 1, "numMinutes": 1, "day": 200,
     "tags": ["y"], "plan": None, "meta": {"tier": 2}},
    {"visitorId": "v1", "accountId": "a2", "numEvents": 3, "numMinutes": None, "day": 300,
     "tags": None, "plan": "free", "meta": {}},
    {"visitorId": None, "accountId": "a2", "numEvents": "7", "numMinutes": 4, "day": 400,
     "tags": [], "plan": "pro"},
    {"visitorId": "v2", "accountId": "a1", "numEvents": 2.5, "numMinutes": 0, "day": 500,
     "tags": ["z"], "plan": "pro", "meta": {"tier": 1}},
]  # fmt: skip


def reduce(spec, rows=ROWS):
    return compile_aggregators(spec, CTX, "pipeline[1].reduce").reduce(rows)


@pytest.mark.parametrize(
    ("aggregator", "expected"),
    [
        ({"count": None}, 5),
        ({"count": "visitorId"}, 2),  # distinct, null not counted
        ({"count": "accountId"}, 2),
        ({"count": "plan"}, 2),
        ({"count": "tags"}, 4),  # distinct lists: [x, y], [y], [], [z]
        ({"count": "meta.tier"}, 2),
        ({"count": ["visitorId", "accountId"]}, 4),  # (v2, a1) appears twice
        ({"count": ["visitorId", "plan"]}, 5),
        ({"countIf": {"count": None, "if": "isNumber(numEvents) && numEvents > 2"}}, 3),
        ({"countIf": {"count": "visitorId", "if": "accountId == `a1`"}}, 2),
        ({"countIf": {"if": "plan == `pro`"}}, 3),  # no "count": rows
        ({"countIf": {"count": None, "if": "numMinutes"}}, 3),  # non-zero numbers hold
        ({"sum": "numEvents"}, 11.5),  # 5 + 1 + 3 + 2.5; the string "7" is skipped
        ({"sum": "numMinutes * 2"}, 14),  # 4 + 2 + null + 8 + 0
        ({"sum": "if(plan == `pro`, 1, 0)"}, 3),
        ({"avg": "numMinutes"}, 1.75),  # (2 + 1 + 4 + 0) / 4, the null is skipped
        ({"mean": "numMinutes"}, 1.75),
        ({"median": "numEvents"}, 2.75),  # sorted 1, 2.5, 3, 5
        ({"median": "day"}, 300),
        ({"min": "day"}, 100),
        ({"max": "day"}, 500),
        ({"min": "numEvents"}, 1),
        ({"max": "numEvents"}, 5),  # the string "7" is not compared with numbers
        ({"min": "plan"}, "free"),  # no numbers: strings compare
        ({"max": "plan"}, "pro"),
        ({"first": "visitorId"}, "v1"),
        ({"first": "plan"}, "pro"),
        ({"first": "tags"}, ["x", "y"]),
        ({"first": "missing"}, None),
        ({"list": "visitorId"}, ["v1", "v2", "v1", "v2"]),
        ({"list": "meta.tier"}, [1, 2, 1]),
        ({"listIf": {"list": "visitorId", "if": "numMinutes >= 2"}}, ["v1"]),
        ({"listIf": {"list": "day", "if": "plan == `pro`"}}, [100, 400, 500]),
        ({"concat": "tags"}, ["x", "y", "y", "z"]),
        ({"var": "numMinutes"}, pytest.approx(35 / 12)),  # squares .0625+.5625+5.0625+3.0625
        ({"stddev": "numMinutes"}, pytest.approx((35 / 12) ** 0.5)),
        (
            {"percentiles": {"field": "day", "p0": 0, "p50": 50, "p90": 90, "p100": 100}},
            {"p0": 100, "p50": 300, "p90": 460, "p100": 500},
        ),  # p90: 400 + 0.6 * 100
    ],
)
def test_aggregators(aggregator, expected):
    assert reduce({"out": aggregator}) == {"out": expected}


def test_first_depends_on_row_order():
    assert reduce({"out": {"first": "visitorId"}}, ROWS[::-1]) == {"out": "v2"}


def test_distinct_count_keeps_booleans_apart_from_numbers():
    rows = [{"v": 1}, {"v": 1.0}, {"v": True}, {"v": 0}, {"v": False}, {"v": None}]
    assert reduce({"n": {"count": "v"}}, rows) == {"n": 4}  # 1, true, 0, false


def test_reducing_no_rows_gives_the_zero_values_used_by_force_keys():
    spec = {
        "rows": {"count": None},
        "visitors": {"count": "visitorId"},
        "pairs": {"count": ["visitorId", "accountId"]},
        "big": {"countIf": {"count": None, "if": "numEvents > 1"}},
        "total": {"sum": "numEvents"},
        "average": {"avg": "numEvents"},
        "middle": {"median": "numEvents"},
        "low": {"min": "numEvents"},
        "high": {"max": "numEvents"},
        "firstSeen": {"first": "day"},
        "ids": {"list": "visitorId"},
        "someIds": {"listIf": {"list": "visitorId", "if": "true"}},
        "allTags": {"concat": "tags"},
        "spread": {"stddev": "numEvents"},
        "variance": {"var": "numEvents"},
        "pcts": {"percentiles": {"field": "day", "p50": 50}},
    }
    assert reduce(spec, []) == {
        "rows": 0, "visitors": 0, "pairs": 0, "big": 0, "total": 0,
        "average": None, "middle": None, "low": None, "high": None, "firstSeen": None,
        "ids": [], "someIds": [], "allTags": [], "spread": None, "variance": None,
        "pcts": {"p50": None},
    }  # fmt: skip


def test_a_single_value_has_no_sample_deviation():
    assert reduce({"s": {"stddev": "day"}, "v": {"var": "day"}}, ROWS[:1]) == {"s": None, "v": None}


def test_object_and_list_forms_give_the_same_outputs_in_order():
    as_object = compile_aggregators(
        {"n": {"count": None}, "events": {"sum": "numEvents"}}, CTX, "pipeline[2].group.fields"
    )
    as_list = compile_aggregators(
        [{"n": {"count": None}}, {"events": {"sum": "numEvents"}}], CTX, "pipeline[2].group.fields"
    )
    assert as_object.output_names == as_list.output_names == ("n", "events")
    assert as_object.reduce(ROWS) == as_list.reduce(ROWS) == {"n": 5, "events": 11.5}


def test_no_fields_means_no_outputs():
    for spec in (None, {}, []):
        aggregators = compile_aggregators(spec, CTX, "pipeline[2].group.fields")
        assert aggregators.output_names == ()
        assert aggregators.reduce(ROWS) == {}


def test_items_expose_kind_and_plain_field_path_for_columnar_execution():
    aggregators = compile_aggregators(
        {"a": {"sum": "numEvents"}, "b": {"count": None}, "c": {"count": "visitorId"},
         "d": {"max": "numEvents * 2"}, "e": {"first": "meta.tier"},
         "f": {"countIf": {"count": None, "if": "true"}}},
        CTX, "reduce")  # fmt: skip
    described = [(item.output, item.kind, item.field_path) for item in aggregators.items]
    assert described == [
        ("a", "sum", "numEvents"),
        ("b", "count", None),
        ("c", "count", "visitorId"),
        ("d", "max", None),
        ("e", "first", "meta.tier"),
        ("f", "countIf", None),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"x": {"last": "day"}}, "pipeline[1].reduce.x: unknown aggregator 'last' (known: count"),
        ({"x": {"sum": "day", "max": "day"}}, "pipeline[1].reduce.x: expected one aggregator"),
        ({"x": "day"}, "pipeline[1].reduce.x: expected one aggregator like"),
        ([{"x": {"sum": "day"}, "y": {"max": "day"}}], "pipeline[1].reduce[0]: each list entry"),
        (
            [{"x": {"sum": "day"}}, {"x": {"max": "day"}}],
            "pipeline[1].reduce[1].x: output 'x' is defined twice",
        ),
        ("sum", "pipeline[1].reduce: expected an object or a list of objects, got string"),
        (
            {"x": {"sum": 5}},
            "pipeline[1].reduce.x.sum: the argument must be a field name or an "
            "expression string, got number",
        ),
        ({"x": {"sum": None}}, "pipeline[1].reduce.x.sum: the argument must be"),
        ({"x": {"count": []}}, "pipeline[1].reduce.x.count: a list of fields to count must not"),
        ({"x": {"count": 3}}, "pipeline[1].reduce.x.count: the argument must be"),
        ({"x": {"countIf": {"count": None}}}, "pipeline[1].reduce.x.countIf: missing 'if'"),
        ({"x": {"countIf": "day > 1"}}, "pipeline[1].reduce.x.countIf: expected an object like"),
        ({"x": {"listIf": {"list": "day"}}}, "pipeline[1].reduce.x.listIf: missing 'if'"),
        ({"x": {"percentiles": {"field": "day"}}}, "name at least one percentile"),
        (
            {"x": {"percentiles": {"field": "day", "p": 101}}},
            "percentile 'p' must be a number from 0 to 100, got 101",
        ),
        ({"x": {"percentiles": {"field": "day", "p": "50"}}}, "percentile 'p' must be a number"),
        (
            {"x": {"sum": "numEvents +"}},
            "Cannot parse pipeline[1].reduce.x.sum expression: unexpected end of expression at "
            "position 11",
        ),
        (
            {"x": {"countIf": {"count": None, "if": "a = 1"}}},
            "Cannot parse pipeline[1].reduce.x.countIf expression: unexpected '='",
        ),
    ],
)
def test_malformed_specs_are_refused_naming_where(spec, message):
    with pytest.raises(AggregationError) as caught:
        compile_aggregators(spec, CTX, "pipeline[1].reduce")
    assert message in caught.value.message
    assert caught.value.status == 400


def test_type_errors_in_arguments_surface_when_reducing():
    aggregators = compile_aggregators({"x": {"sum": "numEvents * 2"}}, CTX, "reduce")
    with pytest.raises(AggregationError, match="'\\*' needs numbers, got string and number"):
        aggregators.reduce(ROWS)


_ARGUMENTS = st.one_of(
    st.none(), st.integers(-3, 3), st.booleans(),
    st.sampled_from(["a", "b", "a.b", "a + b", "a > 1", "missing", "len(a)", "(", "a ="]),
)  # fmt: skip
_OBJECT_ARGUMENTS = st.dictionaries(
    st.sampled_from(["count", "if", "list", "field", "p50", "p"]),
    st.one_of(_ARGUMENTS, st.floats(-10, 110), st.lists(_ARGUMENTS, max_size=3)),
    max_size=4,
)
_SPECS = st.dictionaries(
    st.sampled_from(["x", "y", "z.w"]),
    st.one_of(
        st.dictionaries(st.sampled_from([*_KNOWN, "last", "Sum"]),
                        st.one_of(_ARGUMENTS, _OBJECT_ARGUMENTS, st.lists(_ARGUMENTS, max_size=3)),
                        min_size=1, max_size=2),
        _ARGUMENTS,
    ),
    max_size=3,
)  # fmt: skip
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12),
                    st.floats(allow_nan=False), st.text(max_size=3),
                    st.lists(st.integers(0, 3), max_size=3))  # fmt: skip


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(
    st.one_of(_SPECS, _SPECS.map(lambda spec: [{k: v} for k, v in spec.items()])),
    st.lists(st.fixed_dictionaries({"a": _VALUES, "b": _VALUES}), max_size=6),
)
def test_random_specs_compile_and_reduce_or_raise_aggregation_error(spec, rows):
    try:
        compile_aggregators(spec, CTX, "reduce").reduce(rows)
    except AggregationError:
        pass


@settings(max_examples=150, deadline=timedelta(seconds=2))
@given(
    st.lists(
        st.one_of(st.none(), st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False)),
        max_size=30,
    )
)
def test_numeric_aggregators_agree_with_pandas(values):
    rows = [{"x": value} for value in values]
    series = pd.Series([value for value in values if value is not None], dtype="float64")
    spec = {name: {name: "x"} for name in ("sum", "avg", "median", "min", "max", "stddev", "var")}
    spec["distinct"] = {"count": "x"}
    spec["pcts"] = {"percentiles": {"field": "x", "p25": 25, "p90": 90}}
    got = reduce(spec, rows)

    def expected(value):
        return None if pd.isna(value) else pytest.approx(float(value), rel=1e-9, abs=1e-6)

    assert got["sum"] == pytest.approx(series.sum(), rel=1e-9, abs=1e-6)
    assert got["avg"] == expected(series.mean())
    assert got["median"] == expected(series.median())
    assert got["min"] == expected(series.min())
    assert got["max"] == expected(series.max())
    assert got["stddev"] == expected(series.std())
    assert got["var"] == expected(series.var())
    assert got["distinct"] == series.nunique()
    assert got["pcts"] == {
        "p25": expected(series.quantile(0.25)),
        "p90": expected(series.quantile(0.9)),
    }
