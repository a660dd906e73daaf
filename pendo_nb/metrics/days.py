"""The calendar days a metric covers, on the subscription's clock.

Metrics take ``start`` and ``end`` as calendar days, both included (as Pendo's date pickers),
read in the client's time zone, which stands for the subscription's (``pn.connect(tz=...)``; the
sandbox's by default): Pendo buckets days at the subscription's midnights. "Yesterday" is read
from the server's clock, never this machine's: Pendo's presets end with yesterday, as "presets
don't include data from today" (support.pendo.io/hc/en-us/articles/360031864592).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.errors import ValidationError
from pendo_nb.pipeline import source

DAY = pd.Timedelta(days=1)


def server_today(client: PendoClient) -> pd.Timestamp:
    """Today on the server's clock, as a zone-less day in the client's time zone."""
    probe = source.visitors().limit(1).select(now="now()")
    frame = client.aggregate(probe, refresh=True, progress=False)
    now = frame["now"].iloc[0] if len(frame) else frame.attrs["server_time"]
    return pd.Timestamp(now).tz_convert(client.tz).tz_localize(None).normalize().as_unit("us")


def calendar_day(value: Any, name: str, tz: str) -> pd.Timestamp:
    """``value`` (a date, a date string, a datetime) as a zone-less day on ``tz``'s clock."""
    if isinstance(value, bool) or not isinstance(value, str | dt.date | pd.Timestamp):
        raise ValidationError(
            f"{name} must be a date, a date string such as '2026-10-01' or a datetime, "
            f"got {type(value).__name__} {value!r}"
        )
    try:
        day = pd.Timestamp(value)
    except ValueError as error:
        raise ValidationError(f"{name}={value!r} is not a date: {error}") from None
    if day.tzinfo is not None:
        day = day.tz_convert(tz).tz_localize(None)
    return day.normalize().as_unit("us")


def day_range(
    start: Any, end: Any, client: PendoClient, *, default_days: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(first, last)`` days, both included; by default the ``default_days`` ending yesterday."""
    last = server_today(client) - DAY if end is None else calendar_day(end, "end", client.tz)
    first = (
        last - (default_days - 1) * DAY
        if start is None
        else calendar_day(start, "start", client.tz)
    )
    if first > last:
        raise ValidationError(
            f"start ({first.date()}) is after end ({last.date()}): both days are included, "
            "so start must be on or before end"
        )
    return first, last


def iso(day: pd.Timestamp) -> str:
    """A day as the date string a pipeline's time series sends (``date("...")`` on Pendo)."""
    return day.strftime("%Y-%m-%d")


#: Period names and what Pendo calls them: weeks start on Sunday (as Pendo's weekly buckets).
PERIODS = ("day", "week", "month")


def check_period(period: object) -> None:
    """A clear error unless ``period`` is one of :data:`PERIODS`."""
    if period not in PERIODS:
        raise ValidationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")


def period_starts(days: pd.Series, period: str) -> pd.Series:
    """The first day of the ``period`` (``"day"``, ``"week"`` from Sunday, ``"month"``) of each
    of ``days``."""
    check_period(period)
    if period == "day":
        return days
    # Weeks start on Sunday, as Pendo's do; months on their first day.
    back = (days.dt.day_of_week + 1) % 7 if period == "week" else days.dt.day - 1
    starts: pd.Series = days - pd.to_timedelta(back, unit="D")
    return starts


def every_day(first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """Each day from ``first`` to ``last``, both included."""
    return pd.Series(pd.date_range(first, last, freq="D", unit="us"))
