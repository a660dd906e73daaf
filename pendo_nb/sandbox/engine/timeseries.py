"""A source step's ``timeSeries``: the calendar periods an event source covers (reference 3.3).

A time series is ``period`` + ``first`` + exactly one of ``last`` (inclusive) or ``count``. Periods
snap to boundaries in the subscription time zone: hours, local midnights, Sundays (``weekRange``)
and the first of the month. Boundaries are computed with local calendar arithmetic, so days that
are 23 or 25 hours long around a DST change are still exactly one period.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .context import EvalContext
from .errors import AggregationError
from .expressions import compile_expression

#: The bucket field each period adds to grouped event rows (reference 3.8).
PERIOD_FIELDS: dict[str, str] = {
    "hourRange": "hour",
    "dayRange": "day",
    "weekRange": "week",
    "monthRange": "month",
}

#: Enough for ten years of hours; more periods than this is a mistake, not a query.
DEFAULT_MAX_PERIODS = 100_000

_HOUR_MS = 3_600_000
_LATEST_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z, the last time a datetime holds


def resolve_time_series(
    spec: object,
    ctx: EvalContext,
    *,
    where: str = "timeSeries",
    max_periods: int = DEFAULT_MAX_PERIODS,
) -> list[tuple[int, int]]:
    """Expand a ``timeSeries`` object into its periods.

    Parameters
    ----------
    spec : dict
        ``{"period": ..., "first": ..., "last": ...}`` or ``{..., "count": N}``. ``first`` and
        ``last`` are epoch milliseconds, numeric strings, or expressions such as ``"now()"`` or
        ``"dateAdd(now(), -7, \\"days\\")"``. A negative ``count`` covers the ``|N|`` periods
        *before* the one containing ``first``.
    ctx : EvalContext
        The clock and time zone the expressions and the period boundaries use.
    where : str
        Where the spec sits in the request, for error messages.
    max_periods : int
        Refuse series longer than this.

    Returns
    -------
    list of (start_ms, end_ms)
        Consecutive periods in time order; each ``end_ms`` is the next period's ``start_ms``.

    Raises
    ------
    AggregationError
        400 naming the field for a bad period, a missing or doubled ``last``/``count``, a zero or
        fractional count, an unusable ``first``/``last``, or ``last`` before ``first``.
    """
    if not isinstance(spec, dict):
        raise AggregationError(f"{where}: must be an object with period, first and last or count")
    unknown = sorted(set(spec) - {"period", "first", "last", "count"})
    if unknown:
        raise AggregationError(f"{where}: unknown field {unknown[0]!r}")
    period = spec.get("period")
    if not isinstance(period, str) or period not in PERIOD_FIELDS:
        raise AggregationError(
            f"{where}.period: {period!r} is not one of {', '.join(PERIOD_FIELDS)}"
        )
    if "first" not in spec:
        raise AggregationError(f"{where}: 'first' is required")
    has_last, has_count = "last" in spec, "count" in spec
    if has_last == has_count:
        raise AggregationError(f"{where}: give exactly one of 'last' or 'count'")

    try:
        starts = _period_starts(spec, period, ctx, where, max_periods)
    except (OverflowError, ValueError, OSError):  # a datetime beyond year 1 or 9999
        raise AggregationError(
            f"{where}: the range leaves the calendar (years 1 to 9999)"
        ) from None
    return list(zip(starts[:-1], starts[1:], strict=True))


def _period_starts(
    spec: dict[str, Any], period: str, ctx: EvalContext, where: str, max_periods: int
) -> list[int]:
    """Start of every period, plus the end of the last one."""
    tz = ctx.timezone
    has_count = "count" in spec
    first_start = period_start(_timestamp(spec["first"], ctx, f"{where}.first"), period, tz)
    if has_count:
        count = _count(spec["count"], f"{where}.count")
        if abs(count) > max_periods:
            raise AggregationError(f"{where}.count: {count} periods is more than {max_periods}")
        start = first_start
        if count < 0:  # |count| periods ending just before first's period (reference 6.3)
            for _ in range(-count):
                start = _previous_period_start(start, period, tz)
        starts = [start]
        for _ in range(abs(count)):
            starts.append(next_period_start(starts[-1], period, tz))
    else:
        last_ms = _timestamp(spec["last"], ctx, f"{where}.last")
        last_start = period_start(last_ms, period, tz)
        if last_start < first_start:
            raise AggregationError(f"{where}: 'last' is before 'first'")
        starts = [first_start]
        while starts[-1] <= last_start:
            if len(starts) > max_periods:
                raise AggregationError(f"{where}: the range spans more than {max_periods} periods")
            starts.append(next_period_start(starts[-1], period, tz))
    return starts


def period_start(ts_ms: int, period: str, tz: ZoneInfo) -> int:
    """Start (epoch ms) of the ``period`` that contains ``ts_ms`` in time zone ``tz``."""
    local = datetime.fromtimestamp(ts_ms / 1000, tz)
    if period == "hourRange":
        # Truncating keeps `fold`, so the repeated hour of a DST fall-back snaps correctly.
        return _ms(local.replace(minute=0, second=0, microsecond=0))
    day = local.date()
    if period == "weekRange":
        day -= timedelta(days=(day.weekday() + 1) % 7)  # weeks start on Sunday
    elif period == "monthRange":
        day = day.replace(day=1)
    return _local_midnight(day, tz)


def next_period_start(start_ms: int, period: str, tz: ZoneInfo) -> int:
    """Start of the period after the one starting at ``start_ms``."""
    if period == "hourRange":
        return period_start(start_ms + _HOUR_MS, period, tz)
    day = datetime.fromtimestamp(start_ms / 1000, tz).date()
    if period == "dayRange":
        return _local_midnight(day + timedelta(days=1), tz)
    if period == "weekRange":
        return _local_midnight(day + timedelta(days=7), tz)
    return _local_midnight(_add_month(day, 1), tz)


def _previous_period_start(start_ms: int, period: str, tz: ZoneInfo) -> int:
    return period_start(start_ms - 1, period, tz)


def _local_midnight(day: date, tz: ZoneInfo) -> int:
    # A midnight skipped by DST (fold=0 in a gap) resolves to the transition instant, which is
    # where that local day really starts.
    return _ms(datetime.combine(day, time(0), tzinfo=tz))


def _add_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _timestamp(value: object, ctx: EvalContext, where: str) -> int:
    """``first``/``last`` as epoch ms: a number, a numeric string, or an expression."""
    if isinstance(value, bool):
        raise AggregationError(f"{where}: expected a time in epoch milliseconds, got a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            value = compile_expression(text, ctx, where)({})
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AggregationError(
            f"{where}: expected a time in epoch milliseconds, got {_describe(value)}"
        )
    if not math.isfinite(value) or abs(value) > _LATEST_MS:
        raise AggregationError(f"{where}: {value!r} is not a usable time")
    return int(value)


def _count(value: object, where: str) -> int:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise AggregationError(f"{where}: expected a whole number, got {value!r}") from None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise AggregationError(f"{where}: expected a whole number, got {_describe(value)}")
    if value == 0:
        raise AggregationError(f"{where}: must not be 0")
    return int(value)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r}"
