"""One pathological step is stopped while it runs, not after it has taken the time or the memory.

The run's clock is read before each row inside ``filter``/``eval``/``select`` (after each column
for a ``select`` of plain field copies, whose rows cannot be slow one by one), and the lists,
objects and long strings ``eval``/``select``/``group``/``reduce`` write are charged to
``Limits.max_values`` as they are written. The clock here is a stand-in that moves one second per
reading, so the tests count readings instead of timing anything; each pipeline ends in ``count``,
so the result itself is one small row and only the in-step checks can refuse it.
"""

from __future__ import annotations

import itertools

import pytest

from pendo_nb.sandbox.engine import AggregationError, Limits, run_aggregation
from pendo_nb.sandbox.engine import run_state as interpreter

from .engine_builders import make_subscription

SUB = make_subscription([("2026-10-31T10:00", "v1", "a1", "page", "p1")])
ROWS = 10


def run(pipeline: list, limits: Limits) -> dict:
    return run_aggregation({"request": {"pipeline": pipeline}}, SUB, limits=limits)


def refused(pipeline: list, limits: Limits) -> AggregationError:
    with pytest.raises(AggregationError) as caught:
        run(pipeline, limits)
    return caught.value


@pytest.fixture
def one_second_per_reading(monkeypatch):
    """``time.monotonic`` of the interpreter: 0, 1, 2, ... seconds, one step per call."""
    ticks = itertools.count()

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return float(next(ticks))

    monkeypatch.setattr(interpreter, "time", Clock)


def rows_then(step: dict) -> list:
    return [{"source": {"const": [{"i": i} for i in range(ROWS)]}}, step, {"count": None}]


# Readings: 0 sets the deadline, 1 is the check after the source, then the step reads before
# each of its 10 rows (2 to 11), the check after it is reading 12 and after count 13.
@pytest.mark.parametrize(
    "step",
    [{"filter": "i >= 0"}, {"eval": {"j": "i * 2"}}, {"select": {"j": "i * 2"}}],
    ids=["filter", "eval", "select"],
)
def test_a_long_step_is_cut_while_it_runs(one_second_per_reading, step):
    name = next(iter(step))
    error = refused(rows_then(step), Limits(max_seconds=5.5))  # passed at reading 6: row 4
    assert error.status == 408
    assert error.message.startswith(f"pipeline[1].{name}: the aggregation ran longer than 5.5")


def test_a_select_of_plain_copies_reads_the_clock_after_each_column(one_second_per_reading):
    # Readings: 0 deadline, 1 after the source, 2 after column j, 3 after column k: past 2.5.
    step = {"select": {"j": "i", "k": "i"}}
    assert refused(rows_then(step), Limits(max_seconds=2.5)).status == 408
    assert run(rows_then(step), Limits(max_seconds=5.5))["results"] == [{"count": ROWS}]


def test_the_same_step_within_the_time_runs_to_the_end(one_second_per_reading):
    assert run(rows_then({"filter": "i >= 0"}), Limits(max_seconds=13.5))["results"] == [
        {"count": ROWS}
    ]


SPLIT_20 = 'split("' + ",".join("x" * 20) + '", ",")'  # a list of 20 one-letter strings


@pytest.mark.parametrize(
    ("step", "per_row"),
    [
        ({"eval": {"l": SPLIT_20}}, 20),
        ({"select": {"l": SPLIT_20, "i": "i"}}, 20),
        ({"eval": {"l": "[[1, 2], [3]]"}}, 5),  # 2 lists in the outer one, 3 numbers in them
        ({"eval": {"o": "polls[0]", "l": "list(i, i)"}}, 3),  # an object of 1 field, a list of 2
        # ["x","x",...]: 20 times 3 characters, 19 commas, 2 brackets = 81; 81 // 8 = 10
        ({"eval": {"s": "toString(" + SPLIT_20 + ")"}}, 10),
        ({"eval": {"l": "list(polls, polls)"}}, 6),  # 2 places of polls, 2 values each
    ],
    ids=[
        "eval flat list",
        "select flat list",
        "eval nested lists",
        "eval object and list",
        "eval long string",
        "eval shared list",
    ],
)
def test_lists_and_objects_written_are_charged_to_the_value_cap(step, per_row):
    rows = 50
    source = {"source": {"const": [{"i": i, "polls": [{"id": i}]} for i in range(rows)]}}
    pipeline = [source, step, {"count": None}]
    total = rows * per_row
    assert run(pipeline, Limits(max_values=total))["results"] == [{"count": rows}]
    error = refused(pipeline, Limits(max_values=total - 1))
    assert error.status == 413
    assert error.message.startswith(f"pipeline[1].{next(iter(step))}: more than {total - 1:,}")


def test_a_plain_field_copy_shares_the_value_and_is_not_charged():
    # select copying each row's list, as is, into a flat name allocates no new value: only the
    # result is counted (its one row, {"count": ...}).
    source = {"source": {"const": [{"i": i, "polls": [{"id": i}]} for i in range(50)]}}
    pipeline = [source, {"select": {"p": "polls", "i": "i"}}, {"count": None}]
    assert run(pipeline, Limits(max_values=1))["results"] == [{"count": 50}]


def test_scalars_and_short_strings_cost_nothing():
    pipeline = rows_then({"eval": {"j": "i * 2", "s": '"a text of less than 64 characters"'}})
    # Only the result row, {"count": ...}, is counted: one value.
    assert run(pipeline, Limits(max_values=1))["results"] == [{"count": ROWS}]


def test_force_keys_whose_combinations_pass_the_row_cap_are_refused_before_running():
    # 3 x 4 x 5 = 60 forced combinations: fine under a cap of 60 rows, refused under 59.
    lists = {"a": "list(1, 2, 3)", "b": "list(1, 2, 3, 4)", "c": "list(1, 2, 3, 4, 5)"}
    group = {"group": {"group": ["a", "b", "c"], "forceKeys": lists}}
    pipeline = [{"source": {"const": []}}, group, {"count": None}]
    assert run(pipeline, Limits(max_rows=60))["results"] == [{"count": 60}]
    error = refused(pipeline, Limits(max_rows=59))
    assert error.status == 413
    assert error.message == (
        "pipeline[1].group.forceKeys: 60 combinations of forced keys, more than 59 rows; "
        "force fewer values"
    )


def test_lists_a_group_builds_are_charged_too():
    # 30 rows in 3 groups: each group's list holds 10 values, 30 in all.
    source = {"source": {"const": [{"i": i, "g": i % 3} for i in range(30)]}}
    group = {"group": {"group": ["g"], "fields": {"all": {"list": "i"}}}}
    pipeline = [source, group, {"count": None}]
    assert run(pipeline, Limits(max_values=30))["results"] == [{"count": 3}]
    error = refused(pipeline, Limits(max_values=29))
    assert error.status == 413 and error.message.startswith("pipeline[1].group: more than 29")
    reduce = [source, {"reduce": {"all": {"list": "i"}}}, {"count": None}]
    assert refused(reduce, Limits(max_values=29)).message.startswith("pipeline[1].reduce: ")


def test_a_list_doubled_step_after_step_is_stopped_as_it_grows():
    # a = list(a, a) makes a shared structure whose written size doubles at each step: 2, 6,
    # 14, ... (2**(k + 1) - 2 values after k steps), charged 2 + 6 + 14 + ... as written.
    doubling = [{"source": {"const": [{"a": 1}]}}] + [{"eval": {"a": "list(a, a)"}}] * 40
    error = refused([*doubling, {"count": None}], Limits())
    assert error.status == 413
    # The charges pass 50,000,000 at the eval whose value holds 2**25 - 2 values.
    assert error.message.startswith("pipeline[24].eval: more than 50,000,000 values written")


@pytest.mark.parametrize("row_wise", [False, True], ids=["on columns", "row by row"])
def test_lists_a_group_makes_count_in_the_result_as_written(row_wise):
    # v1 active on three days, v2 on one: two rows of two fields, and four days in the lists.
    visits = [("2026-10-29T10:00", "v1"), ("2026-10-30T10:00", "v1"), ("2026-10-31T10:00", "v1"),
              ("2026-10-31T11:00", "v2")]  # fmt: skip
    sub = make_subscription([(when, who, "a1", "page", "p1") for when, who in visits])
    series = {"period": "dayRange", "first": "now()", "count": -3}
    pipeline = [
        {"source": {"events": None, "timeSeries": series}},
        *([{"eval": {"forced": "1"}}] if row_wise else []),
        {"group": {"group": ["visitorId"], "fields": {"days": {"list": "day"}}}},
    ]
    body = {"request": {"pipeline": pipeline}}
    rows = run_aggregation(body, sub, limits=Limits(max_values=8))["results"]
    assert [len(row["days"]) for row in rows] == [3, 1]
    with pytest.raises(AggregationError) as caught:
        run_aggregation(body, sub, limits=Limits(max_values=7))
    assert caught.value.status == 413
