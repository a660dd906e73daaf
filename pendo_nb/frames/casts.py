"""Giving a frame's columns their final types, whichever reader built it.

A column named in ``field_types`` is cast to its schema type (``string``, ``boolean``,
``integer``, ``float``, ``number``, ``time``; ``epoch`` and ``bucket`` convert it as a field so
named is converted); a value that does not fit becomes NA, is listed in
``df.attrs["uncast_values"]`` and announced with a :class:`CastWarning`. Other columns named like
an epoch-ms instant or a period bucket (:data:`~pendo_nb.frames.field_types.EPOCH_MS_FIELDS`,
:data:`~pendo_nb.frames.field_types.BUCKET_MS_FIELDS`) become datetimes when their values look
like epoch milliseconds. :func:`finish_frame` also adds the columns the request implies and the
provenance in ``df.attrs``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.frames import times
from pendo_nb.frames.dtypes import TEXT_DTYPE, TIME_UNIT
from pendo_nb.frames.field_types import BUCKET_MS_FIELDS, EPOCH_MS_FIELDS

__all__ = ["INTEGER_TEXT", "CastWarning", "ColumnTyping", "finish_frame"]

#: Text that is a whole number (a CSV cell, a metadata value sent as text).
INTEGER_TEXT = re.compile(r"[-+]?\d+")

# Epoch-ms fields whose values are all below this (3 March 1973) are left as numbers: a user's
# own `eval` may call a month number "month".
_PLAUSIBLE_EPOCH_MS = 1e11


class CastWarning(UserWarning):
    """Some values did not fit their field's schema type (see ``df.attrs['uncast_values']``)."""


class ColumnTyping:
    """Gives columns their final types: their schema type (``field_types``), or datetimes for
    epoch-ms and bucket fields named so; notes the values that did not fit, by column."""

    def __init__(self, field_types: Mapping[str, str] | None, tz: str) -> None:
        self.kinds = dict(field_types or {})
        self.tz = tz
        self.done: set[str] = set()
        self.uncast: dict[str, dict[int, Any]] = {}

    def __call__(self, name: str, series: pd.Series) -> pd.Series:
        """``series``, the column ``name``, with its final type."""
        self.done.add(name)
        kind = self.kinds.get(name)
        if kind:
            series, failures = _cast(series, kind, self.tz)
            if kind == "time" and name.rpartition(".")[2] not in EPOCH_MS_FIELDS:
                series = times.calendar_days(series)  # dates typed "time": as buckets are
            if failures:
                self.uncast[name] = failures
        elif (leaf := name.rpartition(".")[2]) in EPOCH_MS_FIELDS or leaf in BUCKET_MS_FIELDS:
            series = _epoch_to_datetime(series, self.tz, bucket=leaf in BUCKET_MS_FIELDS)
        return series


def finish_frame(
    frame: pd.DataFrame,
    *,
    tz: str,
    columns: Iterable[str],
    field_types: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    typing: ColumnTyping | None = None,
) -> pd.DataFrame:
    """Add the implied columns, type the columns ``typing`` has not typed yet, set ``attrs``."""
    typing = typing or ColumnTyping(field_types, tz)
    implied = list(dict.fromkeys(columns))
    for name in implied:
        if name not in frame.columns:
            frame[name] = pd.array([None] * len(frame), dtype=object)
    if implied:  # the request's own order first (a select's order), then whatever else came
        frame = frame[implied + [name for name in frame.columns if name not in set(implied)]]
    for name in frame.columns:
        if name not in typing.done:
            frame[name] = typing(name, frame[name])
    frame.attrs.update(attrs or {})
    uncast = {name: typing.uncast[name] for name in frame.columns if name in typing.uncast}
    if uncast:
        frame.attrs["uncast_values"] = uncast
        summary = ", ".join(f"{name} ({len(bad)})" for name, bad in uncast.items())
        warnings.warn(
            f"values that do not fit their schema type became NA: {summary}; "
            "the originals are in df.attrs['uncast_values']",
            CastWarning,
            stacklevel=3,
        )
    return frame


def _epoch_to_datetime(series: pd.Series, tz: str, *, bucket: bool = False) -> pd.Series:
    """Numbers that look like epoch ms -> datetimes (instants, or the calendar starts of
    buckets); anything else is left alone."""
    if not (pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series)):
        return series
    # Boolean masks, not copies of the numbers: a big column's conversion is its peak memory.
    if not series.notna().any():
        return series
    if ((series > -_PLAUSIBLE_EPOCH_MS) & (series < _PLAUSIBLE_EPOCH_MS)).any():
        return series
    return _ms_to_datetime(series, tz, bucket=bucket)


# Rows converted to datetimes at a time: pandas' conversion makes several arrays the size of its
# input, which for a whole big column would add megabytes to the peak memory of a frame.
_TIME_BLOCK = 1 << 16


def _ms_to_datetime(series: pd.Series, tz: str, *, bucket: bool = False) -> pd.Series:
    millis = series.to_numpy(dtype="float64", na_value=np.nan)
    convert = times.bucket_starts if bucket else times.instants
    if len(millis) <= _TIME_BLOCK:
        return pd.Series(convert(millis, tz), index=series.index, name=series.name)
    blocks = [convert(millis[i : i + _TIME_BLOCK], tz) for i in range(0, len(millis), _TIME_BLOCK)]
    del millis
    return pd.Series(blocks[0].append(blocks[1:]), index=series.index, name=series.name)


def _cast(series: pd.Series, kind: str, tz: str) -> tuple[pd.Series, dict[int, Any]]:
    """Cast to a schema type; values that do not fit become NA and are returned by row."""
    dtype = series.dtype
    if kind == "string" and dtype == TEXT_DTYPE:
        return series, {}
    if kind == "boolean" and isinstance(dtype, pd.BooleanDtype):
        return series, {}
    if kind in ("integer", "number") and isinstance(dtype, pd.Int64Dtype):
        return series, {}  # "number" keeps whole numbers whole
    if kind in ("float", "number") and isinstance(dtype, (pd.Int64Dtype, pd.Float64Dtype)):
        return series.astype("Float64"), {}
    if kind == "time" and isinstance(dtype, (pd.Int64Dtype, pd.Float64Dtype)):
        return _ms_to_datetime(series, tz), {}
    if kind == "bucket" and series.isna().all():  # no row shows it: still a bucket column
        return _ms_to_datetime(series, tz, bucket=True), {}
    if kind in ("epoch", "bucket"):  # named like such a field: converted as such a field is
        return _epoch_to_datetime(series, tz, bucket=kind == "bucket"), {}
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return series, {}  # a type this library does not know: keep what the values say
    # The converter's values by kind: datetimes, text, booleans or numbers (None where missing).
    converted: list[Any] = []
    failures: dict[int, Any] = {}
    for position, value in enumerate(series.tolist()):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            converted.append(None)
            continue
        try:
            converted.append(converter(value))
        except (TypeError, ValueError, OverflowError):
            converted.append(None)
            failures[series.index[position]] = value
    if kind == "time":
        # The unit and whole milliseconds of epoch-ms columns (an empty list would give seconds).
        stamps = pd.to_datetime(converted, utc=True).as_unit(TIME_UNIT).round("ms")
        return pd.Series(stamps.tz_convert(tz), index=series.index, name=series.name), failures
    target = {"string": TEXT_DTYPE, "boolean": "boolean", "integer": "Int64"}.get(kind, "Float64")
    return pd.Series(
        # pandas-stubs accept only literal dtype names; `target` is one of four dtypes.
        pd.array(converted, dtype=target),  # type: ignore[call-overload]
        index=series.index,
        name=series.name,
    ), failures


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(value)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(value)


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        value = float(value) if not INTEGER_TEXT.fullmatch(value.strip()) else int(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _to_time(value: Any) -> pd.Timestamp:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, (int, float)):
        return pd.Timestamp(value, unit="ms", tz="UTC")
    if isinstance(value, str):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    raise TypeError(value)


_CONVERTERS = {
    "string": _to_string,
    "boolean": _to_boolean,
    "integer": _to_integer,
    "float": _to_float,
    "number": _to_float,
    "time": _to_time,
}
