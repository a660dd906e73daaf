"""A month's headline numbers in one frame: the figures Pendo's dashboards lead with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.metrics.activity import active, frequency, stickiness, time_on_app
from pendo_nb.metrics.adoption import pes
from pendo_nb.metrics.days import DAY, calendar_day, server_today
from pendo_nb.metrics.frame import PIPELINES, MetricFrame, metric_frame
from pendo_nb.metrics.guides import nps
from pendo_nb.pipeline import Pipeline

SUMMARY_COLUMNS = {
    "metric": "str",
    "value": "Float64",
    "unit": "str",
    "shown": "str",
    "days": "str",
}


def summary(
    unit: str = "visitor",
    month: Any = None,
    *,
    core_events: str | Sequence[str] | None = None,
    poll: str | None = None,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """A month's headline numbers for a product, one row each.

    Active units (distinct, and the mean per day), stickiness (mean daily DAU/MAU), average
    daily minutes per active unit, the share of highly active units (13 or more days in the
    last 30, Pendo's High band); with ``poll``, the month's NPS; with ``core_events``, the PES
    on the month's last day (provisional: see :func:`pes`). Each figure is the headline of the
    metric function named in :mod:`pendo_nb.metrics`, computed as that function computes it.

    Parameters
    ----------
    unit : {"visitor", "account"}
    month : date, str or datetime, optional
        Any day of the month (``"2026-10"`` works). Default: the last complete calendar month
        on the server's clock.
    core_events : str or list of str, optional
        Pages, features and track types (ids or names) for the PES row.
    poll : str, optional
        An NPS poll (or the guide holding it) for the NPS row.
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        ``metric``, ``value``, ``unit`` (``""``, ``"%"``, ``"min"``), ``shown`` (the value as
        read: ``"1,606"``, ``"33.4%"``, ``"13.4 min"``) and ``days`` (the days the
        figure covers); ``pipelines`` holds every aggregation sent.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> october = pn.metrics.summary(month="2026-10")
    >>> october["metric"].tolist()[:2]
    ['active visitors', 'mean daily active visitors']
    """
    client = resolve(client)
    today = server_today(client)
    if month is None:
        first = (today.replace(day=1) - DAY).replace(day=1)
    else:
        first = calendar_day(month, "month", client.tz).replace(day=1)
    last = min(first + pd.offsets.MonthEnd(0), today - DAY)
    span = f"{first.date()} to {last.date()}"
    shared: dict[str, Any] = {"app_id": app_id, "client": client}
    parts: list[tuple[str, MetricFrame, str, str]] = [
        (f"active {unit}s", active(unit, "month", first, last, **shared), "", span),
        (f"mean daily active {unit}s", active(unit, "day", first, last, **shared), "", span),
        ("stickiness (mean daily DAU/MAU)",
         stickiness("DAU/MAU", unit, first, last, **shared), "%", span),
        (f"daily minutes per active {unit}", time_on_app(unit, first, last, **shared), "min", span),
    ]  # fmt: skip
    high = frequency(unit, last, **shared)
    high_share = high.loc[high["band"] == "High", "share"]
    rows = [(name, frame.headline, sign, days) for name, frame, sign, days in parts]
    rows.append(
        (
            f"highly active {unit}s (13+ of the last 30 days)",
            float(high_share.iloc[0]) if len(high_share) else None,
            "%",
            f"{(last - 29 * DAY).date()} to {last.date()}",
        )
    )
    frames = [frame for _, frame, _, _ in parts] + [high]
    if poll is not None:
        score = nps(poll, first, last, period=None, client=client)
        rows.append(("NPS", score.headline, "", span))
        frames.append(score)
    if core_events is not None:
        engagement = pes(core_events, unit, last, app_id=app_id, client=client)
        rows.append(("PES (provisional)", engagement.headline, "", f"30 days to {last.date()}"))
        frames.append(engagement)
    table = pd.DataFrame(rows, columns=["metric", "value", "unit", "days"])
    table["shown"] = [
        _shown(value, sign) for value, sign in zip(table["value"], table["unit"], strict=True)
    ]
    sent = [Pipeline.from_json(body) for frame in frames for body in frame.attrs[PIPELINES]]
    return metric_frame(table, SUMMARY_COLUMNS, sent, unit=unit)


def _shown(value: float | None, unit: str) -> str:
    """A figure as read: counts whole with separators, the rest to one decimal, with its unit."""
    if value is None or pd.isna(value):
        return "no data"
    if unit == "%":
        return f"{value:,.1f}%"
    if unit:
        return f"{value:,.1f} {unit}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
