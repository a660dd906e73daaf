"""The plain reader: JSON rows already parsed into Python objects -> a DataFrame.

It reads small answers, and those pyarrow's columnar reader cannot type (a field that is a
number in one row and a string in another, objects inside lists); its columns and dtypes are
those the columnar reader gives the same rows (:mod:`pendo_nb.frames.columnar_reader`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from pendo_nb.frames.casts import finish_frame
from pendo_nb.frames.dtypes import TEXT_DTYPE

__all__ = ["infer_array", "rows_of", "rows_to_frame"]


def rows_to_frame(
    rows: Sequence[Mapping[str, Any]],
    *,
    tz: str = "UTC",
    columns: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from JSON rows already parsed into Python objects.

    Parameters
    ----------
    rows : sequence of dict
        One JSON object per row.
    tz : str
        Time zone of the datetime columns.
    columns : iterable of str
        Columns the result must have even when no row holds them (e.g. the names a ``select``
        step produces), so an empty result keeps its shape.
    field_types : mapping, optional
        Column -> Pendo type (``string``, ``boolean``, ``integer``, ``float``, ``number``,
        ``time``), usually from
        :func:`~pendo_nb.frames.implied_columns.metadata_field_types`; ``epoch`` converts the
        column as an epoch-millisecond instant is converted, ``bucket`` as a period bucket (see
        :func:`~pendo_nb.frames.implied_columns.field_types_implied_by`).
    attrs : mapping, optional
        Provenance copied into ``df.attrs``.
    """
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(
                f"row {index} is a {type(row).__name__}, not a JSON object: {row!r:.80}"
            )
    flat_rows, order = _flatten_rows(rows)
    data = {name: infer_array([r.get(name) for r in flat_rows]) for name in order}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(flat_rows)))
    return finish_frame(frame, tz=tz, columns=columns, field_types=field_types, attrs=attrs)


def rows_of(document: Any, key: str | None) -> list[Any]:
    rows = document.get(key) if key is not None and isinstance(document, Mapping) else document
    if rows is None:
        return []  # Pendo has been seen to send "results": null for an empty result
    if not isinstance(rows, list):
        where = f"'{key}'" if key else "the answer"
        raise TypeError(f"expected a JSON array of rows in {where}, got {type(rows).__name__}")
    return rows


def _flatten_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Flatten each row to dotted keys, and the column order (first seen, grouped by parent)."""
    tree: dict[str, dict[str, Any]] = {}  # key -> subtree, in first-seen order
    leaves: set[str] = set()
    valued: set[str] = set()  # leaves that hold a value other than null somewhere
    flat_rows = []
    for row in rows:
        flat: dict[str, Any] = {}
        _flatten_into(row, "", flat, tree, leaves, valued)
        flat_rows.append(flat)
    order: list[str] = []
    _walk(tree, "", leaves, valued, order)
    return flat_rows, order


def _flatten_into(
    obj: Mapping[str, Any],
    prefix: str,
    out: dict[str, Any],
    tree: dict[str, Any],
    leaves: set[str],
    valued: set[str],
) -> None:
    for key, value in obj.items():
        name = prefix + key
        subtree = tree.get(key)
        if subtree is None:
            subtree = tree[key] = {}
        if isinstance(value, Mapping):
            _flatten_into(value, name + ".", out, subtree, leaves, valued)
        else:
            out[name] = value
            leaves.add(name)
            if value is not None:
                valued.add(name)


def _walk(
    tree: dict[str, Any], prefix: str, leaves: set[str], valued: set[str], order: list[str]
) -> None:
    for key, subtree in tree.items():
        name = prefix + key
        # An object that is null in some rows is only its children's columns, as the columnar
        # reader gives it (a null struct): no extra all-null column of the parent's name.
        if name in leaves and (name in valued or not subtree):
            order.append(name)
        _walk(subtree, name + ".", leaves, valued, order)


def infer_array(values: list[Any]) -> Any:
    """One column's values -> the nullable array the columnar reader would give them."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pd.array(values, dtype=object)
    if kinds == {bool}:
        return pd.array(values, dtype="boolean")
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values if v is not None):
        return pd.array(values, dtype="Int64")
    if kinds <= {int, float}:
        return pd.array(values, dtype="Float64")
    if kinds == {str}:
        return pd.array(values, dtype=TEXT_DTYPE)
    return pd.array(values, dtype=object)
