"""Steps that filter, reshape and order rows: ``filter``, ``select``, ``eval``, ``set``,
``identified``, ``limit``, ``count``, ``cat``, ``sort``, ``useragent``, ``unwind``, ``switch``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AggregationError
from ..expressions import compile_expression
from ..functions import identified_ids
from ..paths import column_at, get_path, split_path
from ..rows import (
    ColumnBatch,
    Rows,
    SharedRows,
    ValueColumns,
    as_records,
    iter_records,
    write_path,
)
from ..run_state import RunState, StepEnv, StepFunction
from ..step_arguments import (
    expect_object,
    field_name,
    no_unknown_keys,
    whole_number,
    writable_field,
)
from ..useragent import parse_user_agent
from ..values import NUMBER_TYPES, values_equal
from ._common import as_condition, charge


def compile_filter(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"filter": "<expr>"}``: keep rows where the expression is true or a non-zero number
    (as ``&&`` reads numbers); null, false, strings and the rest drop the row."""
    holds = as_condition(compile_expression(arg, env.ctx, where).evaluate)

    def run(rows: Rows, state: RunState) -> Rows:
        return [row for row in state.paced(iter_records(rows), where) if holds(row)]

    return run


def compile_select(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"select": {"out": "<expr>", ...}}``: rows holding only these fields (null if missing)."""
    spec = expect_object(arg, where)
    outputs = [
        (name, compile_expression(text, env.ctx, f"{where}.{name}")) for name, text in spec.items()
    ]
    # Plain field copies into flat names can stay column-wise.
    renames = {name: expr.field_path for name, expr in outputs}
    copied_paths = [path for path in renames.values() if path is not None]
    column_copy = len(copied_paths) == len(renames) and not any("." in name for name in renames)
    segments = [split_path(path) for path in renames.values() if path is not None]
    readers = [(name, expr.evaluate) for name, expr in outputs]

    def run(rows: Rows, state: RunState) -> Rows:
        if column_copy and isinstance(rows, ColumnBatch) and rows.has_fields(copied_paths):
            frame = rows.frame
            return ColumnBatch(pd.DataFrame({name: frame[path] for name, path in renames.items()}))
        if column_copy and isinstance(rows, list):
            # Plain copies into flat names: a copy shares the row's own value (nothing new to
            # charge), and the rows are only read, so they stay column-wise until a step needs
            # dicts (~3x faster than a dict per row built field by field). A field read is never
            # slow, so the clock is read per column.
            columns = []
            for path in segments:
                columns.append(column_at(rows, path))
                state.check(len(rows), where)
            return ValueColumns(tuple(renames), tuple(columns))
        records = state.paced(iter_records(rows), where)
        if column_copy:
            return [{name: read(row) for name, read in readers} for row in records]
        out = []
        for row in records:
            new: dict[str, Any] = {}
            for name, expr in outputs:
                value = expr.evaluate(row)
                if type(value) is not int and type(value) is not float:
                    charge(value, state, where)
                write_path(new, name, value)
            out.append(new)
        return out

    return run


def compile_eval(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"eval": {"out": "<expr>", ...}}``: add or replace fields, keep the rest.

    Every expression sees the row as it was before the step (Pendo leaves the order of one eval's
    assignments undefined, so none may depend on another). Read-only fields are refused.
    """
    spec = expect_object(arg, where)
    outputs = [
        (
            writable_field(name, f"{where}.{name}"),
            compile_expression(text, env.ctx, f"{where}.{name}"),
        )
        for name, text in spec.items()
    ]

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        for row in state.paced(records, where):
            values = [expr.evaluate(row) for _, expr in outputs]
            for (name, _), value in zip(outputs, values, strict=True):
                if type(value) is not int and type(value) is not float:
                    charge(value, state, where)
                write_path(row, name, value)
        return list(records)

    return run


def compile_set(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"set": {"field": <constant>}}``: set fields to constant JSON values (not expressions)."""
    spec = expect_object(arg, where)
    for name in spec:
        writable_field(field_name(name, f"{where}.{name}"), f"{where}.{name}")

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        for row in records:
            for name, value in spec.items():
                write_path(row, name, value)
        return list(records)

    return run


def compile_identified(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"identified": "visitorId"}``: identified visitors only; ``"!visitorId"``: anonymous."""
    if not isinstance(arg, str):
        raise AggregationError(
            f"{where}: expected a field name such as 'visitorId' or '!visitorId'"
        )
    keep = not arg.startswith("!")
    field = field_name(arg.removeprefix("!"), where)
    is_identified = compile_expression(f"identified({field})", env.ctx, where).evaluate

    def passes(row: dict[str, Any]) -> bool:
        return (is_identified(row) is True) == keep

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch) and "." not in field:
            kept = rows.keep_by_label(field, lambda ids: identified_ids(ids) == keep)
            if kept is not None:
                return kept
        return [row for row in iter_records(rows) if passes(row)]

    return run


def compile_limit(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"limit": N}``: the first N rows."""
    count = whole_number(arg, where, minimum=0)

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch):
            return ColumnBatch(rows.frame.iloc[:count])
        if isinstance(rows, ValueColumns):
            return rows.head(count)
        return SharedRows(rows[:count]) if isinstance(rows, SharedRows) else rows[:count]

    return run


def compile_count(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"count": null}``: one row ``{"count": <number of rows>}``."""
    if arg not in (None, {}):
        raise AggregationError(f"{where}: expected null")
    return lambda rows, state: [{"count": len(rows)}]


def compile_cat(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"cat": null}``: pass the rows through unchanged."""
    return lambda rows, state: rows


def compile_sort(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"sort": ["field", "-other"]}``: stable multi-key sort, ``-`` for descending.

    Values of different types order as null < booleans < numbers < strings < lists < objects,
    so nulls come first ascending and last descending.
    """
    specs = [arg] if isinstance(arg, str) else arg
    if not isinstance(specs, list) or not specs:
        raise AggregationError(f"{where}: expected a list of field names")
    keys = [
        (field_name(spec.removeprefix("-") if isinstance(spec, str) else spec, f"{where}[{i}]"),
         isinstance(spec, str) and spec.startswith("-"))
        for i, spec in enumerate(specs)
    ]  # fmt: skip

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch) and rows.has_fields([name for name, _ in keys]):
            frame = rows.frame.sort_values(
                [name for name, _ in keys],
                ascending=[not descending for _, descending in keys],
                kind="stable",
                key=_sortable_column,
            )
            return ColumnBatch(frame)
        ordered = list(as_records(rows))
        for name, descending in reversed(keys):  # least significant key first; sorts are stable
            ordered.sort(key=lambda row: _order_key(get_path(row, name)), reverse=descending)
        return ordered

    return run


def _sortable_column(column: pd.Series) -> pd.Series:
    # Categorical columns order by category position; sort their strings instead.
    return column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column


def _order_key(value: Any) -> tuple[Any, ...]:
    kind = type(value)
    if value is None:
        return (0,)
    if kind is bool:
        return (1, value)
    if kind in NUMBER_TYPES:
        return (2, value)
    if kind is str:
        return (3, value)
    if kind is list:
        return (4, tuple(_order_key(item) for item in value))
    return (5,)


def compile_useragent(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"useragent": {"out": "userAgent"}}``: parse the field into ``{name, version, os}``."""
    spec = expect_object(arg, where)
    pairs = [(writable_field(field_name(out, f"{where}.{out}"), f"{where}.{out}"),
              field_name(source, f"{where}.{out}")) for out, source in spec.items()]  # fmt: skip

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        for row in records:
            for out, source in pairs:
                value = get_path(row, source)
                write_path(
                    row, out, dict(parse_user_agent(value)) if isinstance(value, str) else None
                )
        return list(records)

    return run


def compile_unwind(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"unwind": {"field": "list", "index": "i", "keepEmpty": false, "prefix": false}}``.

    One row per element of the list, the element in place of the list (with ``prefix`` the list of
    elements so far), its position in ``index``. A missing or null field counts as an empty list:
    with ``keepEmpty`` the row stays with the field (and index) null, else it is dropped. A value
    that is not a list is unwound as a list of itself.
    """
    spec = expect_object(arg, where)
    no_unknown_keys(spec, {"field", "index", "keepEmpty", "prefix"}, where)
    field = writable_field(field_name(spec.get("field"), f"{where}.field"), f"{where}.field")
    index = spec.get("index")
    if index is not None:
        index = writable_field(field_name(index, f"{where}.index"), f"{where}.index")
    keep_empty, prefix = spec.get("keepEmpty", False), spec.get("prefix", False)
    for name, flag in (("keepEmpty", keep_empty), ("prefix", prefix)):
        if not isinstance(flag, bool):
            raise AggregationError(f"{where}.{name}: expected true or false")
    # A top-level field and index, without prefix lists or kept empty rows (the common case),
    # take a tight loop: a top-level write replaces no nested object, so a shallow copy is all
    # write_path would do.
    flat = not prefix and not keep_empty and "." not in field and "." not in (index or "")

    def run(rows: Rows, state: RunState) -> Rows:
        if flat and isinstance(rows, ValueColumns) and field in rows.names:
            return _unwind_columns(rows, field, index, state, where)
        records = as_records(rows)
        if flat:
            return _unwind_top_level(records, field, index, state, where)
        out = []
        budget = state.limits.max_rows
        for row in records:
            items = get_path(row, field)
            if items is None:
                items = []
            elif not isinstance(items, list):
                items = [items]
            if not items:
                if keep_empty:
                    write_path(row, field, None)
                    if index is not None:
                        write_path(row, index, None)
                    out.append(row)
                continue
            # Prefix lists grow quadratically; count their elements against the row budget.
            budget -= len(items) * (len(items) + 1) // 2 if prefix else len(items)
            state.check(state.limits.max_rows - budget, where)
            for position in range(len(items)):
                copy = dict(row)
                write_path(copy, field, items[: position + 1] if prefix else items[position])
                if index is not None:
                    write_path(copy, index, position)
                out.append(copy)
        return out

    return run


def _unwind_top_level(
    records: list[dict[str, Any]], field: str, index: str | None, state: RunState, where: str
) -> list[dict[str, Any]]:
    # copy() and item stores beat both write_path calls and a {**row, ...} display per element.
    out: list[dict[str, Any]] = []
    append, most = out.append, state.limits.max_rows
    for row in records:
        items = row.get(field)
        if type(items) is not list:
            items = [] if items is None else [items]
        for position, item in enumerate(items):
            copy = row.copy()
            copy[field] = item
            if index is not None:
                copy[index] = position
            append(copy)
        if len(out) > most:  # the run's row budget bounds the step as it grows
            state.check(len(out), where)
    return out


def _unwind_columns(
    rows: ValueColumns, field: str, index: str | None, state: RunState, where: str
) -> ValueColumns:
    # The rows _unwind_top_level makes, column by column: each other column repeats its value
    # once per element (numpy's repeat over object arrays), and the index counts within a row.
    items_at = rows.names.index(field)
    lists = rows.columns[items_at]
    if set(map(type, lists)) != {list}:  # null or a single value stands for a list of itself
        lists = [[] if items is None else [items] if type(items) is not list else items
                 for items in lists]  # fmt: skip
    repeats = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
    state.check(int(repeats.sum()), where)  # the run's row budget, before any row is made
    elements = list(itertools.chain.from_iterable(lists))
    columns = [
        elements if at == items_at else np.repeat(_object_array(column), repeats).tolist()
        for at, column in enumerate(rows.columns)
    ]
    names = list(rows.names)
    if index is not None:
        starts = np.repeat(np.cumsum(repeats) - repeats, repeats)
        positions = (np.arange(len(elements), dtype=np.intp) - starts).tolist()
        if index in names:
            columns[names.index(index)] = positions
        else:
            names.append(index)
            columns.append(positions)
    return ValueColumns(tuple(names), tuple(columns))


def _object_array(values: list[Any]) -> np.ndarray:
    # fromiter keeps each value whole (np.array would turn equal-length lists into a 2-D array).
    return np.fromiter(values, dtype=object, count=len(values))


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": values_equal,
    "!=": lambda a, b: not values_equal(a, b),
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def compile_switch(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"switch": {"out": {"input": [{"value": "small", "<": 10}, ...]}}}``.

    ``out`` gets the ``value`` of the first case whose every comparison holds for the input (a case
    with no comparison always holds). Rows with a missing input or no matching case are dropped.
    ``<``-style comparisons only hold between two numbers or two strings.
    """
    spec = expect_object(arg, where)
    switches = []
    for out, by_input in spec.items():
        writable_field(field_name(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(by_input, dict) or len(by_input) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"<inputField>": [cases]}}')
        source, cases = next(iter(by_input.items()))
        field_name(source, f"{where}.{out}")
        if not isinstance(cases, list) or not cases:
            raise AggregationError(f"{where}.{out}.{source}: expected a non-empty list of cases")
        checked = []
        for i, case in enumerate(cases):
            case_where = f"{where}.{out}.{source}[{i}]"
            if not isinstance(case, dict) or "value" not in case:
                raise AggregationError(f"{case_where}: a case is an object with a 'value'")
            tests = {op: bound for op, bound in case.items() if op != "value"}
            for op in tests:
                if op not in _COMPARATORS:
                    raise AggregationError(f"{case_where}: unknown comparison {op!r}")
            checked.append((case["value"], tests))
        switches.append((out, source, checked))

    def matches(value: Any, tests: dict[str, Any]) -> bool:
        for op, bound in tests.items():
            if op in ("==", "!="):
                if not _COMPARATORS[op](value, bound):
                    return False
            elif not _comparable(value, bound) or not _COMPARATORS[op](value, bound):
                return False
        return True

    def run(rows: Rows, state: RunState) -> Rows:
        out_rows = []
        for row in iter_records(rows):
            chosen = []
            for out, source, cases in switches:
                value = get_path(row, source)
                case_value = next(
                    (v for v, tests in cases if value is not None and matches(value, tests)),
                    _NO_MATCH,
                )
                if case_value is _NO_MATCH:
                    break
                chosen.append((out, case_value))
            else:
                for out, case_value in chosen:
                    write_path(row, out, case_value)
                out_rows.append(row)
        return out_rows

    return run


_NO_MATCH = object()


def _comparable(a: Any, b: Any) -> bool:
    numbers = type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES
    return numbers or (isinstance(a, str) and isinstance(b, str))
