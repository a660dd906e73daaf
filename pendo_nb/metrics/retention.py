"""Retention: of the units that first came in a month (or week), how many came back, period
by period, each counted from its own first visit.

Pendo's definition (support.pendo.io/hc/en-us/articles/360032202931): "a month is defined as 30
days, and a week is defined as 7 days … each individual visitor or account has its own 30-day or
7-day timeframe that rolls up into a cohort"; cohorts are keyed on "First Visit"; only identified
users count; the activity can be any activity or one page, feature or track event.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.errors import ValidationError
from pendo_nb.metrics.core_events import resolve_events
from pendo_nb.metrics.days import DAY, calendar_day, period_starts, server_today
from pendo_nb.metrics.frame import MetricFrame, headline, metric_frame
from pendo_nb.metrics.queries import Requests, first_visits, unit_day_rows, unit_field

#: Cohort sizes and the length of each unit's own periods, in days.
PERIOD_DAYS = {"month": 30, "week": 7}
RETENTION_COLUMNS = {
    "cohort": "datetime64[us]",
    "period": "Int64",
    "size": "Int64",
    "retained": "Int64",
    "rate": "Float64",
    "complete": "boolean",
}


def retention(
    cohort: str = "month",
    unit: str = "visitor",
    start: Any = None,
    end: Any = None,
    *,
    activity: str | None = None,
    periods: int = 6,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Cohort retention as Pendo defines it: a tidy frame whose pivot is the familiar triangle.

    Each identified unit joins the cohort of the month (or Sunday-to-Saturday week) of its first
    visit (``metadata.auto.firstvisit``). Its period 0 is the 30 (or 7) days starting on its
    first-visit day, period 1 the next 30 (or 7), and so on: "each individual visitor or account
    has its own 30-day or 7-day timeframe that rolls up into a cohort"
    (support.pendo.io/hc/en-us/articles/360032202931). A unit is retained in period *k* when it
    was active (``activity``) on at least one day of its own period *k*.

    Parameters
    ----------
    cohort : {"month", "week"}
        Cohort size, and the length of each period (30 or 7 days).
    unit : {"visitor", "account"}
        Identified visitors, or accounts.
    start, end : date, str or datetime, optional
        Cohorts are the units whose first visit falls from ``start`` to ``end`` (both included);
        activity is counted up to ``end``. Default: ``end`` yesterday, ``start`` the first day
        of the cohort ``periods`` periods back (Pendo's default: the last six months).
    activity : str, optional
        Narrow "active" to one page, feature or track type (id or name). Default: any event.
    periods : int
        Periods shown (default 6: periods 0 to 5).
    app_id : int, str or list, optional
        Apps whose events count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        One row per cohort and period begun by ``end`` for some unit of the cohort: ``cohort``
        (its first day), ``period``, ``size`` (units in the cohort), ``retained``, ``rate``
        (percent) and ``complete`` (every unit's period *k* ended by ``end``; an incomplete
        period can still grow). ``frame.pivot(index="cohort", columns="period",
        values="rate")`` is the triangle. Empty, with these columns, when no unit first came in
        the range. The headline is the mean rate of period 1 over complete cohorts.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> cohorts = pn.metrics.retention("week", start="2026-09-06", end="2026-10-31", periods=4)
    >>> list(cohorts.columns)
    ['cohort', 'period', 'size', 'retained', 'rate', 'complete']
    >>> cohorts.pivot(index="cohort", columns="period", values="rate").shape[1]
    4
    """
    if cohort not in PERIOD_DAYS:
        raise ValidationError(f"cohort must be 'month' or 'week', got {cohort!r}")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ValidationError(f"periods must be a positive integer, got {periods!r}")
    unit_field(unit)
    client = resolve(client)
    length = PERIOD_DAYS[cohort]
    last = server_today(client) - DAY if end is None else calendar_day(end, "end", client.tz)
    if start is None:
        back = pd.Series([last - periods * length * DAY])
        first = period_starts(back, cohort).iloc[0]
    else:
        first = calendar_day(start, "start", client.tz)
    if first > last:
        raise ValidationError(f"start ({first.date()}) is after end ({last.date()})")
    kind, ids = "any", None
    if activity is not None:
        event = resolve_events(client, activity, "retention(activity)").iloc[0]
        kind, ids = str(event["kind"]), [str(event["id"])]
    requests = Requests(client)
    newcomers = first_visits(requests, unit, first, last)
    rows = unit_day_rows(requests, unit, first, last, app_id=app_id, kind=kind, ids=ids)
    units = newcomers()
    if units.empty:
        return metric_frame(None, RETENTION_COLUMNS, requests.sent, unit=unit)
    table = cohort_table(units, rows[["day", "unit"]], cohort, last, periods)
    complete_first = table[table["complete"] & (table["period"] == 1)]
    return metric_frame(
        table,
        RETENTION_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(
            f"mean period-1 retention ({cohort}ly cohorts)", complete_first["rate"].mean(), "%"
        ),
    )


def cohort_table(
    units: pd.DataFrame, days: pd.DataFrame, cohort: str, last: pd.Timestamp, periods: int
) -> pd.DataFrame:
    """Cohort rows from ``units`` (``unit``, ``first_day``) and their active ``days``."""
    length = PERIOD_DAYS[cohort]
    units = units.assign(cohort=period_starts(units["first_day"], cohort))
    # Periods each unit has begun (ceil) and ended (floor) by the end of `last`.
    elapsed = (last - units["first_day"]).dt.days + 1
    units = units.assign(begun=-(-elapsed // length), ended=elapsed // length)
    by_cohort = units.groupby("cohort").agg(
        units=("unit", "size"), begun=("begun", "max"), ended=("ended", "min")
    )
    active = days.merge(units[["unit", "first_day", "cohort"]], on="unit")
    active["period"] = (active["day"] - active["first_day"]).dt.days // length
    active = active[(active["period"] >= 0) & (active["period"] < periods)]
    retained = active.groupby(["cohort", "period"])["unit"].nunique()
    rows = [
        (cohort_start, period, size, period < ended)
        for cohort_start, size, begun, ended in by_cohort.itertuples()
        for period in range(min(begun, periods))
    ]
    table = pd.DataFrame(rows, columns=["cohort", "period", "size", "complete"])
    keys = pd.MultiIndex.from_frame(table[["cohort", "period"]])
    table["retained"] = retained.reindex(keys, fill_value=0).to_numpy()
    table["rate"] = 100 * table["retained"] / table["size"]
    return table
