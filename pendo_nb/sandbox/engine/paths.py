"""Dotted field paths into JSON-like rows (reference 3.1: "anywhere a field name is needed, a
dotted path can be used; writing to a dotted path creates missing intermediate objects").

A path segment that is an integer (``"steps.0.id"``) indexes a list; negative integers count from
the end, as expression indexing does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .values import hashable


def split_path(path: str) -> tuple[str, ...]:
    """The segments of a dotted path (``"a.b.c"`` -> ``("a", "b", "c")``)."""
    return tuple(path.split("."))


def get_path(row: Any, path: str) -> Any:
    """The value at a dotted ``path`` inside ``row``, or ``None`` when any step is missing.

    Parameters
    ----------
    row : dict
        A JSON-like object.
    path : str
        Field names joined by dots; an integer segment indexes a list.

    Returns
    -------
    Any
        The value, or ``None`` when a segment is absent or the value on the way is not an object.

    Examples
    --------
    >>> get_path({"metadata": {"auto": {"id": "v1"}}}, "metadata.auto.id")
    'v1'
    >>> get_path({"steps": [{"id": "s0"}, {"id": "s1"}]}, "steps.-1.id")
    's1'
    """
    if "." not in path:
        return row.get(path) if isinstance(row, dict) else None
    return get_segments(row, split_path(path))


def get_segments(row: Any, segments: tuple[str, ...]) -> Any:
    """Like :func:`get_path` with the path already split (the engine splits once per step)."""
    value = row
    for segment in segments:
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list):
            value = _list_item(value, segment)
        else:
            return None
        if value is None:
            return None
    return value


def column_at(rows: list[dict[str, Any]], segments: tuple[str, ...]) -> list[Any]:
    """:func:`get_segments` of every row, in order.

    A nested path is read a segment at a time across all rows, indexing in C: rows are big
    objects scattered in memory, and walking each row's path in turn costs about twice as much.
    Any row that needs the general walk (a missing step, a list position) sends the whole column
    to it.
    """
    if len(segments) == 1:
        key = segments[0]
        return [row.get(key) for row in rows]
    values: list[Any] = rows
    try:
        for segment in segments:
            values = [value[segment] for value in values]
    except (KeyError, TypeError, IndexError):
        return [get_segments(row, segments) for row in rows]
    return values


def _list_item(items: list[Any], segment: str) -> Any:
    try:
        index = int(segment)
    except ValueError:
        return None
    if -len(items) <= index < len(items):
        return items[index]
    return None


def set_path(row: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted ``path`` inside ``row``, creating missing intermediate objects.

    An intermediate value that is not an object (a number, a string, null) is replaced by a new
    object, as Pendo does when an ``eval`` writes below a scalar field.

    Parameters
    ----------
    row : dict
        The row to change in place.
    path : str
        Field names joined by dots.
    value : Any
        What to store.

    Examples
    --------
    >>> row = {"a": 1}
    >>> set_path(row, "b.c", 2)
    >>> row
    {'a': 1, 'b': {'c': 2}}
    """
    if "." not in path:
        row[path] = value
        return
    *parents, last = split_path(path)
    target = row
    for segment in parents:
        child = target.get(segment)
        if not isinstance(child, dict):
            child = {}
            target[segment] = child
        target = child
    target[last] = value


def id_at(row: dict[str, Any], field: str) -> Any:
    """The id in ``field`` for a lookup, or ``None`` when it is a list or an object (no id)."""
    value = get_path(row, field)
    return None if isinstance(value, (list, dict)) else value


def key_reader(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """``row -> (hashable key, raw values)`` for grouping, joining and merging on fields."""

    def read(row: dict[str, Any]) -> tuple[Any, ...]:
        values = tuple(get_path(row, name) for name in names)
        return tuple(hashable(v) for v in values), values

    return read
