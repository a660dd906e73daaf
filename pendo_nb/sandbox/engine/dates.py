"""Calendar arithmetic on epoch milliseconds in the subscription time zone.

Used by the date functions of the expression language (``date``, ``startOfPeriod``, ``dateAdd``,
``dateDist``, ``formatTime``) and usable by ``timeSeries`` for snapping periods. Pendo's backend is
written in Go, so calendar rules follow Go's ``time`` package: ``date(2023, 13, 1)`` is
2024-01-01 and adding one month to January 31 gives March 3 (``AddDate`` normalises overflow
rather than clamping to the month's last day). Weeks start on Sunday (reference 3.3: weekRange
resets Sunday midnight). Wall-clock times that fall in a DST gap or overlap resolve with Python's
``fold=0`` (the offset in force before the transition).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
HOUR_MS = 3_600_000

PERIOD_UNITS = {
    "hourly": "hour",
    "hourRange": "hour",
    "daily": "day",
    "dayRange": "day",
    "weekly": "week",
    "weekRange": "week",
    "monthly": "month",
    "monthRange": "month",
    "quarterly": "quarter",
    "quarterRange": "quarter",
    "yearly": "year",
    "yearRange": "year",
}
"""Period names accepted by ``startOfPeriod`` -> calendar unit.

Pendo documents ``daily|weekly|monthly`` for ``startOfPeriod``, but its own NPS example calls
``startOfPeriod("dayRange", time)`` (reference 6.11): both spellings are accepted.
"""

ADD_UNITS = {
    "hours": "hour",
    "days": "day",
    "weeks": "week",
    "months": "month",
    "quarters": "quarter",
    "years": "year",
}
"""Unit names accepted by ``dateAdd`` -> calendar unit (reference 3.7)."""


class DateError(ValueError):
    """A date that cannot exist (out of range, malformed string, unknown unit)."""


def to_datetime(ms: float, tz: ZoneInfo) -> datetime:
    """The wall-clock time in ``tz`` of an epoch-ms instant."""
    try:
        return (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    except (OverflowError, ValueError):  # ValueError: NaN
        raise DateError(f"timestamp {ms:g} is out of range") from None


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    return (moment - _EPOCH) // _ONE_MS


def wall_clock_ms(
    tz: ZoneInfo,
    year: int,
    month: int = 1,
    day: int = 1,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> int:
    """Epoch ms of a wall-clock time in ``tz``; out-of-range parts roll over as in Go."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    try:
        naive = datetime(year, month, 1) + timedelta(
            days=day - 1, hours=hour, minutes=minute, seconds=second, microseconds=microsecond
        )
    except (OverflowError, ValueError):
        raise DateError(f"date {year}-{month:02d}-{day:02d} is out of range") from None
    return to_ms(naive.replace(tzinfo=tz))


def start_of(ms: float, unit: str, tz: ZoneInfo) -> int:
    """The start (epoch ms) of the hour/day/week/month/quarter/year containing ``ms`` in ``tz``."""
    moment = to_datetime(ms, tz)
    if unit == "hour":
        # Truncate the wall clock (Asia/Kolkata hours start at :30 UTC) keeping ``fold``, so the
        # repeated 01:00-02:00 of a DST fall-back day gives two different hours.
        return to_ms(moment.replace(minute=0, second=0, microsecond=0))
    if unit == "day":
        return wall_clock_ms(tz, moment.year, moment.month, moment.day)
    if unit == "week":
        days_since_sunday = (moment.weekday() + 1) % 7
        return wall_clock_ms(tz, moment.year, moment.month, moment.day - days_since_sunday)
    if unit == "month":
        return wall_clock_ms(tz, moment.year, moment.month)
    if unit == "quarter":
        return wall_clock_ms(tz, moment.year, moment.month - (moment.month - 1) % 3)
    if unit == "year":
        return wall_clock_ms(tz, moment.year)
    raise DateError(f"unknown period unit {unit!r}")


def add(ms: float, amount: int, unit: str, tz: ZoneInfo) -> int:
    """``ms`` moved by ``amount`` units: hours are exact spans, longer units move the wall clock.

    Adding one day across a DST change keeps the local time of day (a 23- or 25-hour day), as
    Go's ``AddDate`` does.
    """
    if unit == "hour":
        return int(ms) + amount * HOUR_MS
    moment = to_datetime(ms, tz)
    years = months = days = 0
    if unit == "day":
        days = amount
    elif unit == "week":
        days = 7 * amount
    elif unit == "month":
        months = amount
    elif unit == "quarter":
        months = 3 * amount
    elif unit == "year":
        years = amount
    else:
        raise DateError(f"unknown unit {unit!r}")
    microsecond = moment.microsecond
    return wall_clock_ms(
        tz,
        moment.year + years,
        moment.month + months,
        moment.day + days,
        moment.hour,
        moment.minute,
        moment.second,
        microsecond,
    )


def distance(first_ms: float, second_ms: float, unit: str, tz: ZoneInfo) -> int:
    """How many ``unit`` boundaries lie between two instants (negative when ``second`` is earlier).

    Counted on the calendar in ``tz``: from 23:00 to 01:00 the next day is 1 day apart.
    """
    if unit == "hour":
        return (start_of(second_ms, "hour", tz) - start_of(first_ms, "hour", tz)) // HOUR_MS
    if unit in ("day", "week"):
        first_day = to_datetime(start_of(first_ms, unit, tz), tz).date()
        second_day = to_datetime(start_of(second_ms, unit, tz), tz).date()
        days = (second_day - first_day).days
        return days if unit == "day" else days // 7
    first, second = to_datetime(first_ms, tz), to_datetime(second_ms, tz)
    months = (second.year - first.year) * 12 + second.month - first.month
    if unit == "month":
        return months
    if unit == "quarter":
        return (second.year - first.year) * 4 + (second.month - 1) // 3 - (first.month - 1) // 3
    if unit == "year":
        return second.year - first.year
    raise DateError(f"unknown unit {unit!r}")


_DATE_STRING = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?"
)


def parse_date(text: str, tz: ZoneInfo) -> int:
    """Epoch ms of ``"2006"``, ``"2006-01"``, ``"2006-01-02"``, ``"2006-01-02T15:04"``,
    ``"2006-01-02T15:04:05"`` or ``"2006-01-02T15:04:05.999"`` as a wall-clock time in ``tz``."""
    match = _DATE_STRING.fullmatch(text)
    if match is None:
        raise DateError(
            f"cannot read {text!r} as a date (expected 2006-01-02T15:04:05.999 or a prefix of it)"
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    parts = (
        int(year),
        int(month or 1),
        int(day or 1),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
    )
    if not (
        1 <= parts[1] <= 12
        and 1 <= parts[2] <= 31
        and parts[3] < 24
        and parts[4] < 60
        and parts[5] < 60
    ):
        raise DateError(f"{text!r} is not a valid date")
    try:
        datetime(parts[0], parts[1], parts[2])
    except ValueError:
        raise DateError(f"{text!r} is not a valid date") from None
    microsecond = int((fraction or "0").ljust(9, "0")) // 1000
    return wall_clock_ms(tz, *parts, microsecond)
