"""Pipeline operators (reference 3.5): one ``compile_<step>`` function per step type.

Each function checks the step's argument and returns ``run(rows, state) -> rows``. Steps never
change the list they are given (a ``fork`` hands the same list to every branch) and return a new
one; ``eval``, ``set`` and the expanding steps change rows in place, which is how Pendo shares a
row between fork branches. Rows share nested objects with each other and with the subscription
(``unwind`` copies only the top level, ``merge`` hands one inner value to several rows,
``bulkExpand`` attaches the subscription's own metadata), so every write goes through
``write_path``, which copies the objects on its way instead of changing them.

Choices where the reference is silent, each documented at its step: ``sort`` puts nulls first
ascending (last descending); ``join`` lets later rows' fields win and emits incomplete joins at the
end; ``merge`` lets the first inner row of a key win; ``reduce`` over no rows gives one row of the
aggregators' empty values; ``unwind`` treats a missing field as an empty list.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, Subscription

from .aggregators import Aggregators, compile_aggregators
from .errors import AggregationError
from .expressions import compile_expression
from .paths import get_path, split_path
from .rows import ColumnBatch, Rows, as_records, iter_records, write_path
from .timeseries import PERIOD_FIELDS
from .useragent import parse_user_agent
from .values import NUMBER_TYPES, hashable, values_equal

if TYPE_CHECKING:
    from .pipeline import RunState, StepEnv

StepFunction = Callable[[Rows, "RunState"], Rows]

#: Fields ``eval`` and ``set`` may not write: the period buckets of event rows (reference 3.9).
READ_ONLY_FIELDS = frozenset({*PERIOD_FIELDS.values(), "quarter"})

_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$-]*(?:\.[\w$-]+)*")


# ---------------------------------------------------------------------------------------------
# Argument checks shared by the steps


def _object(arg: Any, where: str, *, allow_empty: bool = False) -> dict:
    if not isinstance(arg, dict) or (not arg and not allow_empty):
        raise AggregationError(f"{where}: expected a non-empty object")
    return arg


def _field(value: Any, where: str) -> str:
    """A dotted field path (``visitorId``, ``metadata.agent.email``)."""
    if not isinstance(value, str) or not _FIELD_PATH.fullmatch(value):
        raise AggregationError(f"{where}: {value!r} is not a field name")
    return value


def _fields(value: Any, where: str) -> list[str]:
    """A field name or a non-empty list of them."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise AggregationError(f"{where}: expected a field name or a list of field names")
    return [_field(name, f"{where}[{i}]") for i, name in enumerate(names)]


def _whole_number(value: Any, where: str, *, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < minimum
    ):
        raise AggregationError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


def _known_keys(arg: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(arg) - allowed)
    if unknown:
        raise AggregationError(f"{where}: unknown field {unknown[0]!r}")


def _writable(name: str, where: str) -> str:
    if split_path(name)[0] in READ_ONLY_FIELDS:
        raise AggregationError(f"{where}: field {name!r} is read-only")
    return name


def _id_at(row: dict, field: str) -> Any:
    """The id in ``field`` for a lookup, or ``None`` when it is a list or an object (no id)."""
    value = get_path(row, field)
    return None if isinstance(value, (list, dict)) else value


def _key_reader(names: list[str]) -> Callable[[dict], tuple]:
    """``row -> (hashable key, raw values)`` for grouping, joining and merging on fields."""

    def read(row: dict) -> tuple:
        values = tuple(get_path(row, name) for name in names)
        return tuple(hashable(v) for v in values), values

    return read


# ---------------------------------------------------------------------------------------------
# Basic steps


def compile_filter(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"filter": "<expr>"}``: keep rows where the expression is true or a non-zero number
    (as ``&&`` reads numbers); null, false, strings and the rest drop the row."""
    holds = _condition(compile_expression(arg, env.ctx, where).evaluate)

    def run(rows: Rows, state: RunState) -> Rows:
        return [row for row in state.paced(iter_records(rows), where) if holds(row)]

    return run


# What eval/select/group/reduce charge to the run (RunState.store): lists, objects and long
# strings are what a request can make grow without bound, one row at a time. The hot loops skip
# the call for numbers, the commonest values.
_CONTAINER_TYPES = frozenset({list, dict})
_LONG_STRING = 64


def _charge(value: Any, state: RunState, where: str) -> None:
    kind = type(value)
    if kind in _CONTAINER_TYPES or (kind is str and len(value) >= _LONG_STRING):
        state.store(value, where)


def _condition(predicate: Callable[[dict], Any]) -> Callable[[dict], bool]:
    """A predicate read as ``filter`` reads it: true, or a number other than zero, holds."""

    def holds(row: dict) -> bool:
        value = predicate(row)
        return value is True or (type(value) in NUMBER_TYPES and value != 0)

    return holds


def compile_select(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"select": {"out": "<expr>", ...}}``: rows holding only these fields (null if missing)."""
    spec = _object(arg, where)
    outputs = [
        (name, compile_expression(text, env.ctx, f"{where}.{name}")) for name, text in spec.items()
    ]
    # Plain field copies into flat names can stay column-wise.
    renames = {name: expr.field_path for name, expr in outputs}
    column_copy = all(path is not None for path in renames.values()) and not any(
        "." in name for name in renames
    )

    def run(rows: Rows, state: RunState) -> Rows:
        if (
            column_copy
            and isinstance(rows, ColumnBatch)
            and rows.has_fields(list(renames.values()))
        ):
            frame = rows.frame
            return ColumnBatch(pd.DataFrame({name: frame[path] for name, path in renames.items()}))
        out = []
        for row in state.paced(iter_records(rows), where):
            new: dict = {}
            for name, expr in outputs:
                value = expr.evaluate(row)
                if type(value) is not int and type(value) is not float:
                    _charge(value, state, where)
                write_path(new, name, value)
            out.append(new)
        return out

    return run


def compile_eval(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"eval": {"out": "<expr>", ...}}``: add or replace fields, keep the rest.

    Every expression sees the row as it was before the step (Pendo leaves the order of one eval's
    assignments undefined, so none may depend on another). Read-only fields are refused.
    """
    spec = _object(arg, where)
    outputs = [
        (_writable(name, f"{where}.{name}"), compile_expression(text, env.ctx, f"{where}.{name}"))
        for name, text in spec.items()
    ]

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        for row in state.paced(records, where):
            values = [expr.evaluate(row) for _, expr in outputs]
            for (name, _), value in zip(outputs, values, strict=True):
                if type(value) is not int and type(value) is not float:
                    _charge(value, state, where)
                write_path(row, name, value)
        return list(records)

    return run


def compile_set(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"set": {"field": <constant>}}``: set fields to constant JSON values (not expressions)."""
    spec = _object(arg, where)
    for name in spec:
        _writable(_field(name, f"{where}.{name}"), f"{where}.{name}")

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
    field = _field(arg.removeprefix("!"), where)
    is_identified = compile_expression(f"identified({field})", env.ctx, where).evaluate

    def passes(row: dict) -> bool:
        return (is_identified(row) is True) == keep

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch) and "." not in field:
            kept = rows.keep_by_label(field, lambda visitor_id: passes({field: visitor_id}))
            if kept is not None:
                return kept
        return [row for row in iter_records(rows) if passes(row)]

    return run


def compile_limit(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"limit": N}``: the first N rows."""
    count = _whole_number(arg, where, minimum=0)

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch):
            return ColumnBatch(rows.frame.iloc[:count])
        return rows[:count]

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
        (_field(spec.removeprefix("-") if isinstance(spec, str) else spec, f"{where}[{i}]"),
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


def _order_key(value: Any) -> tuple:
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


# ---------------------------------------------------------------------------------------------
# group / reduce


def compile_group(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"group": {"group": [...], "fields": ..., "forceKeys": {...}}}``.

    One row per distinct combination of the group fields (in order of first appearance) with the
    aggregators' outputs; without ``fields`` just the combinations. ``forceKeys`` maps a group
    field to an expression giving the values that must appear even with no rows: each missing
    combination gets a row with the aggregators' empty values (other group fields null).
    """
    spec = _object(arg, where)
    _known_keys(spec, {"group", "fields", "forceKeys"}, where)
    keys = _fields(spec.get("group"), f"{where}.group")
    aggregators = compile_aggregators(spec.get("fields") or {}, env.ctx, f"{where}.fields")
    forced = _forced_keys(spec.get("forceKeys"), keys, env, f"{where}.forceKeys")
    read_key = _key_reader(keys)

    def run(rows: Rows, state: RunState) -> Rows:
        if isinstance(rows, ColumnBatch) and not forced:
            grouped = _group_columns(rows, keys, aggregators)
            if grouped is not None:
                return grouped
        groups: dict[tuple, tuple[tuple, list[dict]]] = {}
        for row in as_records(rows):
            key, values = read_key(row)
            entry = groups.get(key)
            if entry is None:
                groups[key] = (values, [row])
            else:
                entry[1].append(row)
        out = [_group_row(keys, values, _charged(aggregators.reduce(members), state, where))
               for values, members in groups.values()]  # fmt: skip
        if forced:
            out.extend(_forced_rows(forced, keys, groups, aggregators))
        return out

    return run


def _charged(aggregates: dict, state: RunState, where: str) -> dict:
    """``aggregates``, once their lists (``list``, ``concat``...) are charged to the run."""
    for value in aggregates.values():
        _charge(value, state, where)
    return aggregates


def _group_row(keys: list[str], values: tuple, aggregates: dict) -> dict:
    row: dict = {}
    for name, value in zip(keys, values, strict=True):
        write_path(row, name, value)
    for name, value in aggregates.items():
        write_path(row, name, value)
    return row


def _forced_keys(spec: Any, keys: list[str], env: StepEnv, where: str) -> dict[str, list]:
    if spec is None:
        return {}
    spec = _object(spec, where)
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
    forced: dict[str, list], keys: list[str], groups: dict, aggregators: Aggregators
) -> list[dict]:
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
            grouped = _group_columns(rows, [], aggregators)
            if grouped is not None:
                return grouped
        return [_group_row([], (), _charged(aggregators.reduce(as_records(rows)), state, where))]

    return run


# Aggregators whose pandas counterpart gives the same values as the row-wise one on a fully
# populated numeric column (the row-wise ones skip nulls; a batch has none).
_NUMERIC_COLUMN_AGGREGATORS = {"sum": "sum", "min": "min", "max": "max", "avg": "mean",
                               "mean": "mean", "median": "median", "first": "first"}  # fmt: skip
_FLOAT_RESULTS = {"sum", "avg", "mean", "median"}  # the row-wise versions return floats


def _group_columns(batch: ColumnBatch, keys: list[str], aggregators: Aggregators) -> Rows | None:
    """The rows of the row-wise group, computed on columns; ``None`` when a key or an aggregator
    argument is not a plain column of the batch, or an output reuses a key's name (then the
    caller groups row by row)."""
    frame = batch.frame
    if not batch.has_fields(keys) or set(keys) & set(aggregators.output_names):
        return None
    for item in aggregators.items:
        if item.kind == "count" and item.field_path is None:
            continue
        if item.field_path not in frame.columns:
            return None
        if item.kind != "count" and (
            item.kind not in _NUMERIC_COLUMN_AGGREGATORS
            or not pd.api.types.is_numeric_dtype(frame[item.field_path])
        ):
            return None
    # Strings group by their category codes (much faster than by the categoricals themselves).
    by = [_codes_if_categorical(frame[key]) for key in keys] or [np.zeros(len(frame), np.int8)]
    grouped = frame.groupby(by, sort=False)
    sizes = grouped.size()
    columns: dict[str, Any] = {}
    for item in aggregators.items:
        if item.kind == "count":
            values = sizes if item.field_path is None else grouped[item.field_path].nunique()
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
    return ColumnBatch(result)


def _codes_if_categorical(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.rename(column.name)
    return column


# ---------------------------------------------------------------------------------------------
# Pendo-specific steps


# Lookup kinds of bulkExpand/expand -> the Subscription attribute holding their objects.
_PEOPLE = {"visitor": "visitors", "account": "accounts"}
_CATALOGS = {"page": "pages", "feature": "features", "trackType": "track_types", "guide": "guides"}


def compile_bulk_expand(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"bulkExpand": {"out": {"visitor": "visitorId"}}}`` (or ``"account"``): attach the
    visitor's/account's metadata groups under ``out`` (``out.agent.email``); null if unknown."""
    return _compile_lookup_step(arg, env, where, tuple(_PEOPLE))


def compile_expand(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"expand": {"pageInfo": {"page": "pageId"}}}``: attach the page/feature/trackType/guide
    object whose id is in the field; null when there is none.

    ``visitor`` and ``account`` keys (reference 3.5 has them from [SKILL] only, L, with no output
    shape) attach what ``bulkExpand`` attaches, the metadata groups, so ``out.agent.email`` reads
    the same after either step.
    """
    return _compile_lookup_step(arg, env, where, (*_CATALOGS, *_PEOPLE))


def _compile_lookup_step(
    arg: Any, env: StepEnv, where: str, kinds: tuple[str, ...]
) -> StepFunction:
    """The step of ``bulkExpand`` and ``expand``: write each lookup's find under its output."""
    lookups = _lookups(arg, kinds, where)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        finders = {kind: _finder(sub, kind) for kind, _ in lookups.values()}
        for row in records:
            for out, (kind, field) in lookups.items():
                write_path(row, out, finders[kind](_id_at(row, field)))
        return list(records)

    return run


def _lookups(arg: Any, kinds: tuple[str, ...], where: str) -> dict[str, tuple[str, str]]:
    spec = _object(arg, where)
    lookups = {}
    for out, target in spec.items():
        _writable(_field(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(target, dict) or len(target) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"<kind>": "<idField>"}}')
        kind, field = next(iter(target.items()))
        if kind not in kinds:
            raise AggregationError(f"{where}.{out}: {kind!r} is not one of {', '.join(kinds)}")
        lookups[out] = (kind, _field(field, f"{where}.{out}.{kind}"))
    return lookups


def _finder(sub: Subscription, kind: str) -> Callable[[Any], Any]:
    """``id -> what a lookup of this kind attaches`` (``None`` for an unknown id): a visitor's or
    account's metadata groups, or a catalog object."""
    if kind in _PEOPLE:
        objects = getattr(sub, _PEOPLE[kind])

        def metadata(object_id: Any) -> Any:
            found = objects.get(object_id)
            return found.get("metadata") if isinstance(found, dict) else None

        return metadata
    return {obj["id"]: obj for obj in getattr(sub, _CATALOGS[kind])}.get


_ITEM_KINDS = {"pageId": (PAGE_LOAD, "pages"), "featureId": (CLICK, "features"),
               "trackTypeId": (TRACK, "track_types")}  # fmt: skip


def compile_item_seen(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"itemSeen": {"out": {"pageId": "<id>"}}}``: ``out.count`` and ``out.lastUsed`` (ms, null
    if never) of the row visitor's all-time use of that page/feature/track type."""
    spec = _object(arg, where)
    targets = {}
    for out, target in spec.items():
        _writable(_field(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(target, dict) or len(target) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"pageId": "<id>"}}')
        kind, object_id = next(iter(target.items()))
        if kind not in _ITEM_KINDS or not isinstance(object_id, str):
            raise AggregationError(
                f"{where}.{out}: expected one of {', '.join(_ITEM_KINDS)} with an id string"
            )
        targets[out] = (kind, object_id)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        visitor_index = {visitor_id: i for i, visitor_id in enumerate(sub.visitor_ids)}
        for out, (kind, object_id) in targets.items():
            counts, last_used = _item_use(sub, kind, object_id)
            for row in records:
                i = visitor_index.get(_id_at(row, "visitorId"))
                seen = i is not None and counts[i] > 0
                write_path(row, out, {"count": int(counts[i]) if seen else 0,
                                    "lastUsed": int(last_used[i]) if seen else None})  # fmt: skip
        return list(records)

    return run


def _item_use(sub: Subscription, kind: str, object_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Per visitor index: how many events hit the object, and the last one's time."""
    event_kind, catalog = _ITEM_KINDS[kind]
    positions = [i for i, obj in enumerate(getattr(sub, catalog)) if obj["id"] == object_id]
    table = sub.events
    hits = (table.kind == event_kind) & np.isin(table.object, positions)
    visitors = table.visitor[hits]
    counts = np.bincount(visitors, minlength=len(sub.visitor_ids))
    last_used = np.zeros(len(sub.visitor_ids), dtype=np.int64)
    np.maximum.at(last_used, visitors, table.ts[hits])
    return counts, last_used


def compile_segment(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"segment": {"id": "<segmentId>"}}``: keep rows whose ``visitorId`` (visitor segment) or
    ``accountId`` (account segment) belongs to the segment.

    The inline form ``{"segment": {"source": {"visitors": null}, "filter": "<expr>"}}`` (reference
    3.5 has it from [SKILL] only, L) defines the segment in place, read the way the sandbox's own
    segments are defined: the visitors (or, with ``{"accounts": null}``, the accounts) for which
    the filter holds, matched on ``visitorId`` (``accountId``). Other sources, source parameters
    and time series are refused: what they would mean for a segment is not known. Membership
    reads the filter as the ``filter`` step does (true or a non-zero number).
    """
    spec = _object(arg, where)
    if "id" in spec:
        _known_keys(spec, {"id"}, where)
        segment = next((s for s in env.subscription.segments if s.get("id") == spec["id"]), None)
        if segment is None:
            raise AggregationError(f"{where}.id: unknown segment {spec['id']!r}")
        kind, text = segment["kind"], segment["filter"]
        text_where = f"segment {spec['id']!r} filter"
    elif "source" in spec:
        _known_keys(spec, {"source", "filter"}, where)
        kind = _inline_segment_kind(spec["source"], f"{where}.source")
        if "filter" not in spec:
            raise AggregationError(f"{where}.filter: required, an expression over the {kind}s")
        text, text_where = spec["filter"], f"{where}.filter"
    else:
        raise AggregationError(
            f'{where}: expected {{"id": "<segmentId>"}} or '
            f'{{"source": {{"visitors": null}}, "filter": "<expression>"}}'
        )
    field = "visitorId" if kind == "visitor" else "accountId"
    is_member = _condition(compile_expression(text, env.ctx, text_where).evaluate)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        objects = sub.visitors if kind == "visitor" else sub.accounts
        members = {object_id for object_id, obj in objects.items() if is_member(obj)}
        return [row for row in iter_records(rows) if _id_at(row, field) in members]

    return run


def _inline_segment_kind(source: Any, where: str) -> str:
    """``"visitor"`` or ``"account"`` for an inline segment's ``{"visitors": null}`` source."""
    if isinstance(source, dict) and len(source) == 1:
        name, parameters = next(iter(source.items()))
        if name in ("visitors", "accounts") and parameters in (None, {}):
            return name.removesuffix("s")
    raise AggregationError(
        f'{where}: an inline segment is drawn from {{"visitors": null}} or {{"accounts": null}}'
    )


def compile_useragent(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"useragent": {"out": "userAgent"}}``: parse the field into ``{name, version, os}``."""
    spec = _object(arg, where)
    pairs = [(_writable(_field(out, f"{where}.{out}"), f"{where}.{out}"),
              _field(source, f"{where}.{out}")) for out, source in spec.items()]  # fmt: skip

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


# ---------------------------------------------------------------------------------------------
# Advanced steps


def compile_unwind(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"unwind": {"field": "list", "index": "i", "keepEmpty": false, "prefix": false}}``.

    One row per element of the list, the element in place of the list (with ``prefix`` the list of
    elements so far), its position in ``index``. A missing or null field counts as an empty list:
    with ``keepEmpty`` the row stays with the field (and index) null, else it is dropped. A value
    that is not a list is unwound as a list of itself.
    """
    spec = _object(arg, where)
    _known_keys(spec, {"field", "index", "keepEmpty", "prefix"}, where)
    field = _writable(_field(spec.get("field"), f"{where}.field"), f"{where}.field")
    index = spec.get("index")
    if index is not None:
        index = _writable(_field(index, f"{where}.index"), f"{where}.index")
    keep_empty, prefix = spec.get("keepEmpty", False), spec.get("prefix", False)
    for name, flag in (("keepEmpty", keep_empty), ("prefix", prefix)):
        if not isinstance(flag, bool):
            raise AggregationError(f"{where}.{name}: expected true or false")

    def run(rows: Rows, state: RunState) -> Rows:
        out = []
        budget = state.limits.max_rows
        for row in as_records(rows):
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
    spec = _object(arg, where)
    switches = []
    for out, by_input in spec.items():
        _writable(_field(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(by_input, dict) or len(by_input) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"<inputField>": [cases]}}')
        source, cases = next(iter(by_input.items()))
        _field(source, f"{where}.{out}")
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

    def matches(value: Any, tests: dict) -> bool:
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


def compile_fork(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"fork": [[steps], [steps]]}``: every row goes through every branch (the same row
    objects, so a change made in one branch shows in the others); outputs are concatenated."""
    branches = _branches(arg, env, where, with_source=False)

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        out: list[dict] = []
        for branch_where, branch in branches:
            out.extend(as_records(branch(records, state)))
            state.check(len(out), branch_where)
        return out

    return run


def compile_spawn(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"spawn": [[{"source": ...}, steps], ...]}``: independent pipelines, each with its own
    source, whose rows are concatenated."""
    branches = _branches(arg, env, where, with_source=True)

    def run(rows: Rows, state: RunState) -> Rows:
        out: list[dict] = []
        for branch_where, branch in branches:
            out.extend(as_records(branch([], state)))
            state.check(len(out), branch_where)
        return out

    return run


def _branches(arg: Any, env: StepEnv, where: str, *, with_source: bool) -> list:
    if not isinstance(arg, list) or not arg:
        raise AggregationError(f"{where}: expected a list of pipelines")
    branches = []
    for i, steps in enumerate(arg):
        if isinstance(steps, list) and not steps:
            raise AggregationError(f'{where}[{i}]: empty pipeline (use [{{"cat": null}}])')
        branch_where = f"{where}[{i}]"
        branches.append(
            (branch_where, env.compile_pipeline(steps, branch_where, with_source=with_source))
        )
    return branches


def compile_join(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"join": {"fields": ["visitorId"], "width": 2}}``: merge rows that share the key fields.

    Once ``width`` rows of a key have arrived their merge is emitted and the next row of that key
    starts a new one. Rows still incomplete at the end are emitted then, in order of first
    arrival, so no data is lost. On a field collision the later row's value wins. Without
    ``width`` all rows of a key merge into one.
    """
    spec = _object(arg, where)
    _known_keys(spec, {"fields", "width"}, where)
    keys = _fields(spec.get("fields"), f"{where}.fields")
    width = spec.get("width")
    if width is not None:
        width = _whole_number(width, f"{where}.width", minimum=2)
    read_key = _key_reader(keys)

    def run(rows: Rows, state: RunState) -> Rows:
        out = []
        pending: dict[tuple, list] = {}  # key -> [merged row, rows so far]
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


def compile_merge(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"merge": {"fields": ["k"], "mappings": {"out": "inner"}, "pipeline": [...]}}``.

    Runs the inner pipeline and copies fields of the inner row with the same key into each main row:
    the mapped ones, or with no ``mappings`` every inner field under its own name (``{}`` copies
    nothing). Every main row of a key gets the data; when the inner pipeline has several rows of a
    key the first one wins. Main rows without a match pass unchanged.
    """
    spec = _object(arg, where)
    _known_keys(spec, {"fields", "mappings", "pipeline"}, where)
    keys = _fields(spec.get("fields"), f"{where}.fields")
    mappings = spec.get("mappings")
    if mappings is not None:
        mappings = _object(mappings, f"{where}.mappings", allow_empty=True)
        for out, inner in mappings.items():
            _writable(_field(out, f"{where}.mappings.{out}"), f"{where}.mappings.{out}")
            _field(inner, f"{where}.mappings.{out}")
    if "pipeline" not in spec:
        raise AggregationError(f"{where}.pipeline: required")
    inner_pipeline = env.compile_pipeline(spec["pipeline"], f"{where}.pipeline", with_source=True)
    read_key = _key_reader(keys)

    def run(rows: Rows, state: RunState) -> Rows:
        index: dict[tuple, dict] = {}
        for inner_row in as_records(inner_pipeline([], state)):
            index.setdefault(read_key(inner_row)[0], inner_row)
        records = as_records(rows)
        for row in records:
            match = index.get(read_key(row)[0])
            if match is None:
                continue
            if mappings is None:
                for name, value in match.items():
                    row[name] = value
            else:
                for out, inner in mappings.items():
                    write_path(row, out, get_path(match, inner))
        return list(records)

    return run


#: Step type -> compile function (``source`` is handled by the interpreter).
OPERATORS: dict[str, Callable[[Any, StepEnv, str], StepFunction]] = {
    "filter": compile_filter,
    "select": compile_select,
    "eval": compile_eval,
    "set": compile_set,
    "identified": compile_identified,
    "limit": compile_limit,
    "count": compile_count,
    "cat": compile_cat,
    "sort": compile_sort,
    "group": compile_group,
    "reduce": compile_reduce,
    "bulkExpand": compile_bulk_expand,
    "expand": compile_expand,
    "itemSeen": compile_item_seen,
    "segment": compile_segment,
    "useragent": compile_useragent,
    "unwind": compile_unwind,
    "switch": compile_switch,
    "fork": compile_fork,
    "spawn": compile_spawn,
    "join": compile_join,
    "merge": compile_merge,
}
