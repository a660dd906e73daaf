"""Epoch milliseconds: as timestamps in a time zone, as ISO text, and from what users pass.

A moment without a time zone is kept as text (:func:`moment`) for the *server* to read in the
subscription's time zone (:mod:`pendo_nb.pulls.server_clock`), never this machine's.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.errors import ValidationError
from pendo_nb.frames.dtypes import TIME_UNIT

DAY_MS = 24 * 60 * 60 * 1000


def iso(ms: int) -> str:
    """Epoch ms as ISO 8601 text in UTC (for messages)."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def stamp(ms: int, tz: str) -> pd.Timestamp:
    """Epoch ms as a timestamp in the time zone ``tz``."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(tz)


def instants(millis: np.ndarray, tz: str) -> pd.DatetimeIndex:
    """Epoch ms (floats, NaN where missing) as instants in ``tz``.

    Rounded to whole milliseconds, Pendo's resolution: a computed value (an average of times)
    would otherwise print with sub-millisecond digits that mean nothing.
    """
    utc = pd.to_datetime(np.round(millis), unit="ms", utc=True)
    return utc.tz_convert(tz).as_unit(TIME_UNIT)


def bucket_starts(millis: np.ndarray, tz: str) -> pd.DatetimeIndex:
    """Epoch ms of period starts as calendar starts: their wall clock in ``tz``, without a zone.

    Pendo aligns day, week and month buckets (and ``startOfPeriod``) to midnights of the
    subscription's time zone (reference 3.3 and 3.8); the sandbox does the same with its
    ``timezone``. The client's ``tz`` stands for that zone: UTC unless the user says otherwise,
    the default reference 5 recommends. In that zone a bucket is a calendar value, so it is
    kept without one: a day prints as ``2026-10-25``, and a naive date compares with it.
    """
    return instants(millis, tz).tz_localize(None)


def calendar_days(series: pd.Series) -> pd.Series:
    """A ``time`` column of dates as the zone-less calendar dates buckets are kept as.

    Pendo's metadata schema and report fields have one type for dates and instants, ``time``
    (its UI calls them dates), so which one a column holds is told by its values: when every
    value is a midnight of the column's zone (the client's, as for buckets), the column holds
    dates (``renewaldate``, a report's ``lastActiveDay``), and is kept as buckets are
    (:func:`bucket_starts`): ``2027-08-02``, comparable with naive dates. Otherwise, or with no
    value at all, ``series`` is returned as it is.
    """
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        return series
    present = series.dropna()
    if present.empty or not (present == present.dt.normalize()).all():
        return series
    dates: pd.Series = series.dt.tz_localize(None)
    return dates


def bucket_ms(starts: pd.Series, tz: str) -> list[int | None]:
    """The inverse of :func:`bucket_starts`: the epoch ms the server sent (``None`` where missing
    or where ``tz`` repeats the wall clock, at the end of daylight saving time)."""
    aware = starts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return [None if pd.isna(start) else start.value // 1_000_000 for start in aware]


def moment(value: Any, name: str) -> int | str:
    """Epoch ms for absolute moments; ``YYYY-MM-DDTHH:MM:SS`` text for zone-less ones.

    Zone-less text is left for the server to read (``date("...")``), in the subscription's zone.
    """
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a date, a datetime or epoch ms, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not math.isfinite(value):
            raise ValidationError(f"{name} must be a finite number of epoch ms, got {value!r}")
        if value < 1e11:
            raise ValidationError(
                f"{name}={value} is not epoch milliseconds (too small; seconds times 1000?)"
            )
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        parsed = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}={value!r} is not a date or time: {exc}") from None
    if pd.isna(parsed):
        raise ValidationError(f"{name} must not be missing")
    if parsed.tzinfo is not None:
        return int(parsed.tz_convert("UTC").value // 1_000_000)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")
