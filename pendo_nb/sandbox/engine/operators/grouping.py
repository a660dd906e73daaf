"""Steps that combine rows by key: ``group``, ``reduce`` and ``join``.

``group`` and ``reduce`` run on columns when their input is a :class:`ColumnBatch` and every key
and aggregator argument is a plain column (numeric, or any column for ``count`` and ``list``)
(:func:`_group_columns`), else row by row.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..aggregators import Aggregators, compile_aggregators
from ..errors import AggregationError
from ..expressions import compile_expression
from ..paths import key_reader
from ..rows import ColumnBatch, FreshRows, Rows, as_records, write_path
from ..run_state import RunState, StepEnv, StepFunction
from ..step_arguments import expect_object, field_names, no_unknown_keys, whole_number
from ..values import hashable
from ._common import charge


def compile_group(arg: Any, env: StepEnv, where: str) -> GroupStep:
    """``{"group": {"group": [...], "fields": ..., "forceKeys": {...}}}``.

    One row per distinct combination of the group fields (in order of first appearance) with the
    aggregators' outputs; without ``fields`` just the combinations. ``forceKeys`` maps a group
    field to an expression giving the values that must appear even with no rows: each missing
    combination gets a row with the aggregators' empty values (other group fields null).
    """
    spec = expect_object(arg, where)
    no_unknown_keys(spec, {"group", "fields", "forceKeys"}, where)
    keys = field_names(spec.get("group"), f"{where}.group")
    aggregators = compile_aggregators(spec.get("fields") or {}, env.ctx, f"{where}.fields")
    forced = _forced_keys(spec.get("forceKeys"), keys, env, f"{where}.forceKeys")
    return GroupStep(tuple(keys), aggregators, forced, where)


@dataclass(frozen=True)
class GroupStep:
    """A compiled ``group`` step; what it groups by is kept so that the event source before it
    can do it instead (``sources.SourceReader.grouping``)."""

    keys: tuple[str, ...]
    aggregators: Aggregators
    forced: dict[str, list[Any]]
    where: str

    def __call__(self, rows: Rows, state: RunState) -> Rows:
        keys, aggregators, where = list(self.keys), self.aggregators, self.where
        if isinstance(rows, ColumnBatch) and not self.forced:
            grouped = _group_columns(rows, keys, aggregators, state, where)
            if grouped is not None:
                return grouped
        read_key = key_reader(keys)
        groups: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}
        for row in as_records(rows):
            key, values = read_key(row)
            entry = groups.get(key)
            if entry is None:
                groups[key] = (values, [row])
            else:
                entry[1].append(row)
        out = [_group_row(keys, values, _charged(aggregators.reduce(members), state, where))
               for values, members in groups.values()]  # fmt: skip
        if self.forced:
            out.extend(_forced_rows(self.forced, keys, groups, aggregators))
        return out


def _charged(aggregates: dict[str, Any], state: RunState, where: str) -> dict[str, Any]:
    """``aggregates``, once their lists (``list``, ``concat``...) are charged to the run."""
    for value in aggregates.values():
        charge(value, state, where)
    return aggregates


def _group_row(
    keys: list[str], values: tuple[Any, ...], aggregates: dict[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in zip(keys, values, strict=True):
        write_path(row, name, value)
    for name, value in aggregates.items():
        write_path(row, name, value)
    return row


def _forced_keys(spec: Any, keys: list[str], env: StepEnv, where: str) -> dict[str, list[Any]]:
    if spec is None:
        return {}
    spec = expect_object(spec, where)
    forced = {}
    for name, text in spec.items():
        if name not in keys:
            raise AggregationError(f"{where}.{name}: not one of the group fields")
        values = compile_expression(text, env.ctx, f"{where}.{name}")({})
        if not isinstance(values, list):
            raise AggregationError(f'{where}.{name}: must give a list, e.g. list("a", "b")')
        forced[name] = values
    # The forced rows are every combination of the lists: refuse a product past the row cap
    # before building it (three lists of a thousand values would be a billion rows).
    combinations = math.prod(len(values) for values in forced.values())
    if combinations > env.limits.max_rows:
        raise AggregationError(
            f"{where}: {combinations:,} combinations of forced keys, more than "
            f"{env.limits.max_rows:,} rows; force fewer values",
            status=413,
        )
    return forced


def _forced_rows(
    forced: dict[str, list[Any]],
    keys: list[str],
    groups: dict[tuple[Any, ...], Any],
    aggregators: Aggregators,
) -> list[dict[str, Any]]:
    positions = [keys.index(name) for name in forced]
    present = {tuple(key[p] for p in positions) for key in groups}
    empty = aggregators.reduce([])
    out = []
    for combination in itertools.product(*forced.values()):
        if tuple(hashable(v) for v in combination) in present:
            continue
        values = [None] * len(keys)
        for position, value in zip(positions, combination, strict=True):
            values[position] = value
        present.add(tuple(hashable(v) for v in combination))
        out.append(_group_row(keys, tuple(values), dict(empty)))
    return out


def compile_reduce(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"reduce": {"out": {"sum": "x"}}}`` (or the list form): all rows into one row.

    With no input rows the result is one row of the aggregators' empty values (like ``count``).
    """
    aggregators = compile_aggregators(arg, env.ctx, where)

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch) and len(rows):
            grouped = _group_columns(rows, [], aggregators, state, where)
            if grouped is not None:
                return grouped
        return [_group_row([], (), _charged(aggregators.reduce(as_records(rows)), state, where))]

    return run


# Aggregators whose pandas counterpart gives the same values as the row-wise one on a fully
# populated numeric column (the row-wise ones skip nulls; a batch has none).
_NUMERIC_COLUMN_AGGREGATORS = {"sum": "sum", "min": "min", "max": "max", "avg": "mean",
                               "mean": "mean", "median": "median", "first": "first"}  # fmt: skip


_FLOAT_RESULTS = {"sum", "avg", "mean", "median"}  # the row-wise versions return floats


def _group_columns(
    batch: ColumnBatch, keys: list[str], aggregators: Aggregators, state: RunState, where: str
) -> Rows | None:
    """The rows of the row-wise group, computed on columns; ``None`` when a key or an aggregator
    argument is not a plain column of the batch, or an output reuses a key's name (then the
    caller groups row by row).

    Rows holding ``list`` outputs come back as :class:`FreshRows` (a batch holds scalars only),
    each list charged to the run as the row-wise group charges it.
    """
    frame = batch.frame
    if not batch.has_fields(keys) or set(keys) & set(aggregators.output_names):
        return None
    for item in aggregators.items:
        if item.kind == "count" and item.field_path is None:
            continue
        if item.field_path not in frame.columns:
            return None
        column = frame[item.field_path]
        numeric = pd.api.types.is_numeric_dtype(column)
        if item.kind == "list":  # of numbers or strings, not of a batch's shared objects
            usable = numeric or isinstance(column.dtype, pd.CategoricalDtype)
        else:
            usable = item.kind == "count" or (item.kind in _NUMERIC_COLUMN_AGGREGATORS and numeric)
        if not usable:
            return None
    # Strings group by their category codes (much faster than by the categoricals themselves).
    by: list[Any] = [_codes_if_categorical(frame[key]) for key in keys]
    by = by or [np.zeros(len(frame), np.int8)]
    grouped = frame.groupby(by, sort=False)
    sizes = grouped.size()
    columns: dict[str, Any] = {}
    listed = 0  # values in the lists made (each row's value goes into one list)
    lists = False
    for item in aggregators.items:
        values: pd.Series[Any]
        if item.field_path is None:  # a count of rows (other aggregators name a field)
            values = sizes
        elif item.kind == "count":
            values = grouped[item.field_path].nunique()
        elif item.kind == "list":
            made = _lists(frame[item.field_path], grouped, state, where)
            values = pd.Series(made, index=sizes.index, dtype=object)
            listed += len(frame)
            lists = True
        else:
            values = grouped[item.field_path].agg(_NUMERIC_COLUMN_AGGREGATORS[item.kind])
            if item.kind in _FLOAT_RESULTS:
                values = values.astype(np.float64)
        columns[item.output] = values
    result = pd.DataFrame(columns, index=sizes.index)
    if keys:
        result = result.reset_index()
        for key in keys:
            column = frame[key]
            if isinstance(column.dtype, pd.CategoricalDtype):
                result[key] = pd.Categorical.from_codes(result[key], column.cat.categories)
        result = result[[*keys, *columns]]
    else:
        result = result.reset_index(drop=True)
    if any("." in name for name in aggregators.output_names):
        return [_group_row([], (), row) for row in ColumnBatch(result).records()]  # nest outputs
    if lists:
        return FreshRows(ColumnBatch(result).records(), result.size + listed)
    return ColumnBatch(result)


def _lists(column: pd.Series[Any], grouped: Any, state: RunState, where: str) -> list[list[Any]]:
    """Each group's values of ``column`` in row order, as plain Python lists, in group order,
    charged to the run as the row-wise ``list`` charges them (one value each).

    A stable sort by group number puts every group's rows together in their order; one
    ``tolist`` then unboxes all values at once, and slicing cuts it into the groups' lists.
    """
    numbers = grouped.ngroup().to_numpy()
    order = np.argsort(numbers, kind="stable")
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = np.asarray(column.cat.categories, dtype=object)
        values = labels[column.cat.codes.to_numpy()[order]].tolist()
    else:
        values = column.to_numpy()[order].tolist()
    state.store(values, where)
    bounds = np.zeros(grouped.ngroups + 1, np.int64)
    np.cumsum(np.bincount(numbers, minlength=grouped.ngroups), out=bounds[1:])
    return [values[start:end] for start, end in itertools.pairwise(bounds.tolist())]


def _codes_if_categorical(column: pd.Series[Any]) -> pd.Series[Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes  # a new Series at each access: naming it changes no column
        codes.name = column.name
        return codes
    return column


def compile_join(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"join": {"fields": ["visitorId"], "width": 2}}``: merge rows that share the key fields.

    Once ``width`` rows of a key have arrived their merge is emitted and the next row of that key
    starts a new one. Rows still incomplete at the end are emitted then, in order of first
    arrival, so no data is lost. On a field collision the later row's value wins. Without
    ``width`` all rows of a key merge into one.
    """
    spec = expect_object(arg, where)
    no_unknown_keys(spec, {"fields", "width"}, where)
    keys = field_names(spec.get("fields"), f"{where}.fields")
    width = spec.get("width")
    if width is not None:
        width = whole_number(width, f"{where}.width", minimum=2)
    read_key = key_reader(keys)

    def run(rows: Rows, state: RunState) -> Rows:
        out = []
        pending: dict[tuple[Any, ...], list[Any]] = {}  # key -> [merged row, rows so far]
        for row in as_records(rows):
            key, _ = read_key(row)
            entry = pending.get(key)
            if entry is None:
                entry = pending[key] = [{}, 0]
            entry[0].update(row)
            entry[1] += 1
            if width is not None and entry[1] == width:
                out.append(entry[0])
                del pending[key]
        out.extend(merged for merged, _ in pending.values())
        return out

    return run
