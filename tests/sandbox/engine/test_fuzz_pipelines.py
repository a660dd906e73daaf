"""Random pipelines never crash the engine: each gives rows or a 400/422 AggregationError.

The time bound is the engine's own: runs use ``Limits(max_seconds=5)``, and a run over it would
answer 408, which fails the test like any other unexpected outcome.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_nb.sandbox.engine import AggregationError, Limits, run_aggregation

from .engine_builders import make_subscription

SUB = make_subscription(
    [
        ("2026-10-30T10:00", "v1", "a1", "page", "p1"),
        ("2026-10-31T09:00", "v2", "a2", "click", "f1"),
        ("2026-10-31T09:30", "_PENDO_T_anon", None, "track", "t1"),
    ],
    segments=[{"id": "s", "name": "S", "kind": "visitor", "filter": "metadata.custom.score > 1"}],
)
LIMITS = Limits(max_seconds=5)

GOOD_FIELDS = st.sampled_from(["visitorId", "accountId", "numEvents", "day", "a", "a.b", "l",
                                "x", "pageId", "metadata.custom.plan"])  # fmt: skip
BAD_FIELDS = st.sampled_from(["-numEvents", "", "a..b", "1x"])
FIELDS = st.one_of(GOOD_FIELDS, GOOD_FIELDS, GOOD_FIELDS, BAD_FIELDS)  # mostly usable names
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                    st.text(max_size=6))  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
GOOD_ATOMS = st.sampled_from(["1", "null", "true", '"s"', "now()", "[1, 2]", "numEvents * 2",
                              "len(l)", "x[0]", 'date("2026")',
                              "identified(visitorId)"])  # fmt: skip
BAD_ATOMS = st.sampled_from(["(", "a +", "1x", "a..b"])
ATOMS = st.one_of(GOOD_FIELDS, GOOD_ATOMS, GOOD_ATOMS, BAD_ATOMS)
EXPRESSIONS = st.builds(
    lambda parts, ops: " ".join(p for pair in zip(parts, ops, strict=False) for p in pair),
    st.lists(ATOMS, min_size=1, max_size=4),
    st.lists(st.sampled_from(["+", "==", "&&", "||", ">", "/", "%", "!="]), min_size=4, max_size=4),
)
PERIODS = st.sampled_from(["dayRange", "hourRange", "weekRange", "monthRange", "daily"])
FIRST = st.one_of(st.just("now()"), st.integers(-(10**15), 10**15), EXPRESSIONS)
TIME_SERIES = st.one_of(
    st.fixed_dictionaries({"period": PERIODS, "first": FIRST, "count": st.integers(-40, 40)}),
    st.fixed_dictionaries({"period": PERIODS, "first": FIRST,
                           "last": st.one_of(st.just("now()"), EXPRESSIONS)}),
    st.dictionaries(st.sampled_from(["period", "first", "last", "count", "x"]), JSON),
)  # fmt: skip
SOURCES = st.one_of(
    st.builds(lambda name, ts: {"source": {name: None, "timeSeries": ts}},
              st.sampled_from(["events", "pageEvents", "featureEvents", "trackEvents",
                               "guideEvents", "pollsSeen", "guidesSeen"]), TIME_SERIES),
    st.builds(lambda name: {"source": {name: None}},
              st.sampled_from(["visitors", "accounts", "pages", "apps", "groups", "nope",
                               "guidesSeenEver", "doNotProcessVisitors"])),
    st.builds(lambda rows: {"source": {"const": rows}},
              st.lists(st.dictionaries(st.sampled_from(["a", "l", "x", "visitorId"]), JSON,
                                       max_size=3), max_size=5)),
)  # fmt: skip
AGGREGATORS = st.dictionaries(
    st.sampled_from(["n", "s", "m", "a.b"]),
    st.dictionaries(st.sampled_from(["sum", "count", "first", "list", "max", "avg", "bogus"]),
                    st.one_of(st.none(), EXPRESSIONS), min_size=1, max_size=1),
    max_size=3,
)  # fmt: skip


def _steps(pipelines):
    simple = st.one_of(
        st.builds(lambda e: {"filter": e}, EXPRESSIONS),
        st.builds(lambda d: {"eval": d}, st.dictionaries(FIELDS, EXPRESSIONS, max_size=2)),
        st.builds(lambda d: {"select": d}, st.dictionaries(FIELDS, EXPRESSIONS, max_size=2)),
        st.builds(lambda d: {"set": d}, st.dictionaries(FIELDS, JSON, max_size=2)),
        st.builds(lambda f: {"sort": f}, st.lists(FIELDS, max_size=3)),
        st.builds(lambda n: {"limit": n}, st.one_of(st.integers(-2, 10), SCALARS)),
        st.builds(lambda g, f: {"group": {"group": g, "fields": f}}, st.lists(FIELDS, max_size=2),
                  AGGREGATORS),
        st.builds(lambda f: {"reduce": f}, AGGREGATORS),
        st.builds(lambda f, i, k, p: {"unwind": {"field": f, "index": i, "keepEmpty": k,
                                                 "prefix": p}},
                  FIELDS, FIELDS, st.booleans(), st.booleans()),
        st.builds(lambda f, w: {"join": {"fields": f, "width": w}}, st.lists(FIELDS, max_size=2),
                  st.one_of(st.integers(0, 4), SCALARS)),
        st.builds(lambda o, i, cases: {"switch": {o: {i: cases}}}, FIELDS, FIELDS,
                  st.lists(st.dictionaries(st.sampled_from(["value", "<", ">=", "==", "~"]),
                                           SCALARS, max_size=3), max_size=3)),
        st.builds(lambda o, kind, f: {"bulkExpand": {o: {kind: f}}}, FIELDS,
                  st.sampled_from(["visitor", "account", "page"]), FIELDS),
        st.builds(lambda o, kind, f: {"expand": {o: {kind: f}}}, FIELDS,
                  st.sampled_from(["page", "feature", "trackType", "visitor"]), FIELDS),
        st.builds(lambda o, f: {"useragent": {o: f}}, FIELDS, FIELDS),
        st.builds(lambda o, i: {"itemSeen": {o: {"pageId": i}}}, FIELDS,
                  st.sampled_from(["p1", "x"])),
        st.builds(lambda i: {"segment": {"id": i}}, st.sampled_from(["s", "missing"])),
        st.builds(lambda f: {"identified": f},
                  st.sampled_from(["visitorId", "!visitorId", "x", 3])),
        st.sampled_from([{"count": None}, {"cat": None}, {"skip": 1}, {"count": 3}, {}, "x"]),
        st.builds(lambda key, value: {key: value}, st.text(max_size=5), JSON),
    )  # fmt: skip
    nested = st.one_of(
        st.builds(lambda branches: {"fork": branches}, st.lists(pipelines, max_size=3)),
        st.builds(lambda f, m, p: {"merge": {"fields": f, "mappings": m, "pipeline": p}},
                  st.lists(FIELDS, min_size=1, max_size=2),
                  st.one_of(st.none(), st.dictionaries(FIELDS, FIELDS, max_size=2)),
                  st.builds(lambda s, rest: [s, *rest], SOURCES, st.lists(simple, max_size=2))),
    )  # fmt: skip
    return st.one_of(simple, nested)


STEPS = st.deferred(lambda: _steps(st.lists(STEPS, max_size=3)))
WITH_SOURCE = st.builds(lambda head, rest: [head, *rest], SOURCES, st.lists(STEPS, max_size=5))
PIPELINES = st.one_of(
    WITH_SOURCE,
    WITH_SOURCE,  # twice: most pipelines start as Pendo's do
    st.builds(lambda branches, rest: [{"spawn": branches}, *rest],
              st.lists(st.builds(lambda s, r: [s, *r], SOURCES, st.lists(STEPS, max_size=2)),
                       min_size=1, max_size=3), st.lists(STEPS, max_size=2)),
    st.lists(STEPS, max_size=3),
    JSON,
)  # fmt: skip


@pytest.mark.timeout(240)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PIPELINES)
def test_random_pipelines_answer_rows_or_a_client_error(pipeline):
    try:
        answer = run_aggregation({"request": {"pipeline": pipeline}}, SUB, limits=LIMITS)
    except AggregationError as error:
        assert error.status in (400, 422), error.message
        assert error.message
    else:
        assert isinstance(answer["results"], list)
        assert all(isinstance(row, dict) for row in answer["results"])
