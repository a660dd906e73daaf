"""The ``timeSeries`` of an event source (reference 3.3) and the values its bounds accept.

Bounds are epoch milliseconds or Pendo expressions. Relative ranges are always sent as
expressions (``now()``, ``dateAdd``), never as numbers computed on this machine, so a pipeline
means the same on Pendo and on the sandbox, whose clock may be set elsewhere. Naive dates and
date strings become ``date("...")``, which Pendo reads in the subscription's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline.parse import check_expression

#: Aggregate periods (one pass over the whole range) and iterative ones (one result set each).
PERIODS = (
    "hourRange",
    "dayRange",
    "weekRange",
    "monthRange",
    "hourly",
    "daily",
    "weekly",
    "monthly",
)

#: ``last(n, unit)`` units: the period to bucket by and the ``dateAdd`` unit to step back with.
_UNITS = {
    "hours": ("hourRange", "hours"),
    "days": ("dayRange", "days"),
    "weeks": ("weekRange", "weeks"),
    "months": ("monthRange", "months"),
}
_DATE_STRING = re.compile(
    r"\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)?)?)?"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

TimeBound = int | str


def time_bound(value: object, where: str) -> TimeBound:
    """Convert a ``first``/``last`` value to what Pendo accepts.

    Parameters
    ----------
    value : int, str, datetime.date, datetime.datetime or pandas.Timestamp
        - ``int``: epoch milliseconds, sent as is.
        - timezone-aware datetime/Timestamp: converted to epoch milliseconds.
        - naive datetime, ``date``, or a string like ``"2024-03-01"``/``"2024-03-01T09:30"``:
          ``date("...")``, read by Pendo in the subscription's time zone.
        - any other string: a Pendo expression such as ``"now()"`` (checked here).
    where : str
        The method and argument, for error messages.
    """
    if isinstance(value, bool):
        raise PipelineError(f"{where}: expected a time, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return (value - _EPOCH) // dt.timedelta(milliseconds=1)
        return _date_call(value, where)
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, str):
        if _DATE_STRING.fullmatch(value):
            return _date_string_call(value, where)
        return check_expression(value, where)
    raise PipelineError(
        f"{where}: expected epoch milliseconds, a date/datetime/Timestamp, a date string or a "
        f"Pendo expression, got {type(value).__name__} {value!r}"
    )


def _date_call(value: dt.datetime, where: str) -> str:
    if value.time() == dt.time(0):
        return f'date("{value.date().isoformat()}")'
    if value.microsecond % 1000:
        raise PipelineError(f"{where}: Pendo times have millisecond precision, got {value}")
    timespec = "milliseconds" if value.microsecond else "seconds"
    return f'date("{value.replace(tzinfo=None).isoformat(timespec=timespec)}")'


def _date_string_call(value: str, where: str) -> str:
    text = value.replace(" ", "T")
    padded = text + "-01-01"[len(text) - 4 :] if len(text) < 10 else text
    try:
        dt.datetime.fromisoformat(padded)
    except ValueError:
        raise PipelineError(f"{where}: {value!r} is not a valid date") from None
    return f'date("{text}")'


@dataclass(frozen=True)
class TimeSeries:
    """``{"period", "first", "last" | "count"}``: the periods an event source reads.

    Build it through :meth:`Pipeline.time_series` (or ``last``/``between``/``on``), which check it.
    """

    period: str
    first: TimeBound
    last: TimeBound | None = None
    count: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"period": self.period, "first": self.first}
        if self.count is not None:
            body["count"] = self.count
        else:
            body["last"] = self.last
        return body

    def describe(self) -> str:
        """A phrase such as ``dayRange periods from now(), count -1``."""
        end = f"count {self.count}" if self.count is not None else f"through {self.last}"
        return f"{self.period} periods from {self.first}, {end}"


def make_time_series(
    period: object,
    first: object,
    last: object,
    count: object,
    where: str,
    *,
    names: tuple[str, str] = ("first", "last"),
) -> TimeSeries:
    """Check and convert the parts of a ``timeSeries``.

    ``where`` is the calling method's name and ``names`` what it calls ``first`` and ``last``
    (``between`` says ``start``/``end``), so errors name the argument the user wrote.
    """
    first_where, last_where = (f"{where}({name})" for name in names)
    if period not in PERIODS:
        raise PipelineError(
            f"{where}(period): {period!r} is not a Pendo period; use one of {PERIODS}"
        )
    if first is None:
        raise PipelineError(f"{first_where}: a time series needs a first time")
    if (last is None) == (count is None):
        raise PipelineError(f"{where}: give exactly one of last= or count=, not both or neither")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise PipelineError(f"{where}(count): expected a non-zero integer, got {count!r}")
        return TimeSeries(period, time_bound(first, first_where), count=count)
    return TimeSeries(period, time_bound(first, first_where), last=time_bound(last, last_where))


def time_series_from_json(body: object, where: str) -> TimeSeries:
    """Read a ``timeSeries`` object."""
    if not isinstance(body, Mapping):
        raise PipelineError(f"{where}: timeSeries must be an object, got {body!r}")
    unknown = set(body) - {"period", "first", "last", "count"}
    if unknown:
        raise PipelineError(f"{where}: unknown timeSeries keys {sorted(unknown)}")
    count = body.get("count")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    return make_time_series(body.get("period"), body.get("first"), body.get("last"), count, where)


def last_periods(n: object, unit: object, include_current: bool, where: str) -> TimeSeries:
    """The ``n`` most recent ``unit`` periods, as Pendo expressions relative to ``now()``.

    Without ``include_current`` these are the ``n`` complete periods before the current one
    (``first: now(), count: -n``, Pendo's own "yesterday" idiom); with it, the current period
    and the ``n - 1`` before it (``first: dateAdd(now(), -(n-1), unit), last: now()``).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PipelineError(f"{where}(n): expected a whole number of periods >= 1, got {n!r}")
    key = unit if unit in _UNITS else f"{unit}s"
    if key not in _UNITS:
        raise PipelineError(f"{where}(unit): {unit!r} is not one of {sorted(_UNITS)}")
    period, add_unit = _UNITS[key]
    if include_current:
        first = "now()" if n == 1 else f'dateAdd(now(), {1 - n}, "{add_unit}")'
        return TimeSeries(period, first, last="now()")
    return TimeSeries(period, "now()", count=-n)


def period_for_unit(unit: str) -> str:
    """``"days"``/``"day"``/``"dayRange"`` -> ``"dayRange"`` (for ``between``/``on``)."""
    if unit in PERIODS:
        return unit
    key = unit if unit in _UNITS else f"{unit}s"
    if key not in _UNITS:
        raise PipelineError(f"period {unit!r} is not one of {PERIODS} or {sorted(_UNITS)}")
    return _UNITS[key][0]
