"""Metrics of activity: active units, stickiness, frequency and time on app.

"An active visitor or account has at least one recorded event during a day, week, or month"
(support.pendo.io/hc/en-us/articles/360031864252). Each metric here starts from the same rows:
Pendo's ``events`` source grouped on the server into one row per active (day, unit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.errors import ValidationError
from pendo_nb.metrics.days import DAY, check_period, day_range, every_day, period_starts
from pendo_nb.metrics.frame import MetricFrame, headline, metric_frame
from pendo_nb.metrics.queries import Requests, unit_day_rows, unit_field

#: Stickiness ratios: (days of the numerator's window, days of the denominator's window).
RATIOS = {"DAU/MAU": (1, 30), "DAU/WAU": (1, 7), "WAU/MAU": (7, 30)}
#: Pendo's frequency bands: days active in the last 30 days (support.pendo.io/hc/en-us/
#: articles/360032202811).
BANDS = (("Low", 1, 4), ("Medium", 5, 12), ("High", 13, 30))
FREQUENCY_DAYS = 30
ADVERBS = {"day": "daily", "week": "weekly", "month": "monthly"}

ACTIVE_COLUMNS = {"period": "datetime64[us]", "days": "Int64", "active": "Int64"}
STICKINESS_COLUMNS = {
    "day": "datetime64[us]",
    "numerator": "Int64",
    "denominator": "Int64",
    "ratio": "Float64",
}
FREQUENCY_COLUMNS = {
    "band": "str",
    "min_days": "Int64",
    "max_days": "Int64",
    "units": "Int64",
    "share": "Float64",
}
TIME_COLUMNS = {
    "day": "datetime64[us]",
    "active": "Int64",
    "minutes": "Int64",
    "minutes_per_unit": "Float64",
}


def active(
    unit: str = "visitor",
    period: str = "day",
    start: Any = None,
    end: Any = None,
    *,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Active visitors or accounts per day, week or month.

    Active: at least one event (page load or click, tagged or not: Pendo's ``events`` source)
    in the period (support.pendo.io/hc/en-us/articles/360031864252). Visitors are identified
    visitors; accounts are the accounts events carry.

    Parameters
    ----------
    unit : {"visitor", "account"}
        Count distinct visitors or accounts.
    period : {"day", "week", "month"}
        Weeks start on Sunday (Pendo's weeks); months are calendar months.
    start, end : date, str or datetime, optional
        The first and last day, both included, on the subscription's calendar (the client's
        ``tz``). Default: the 30 days ending yesterday on the server's clock. The first and last
        weeks or months are cut to the range: ``days`` says how many of their days it holds.
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        ``period`` (its first day), ``days`` (days of it in the range) and ``active``; every
        period of the range is listed, 0 where nobody was active. Empty (with these columns)
        when nobody was active in the whole range. The headline is the mean per period.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> weekly = pn.metrics.active("account", "week", "2026-10-04", "2026-10-31")
    >>> list(weekly.columns)
    ['period', 'days', 'active']
    >>> len(weekly)
    4
    """
    unit_field(unit)
    check_period(period)
    client = resolve(client)
    first, last = day_range(start, end, client, default_days=30)
    requests = Requests(client)
    rows = unit_day_rows(requests, unit, first, last, app_id=app_id)
    if rows.empty:
        return metric_frame(None, ACTIVE_COLUMNS, requests.sent, unit=unit)
    days = every_day(first, last)
    lengths = days.groupby(period_starts(days, period).to_numpy()).size()
    counts = rows.groupby(period_starts(rows["day"], period).to_numpy())["unit"].nunique()
    table = pd.DataFrame(
        {
            "period": lengths.index,
            "days": lengths.to_numpy(),
            "active": counts.reindex(lengths.index, fill_value=0).to_numpy(),
        }
    )
    return metric_frame(
        table,
        ACTIVE_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"mean {ADVERBS[period]} active {unit}s", table["active"].mean(), ""),
    )


def stickiness(
    ratio: str = "DAU/MAU",
    unit: str = "visitor",
    start: Any = None,
    end: Any = None,
    *,
    hide_weekends: bool = False,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Stickiness per day, as Pendo computes it, and its headline: the mean of the daily ratios.

    "We measure stickiness by dividing the number of daily or weekly active visitors by the
    number of weekly or monthly active visitors, then multiplying that by 100"; the ratio is
    "processed for every day and averaged" (support.pendo.io/hc/en-us/articles/360031864252).
    For each day *d*: the numerator is the distinct units active on *d* (DAU) or in the 7 days
    ending on *d* (WAU); the denominator the distinct units active in the 7 (WAU) or 30 (MAU)
    days ending on *d*, *d* included. Pendo's headline figure is the mean of the daily ratios
    (``frame.headline``, shown above the frame), weekends included unless hidden.

    Parameters
    ----------
    ratio : {"DAU/MAU", "DAU/WAU", "WAU/MAU"}
    unit : {"visitor", "account"}
    start, end : date, str or datetime, optional
        Days shown, both included (default: the 30 days ending yesterday). Activity from the
        29 (or 6) days before ``start`` counts in the first days' denominators.
    hide_weekends : bool
        Leave Saturdays and Sundays out of the rows and of the mean (Pendo's Hide Weekends).
        Weekend activity still counts in the weekly and monthly windows (our reading: Pendo's
        page says only that the option hides weekends).
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        ``day``, ``numerator``, ``denominator`` and ``ratio`` (percent, missing where the
        denominator is 0). Empty, with these columns, when nobody was active.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> daily = pn.metrics.stickiness("DAU/MAU", start="2026-10-01", end="2026-10-31")
    >>> list(daily.columns)
    ['day', 'numerator', 'denominator', 'ratio']
    >>> round(daily.headline, 1)  # the mean of the daily ratios, in percent
    33.4
    """
    if ratio not in RATIOS:
        raise ValidationError(f"ratio must be one of {', '.join(RATIOS)}, got {ratio!r}")
    unit_field(unit)
    client = resolve(client)
    first, last = day_range(start, end, client, default_days=30)
    requests = Requests(client)
    table = daily_ratio(requests, ratio, unit, first, last, app_id=app_id)
    if table is None:
        return metric_frame(None, STICKINESS_COLUMNS, requests.sent, unit=unit)
    if hide_weekends:
        table = table[table["day"].dt.day_of_week < 5]
    mean = table["ratio"].mean()
    return metric_frame(
        table,
        STICKINESS_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"mean {ratio} ({unit}s)", mean, "%"),
    )


def daily_ratio(
    requests: Requests,
    ratio: str,
    unit: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    app_id: Any,
) -> pd.DataFrame | None:
    """Each day's numerator, denominator and ratio (``None`` when nobody was active)."""
    since = first - (RATIOS[ratio][1] - 1) * DAY
    rows = unit_day_rows(requests, unit, since, last, app_id=app_id)
    return None if rows.empty else ratio_table(rows, ratio, first, last)


def ratio_table(
    rows: pd.DataFrame, ratio: str, first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Stickiness of each day ``first``..``last`` from active (``day``, ``unit``) ``rows``, which
    must cover the denominator's window before ``first``."""
    numerator_days, denominator_days = RATIOS[ratio]
    since = first - (denominator_days - 1) * DAY
    rows = rows[(rows["day"] >= since) & (rows["day"] <= last)]
    codes = rows["unit"].astype("category").cat.codes.to_numpy()
    offsets = ((rows["day"] - since) // DAY).to_numpy()
    length = (last - since) // DAY + 1
    shown = slice(denominator_days - 1, length)
    numerator = trailing_distinct(codes, offsets, numerator_days, length)[shown]
    denominator = trailing_distinct(codes, offsets, denominator_days, length)[shown]
    share = pd.array(100 * numerator / np.where(denominator > 0, denominator, 1), "Float64")
    share[denominator == 0] = pd.NA
    return pd.DataFrame(
        {
            "day": every_day(first, last),
            "numerator": numerator,
            "denominator": denominator,
            "ratio": share,
        }
    )


def trailing_distinct(units: np.ndarray, days: np.ndarray, window: int, length: int) -> np.ndarray:
    """For each day 0..``length``-1, the distinct units active in the ``window`` days ending on
    it: a unit active on day *a* counts until its next active day or ``window`` days later,
    whichever is first, so each unit counts once per day (a difference array, one pass)."""
    days = days.astype(np.int64)
    order = np.argsort(units.astype(np.int64) * (length + 1) + days)  # by unit, then day
    unit, day = units[order], days[order]
    stop = day + window
    same_unit_next = unit[:-1] == unit[1:]
    stop[:-1] = np.where(same_unit_next, np.minimum(stop[:-1], day[1:]), stop[:-1])
    size = length + window + 1
    steps = np.bincount(day, minlength=size) - np.bincount(stop, minlength=size)
    return np.cumsum(steps)[:length]


def frequency(
    unit: str = "visitor",
    end: Any = None,
    *,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """How often units come: Low, Medium and High by days active in the 30 days ending ``end``.

    Pendo's bands (support.pendo.io/hc/en-us/articles/360032202811): Low 1 to 4 days, Medium
    5 to 12, High at least 13 days active in the last 30 days.

    Parameters
    ----------
    unit : {"visitor", "account"}
    end : date, str or datetime, optional
        The last day of the 30 (included); default yesterday on the server's clock.
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        One row per band: ``band``, ``min_days``, ``max_days``, ``units`` and ``share`` (percent
        of the units active in the 30 days). The headline is the number of active units. Empty,
        with these columns, when nobody was active.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> bands = pn.metrics.frequency("visitor", end="2026-10-31")
    >>> list(bands["band"])
    ['Low', 'Medium', 'High']
    >>> round(float(bands["share"].sum()))
    100
    """
    unit_field(unit)
    client = resolve(client)
    last = day_range(None, end, client, default_days=FREQUENCY_DAYS)[1]
    first = last - (FREQUENCY_DAYS - 1) * DAY
    requests = Requests(client)
    rows = unit_day_rows(requests, unit, first, last, app_id=app_id)
    if rows.empty:
        return metric_frame(None, FREQUENCY_COLUMNS, requests.sent, unit=unit)
    days_active = rows.groupby("unit")["day"].nunique()
    table = pd.DataFrame(
        [
            {
                "band": band,
                "min_days": low,
                "max_days": high,
                "units": int(days_active.between(low, high).sum()),
            }
            for band, low, high in BANDS
        ]
    )
    table["share"] = 100 * table["units"] / len(days_active)
    return metric_frame(
        table,
        FREQUENCY_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"active {unit}s in the 30 days", len(days_active), "", digits=0),
    )


def time_on_app(
    unit: str = "visitor",
    start: Any = None,
    end: Any = None,
    *,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Minutes in the app per active unit and day, as Pendo counts minutes.

    "We add one minute … for each minute we register any activity", and the average daily time
    is the total minutes over the unit-days: "(5+10+15+20)/4 days = 12.5 minutes"
    (support.pendo.io/hc/en-us/articles/360032202811, …/360031863232). The minutes are the sum of
    the ``numMinutes`` of Pendo's grouped ``events`` rows (one per unit, app, day, account,
    browser...): our reading, as the Aggregation API gives minutes per such row only.

    Parameters
    ----------
    unit : {"visitor", "account"}
    start, end : date, str or datetime, optional
        Days, both included (default: the 30 days ending yesterday).
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        ``day``, ``active`` (units), ``minutes`` (their total) and ``minutes_per_unit``; every
        day of the range, 0 minutes where nobody was active. The headline is the range's
        average daily minutes per active unit (all minutes over all active unit-days). Empty,
        with these columns, when nobody was active.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> minutes = pn.metrics.time_on_app("visitor", "2026-10-01", "2026-10-31")
    >>> list(minutes.columns)
    ['day', 'active', 'minutes', 'minutes_per_unit']
    """
    unit_field(unit)
    client = resolve(client)
    first, last = day_range(start, end, client, default_days=30)
    requests = Requests(client)
    rows = unit_day_rows(requests, unit, first, last, app_id=app_id, minutes=True)
    if rows.empty:
        return metric_frame(None, TIME_COLUMNS, requests.sent, unit=unit)
    per_day = rows.groupby("day").agg(active=("unit", "nunique"), minutes=("minutes", "sum"))
    table = per_day.reindex(every_day(first, last), fill_value=0).rename_axis("day").reset_index()
    table["minutes_per_unit"] = (table["minutes"] / table["active"]).where(table["active"] > 0)
    mean = rows["minutes"].sum() / len(rows)
    return metric_frame(
        table,
        TIME_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"average daily minutes per active {unit}", mean, " min"),
    )
