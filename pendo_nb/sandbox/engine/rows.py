"""The shapes rows travel in between pipeline steps.

Most steps work on a ``list[dict]`` of JSON-like rows. The grouped event sources produce hundreds of
thousands of flat, fully populated rows, so they hand over a :class:`ColumnBatch` instead: the same
rows held column-wise in a DataFrame. A step that can do its work on whole columns (``group``,
``reduce``, ``select``, ``sort``, ``limit``, ``count``, ``cat``) keeps the batch; any other step
calls :func:`as_records` and sees ordinary dicts. Either way the step computes the same rows.

Two more shapes spare copies of rows nobody writes to. Object sources hand over the subscription's
own objects as :class:`SharedRows`, copied only when a step asks for records it may change. A
``select`` of plain field copies gives :class:`ValueColumns`, one list of values per output field,
which ``unwind``, ``limit``, ``count`` and ``cat`` keep column-wise too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import orjson
import pandas as pd

from .errors import AggregationError
from .paths import split_path


@dataclass(frozen=True)
class ColumnBatch:
    """Rows held column-wise: one DataFrame column per top-level field, no missing values.

    String dimensions may be categorical columns; numbers are int64/float64 columns.
    """

    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)

    def has_fields(self, names: list[str] | tuple[str, ...]) -> bool:
        """Whether every name is a column (a dotted path never is: batches are flat)."""
        return all(name in self.frame.columns for name in names)

    def keep_by_label(
        self, name: str, keep: Callable[[pd.Index], np.ndarray]
    ) -> ColumnBatch | None:
        """The rows whose string field ``name`` passes ``keep``, which decides the distinct
        strings the rows hold all at once (one bool each); ``None`` when the field is not a
        string (categorical) column."""
        column = self.frame.get(name)
        if column is None or not isinstance(column.dtype, pd.CategoricalDtype):
            return None
        codes = column.cat.codes.to_numpy()
        labels = column.cat.categories
        # Only the strings the rows hold are decided (a batch's categories can be every visitor).
        present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
        verdicts = np.zeros(len(labels), dtype=bool)
        verdicts[present] = keep(labels[present])
        return ColumnBatch(self.frame[verdicts[codes]])

    def records(self) -> list[dict[str, Any]]:
        """The rows as fresh dicts with plain Python values (``tolist`` unboxes numpy scalars)."""
        names = list(self.frame.columns)
        columns = [_plain_values(column) for _, column in self.frame.items()]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def iter_records(self, chunk_rows: int = 50_000) -> Iterator[dict[str, Any]]:
        """The rows as dicts, made a chunk at a time: a step that keeps few of them (``filter``)
        or makes smaller ones (``select``) never holds every row as a dict at once."""
        for start in range(0, len(self.frame), chunk_rows):
            yield from ColumnBatch(self.frame.iloc[start : start + chunk_rows]).records()


def _plain_values(column: pd.Series) -> list[Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = np.asarray(column.cat.categories, dtype=object)
        values: list[Any] = labels[column.cat.codes.to_numpy()].tolist()
        return values
    return column.to_numpy().tolist()


class SharedRows(list[Any]):
    """A source's rows as the subscription holds them (a list of its own dicts).

    Nothing may write into them: :func:`as_records` and :func:`iter_records` hand out fresh
    top-level copies, so only steps that may change a row pay for copying it (a ``select`` reads
    its values straight from the subscription's objects).
    """


class FreshRows(list[Any]):
    """Rows a step has just made from columns: their values are scalars or new lists of
    scalars, shared with nothing, and ``values`` counts every value they write out.

    As a pipeline's result they need neither measuring nor copying. :func:`as_records` hands a
    step a plain list of them, so rows a step changes are never taken for fresh ones.
    """

    def __init__(self, rows: list[dict[str, Any]], values: int) -> None:
        super().__init__(rows)
        self.values = values


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True)
class ValueColumns:
    """Rows held as one Python list of values per top-level field, in field order.

    Values are as in dict rows: ``None`` for a missing field, and lists or objects may be shared
    with the subscription (so results holding any are copied on the way out).
    """

    names: tuple[str, ...]
    columns: tuple[list[Any], ...]

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def records(self) -> list[dict[str, Any]]:
        """The rows as new dicts."""
        names = self.names
        return [dict(zip(names, values, strict=True)) for values in zip(*self.columns, strict=True)]

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """The rows as new dicts, made one at a time."""
        names = self.names
        return (dict(zip(names, values, strict=True)) for values in zip(*self.columns, strict=True))

    def value_count(self) -> int | None:
        """How many values the rows write out when every value is immutable, else ``None``
        (lists and objects, possibly shared with the subscription, need measuring and copying).
        """
        if any(not set(map(type, column)) <= _SCALAR_TYPES for column in self.columns):
            return None
        return len(self) * len(self.names)

    def head(self, count: int) -> ValueColumns:
        """The first ``count`` rows."""
        return ValueColumns(self.names, tuple(column[:count] for column in self.columns))


Rows: TypeAlias = "list[dict[str, Any]] | ColumnBatch | ValueColumns"


def as_records(rows: Rows) -> list[dict[str, Any]]:
    """The rows as a list of dicts a step may change (a list of its own dicts is returned as
    is; other shapes give new dicts)."""
    if isinstance(rows, (ColumnBatch, ValueColumns)):
        return rows.records()
    if isinstance(rows, SharedRows):
        return fresh_rows(rows)
    if isinstance(rows, FreshRows):
        return list(rows)
    return rows


def iter_records(rows: Rows) -> Iterable[dict[str, Any]]:
    """The rows one dict at a time, as :func:`as_records` gives them (made as they are asked
    for)."""
    if isinstance(rows, (ColumnBatch, ValueColumns)):
        return rows.iter_records()
    if isinstance(rows, SharedRows):
        return map(dict, rows)
    return rows


def fresh_rows(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New top-level dicts of the rows; nested objects stay shared (see ``write_path``)."""
    return [dict(obj) for obj in objects]


def deep_copy(value: Any) -> Any:
    """A copy of a JSON-like value that shares nothing with the original.

    Results are copied once as they leave the engine, so callers own them and no result aliases
    the subscription (which metadata writes change). A round trip through orjson is the fastest
    deep copy of plain JSON data. It also refuses what JSON cannot carry (integers beyond 64 bits,
    nesting deeper than 254 levels), which can only come from the request (``const`` rows).
    """
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError as error:
        raise AggregationError(f"a value cannot be written as JSON: {error}") from None


def write_path(row: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted ``path`` in ``row`` without changing any nested object in place.

    Inside a pipeline rows may share nested objects (rows unwound from one row, values merged
    into several rows), so every object on the way down is replaced by a shallow copy before it
    is written; missing or non-object intermediates become new objects, as with ``set_path``.
    """
    if "." not in path:
        row[path] = value
        return
    *parents, last = split_path(path)
    target = row
    for segment in parents:
        child = target.get(segment)
        child = dict(child) if isinstance(child, dict) else {}
        target[segment] = child
        target = child
    target[last] = value
