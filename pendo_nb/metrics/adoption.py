"""Core event adoption and the Product Engagement Score (PES).

Core events: "Designate up to 10 features, pages, and track events per app"
(support.pendo.io/hc/en-us/articles/360049089172). PES: "a single number that represents the
combined impact of feature adoption, return user stickiness, and new user growth", and "PES is the
average of each component score" (support.pendo.io/hc/en-us/articles/360054782691). Pendo's own
formulas for the Adoption and Growth components were not found in any public source: the ones
here are assumptions, named as such in the frame (``basis``), the docstrings and the docs, and
their choices are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.errors import ValidationError
from pendo_nb.metrics.activity import RATIOS, ratio_table
from pendo_nb.metrics.core_events import resolve_events
from pendo_nb.metrics.days import DAY, day_range
from pendo_nb.metrics.frame import MetricFrame, headline, metric_frame
from pendo_nb.metrics.queries import Requests, first_visits, unit_day_rows, unit_field

ADOPTION_COLUMNS = {
    "event": "str",
    "kind": "str",
    "id": "str",
    "adopters": "Int64",
    "active": "Int64",
    "share": "Float64",
}
PES_COLUMNS = {"component": "str", "score": "Float64", "basis": "str", "detail": "str"}


def feature_adoption(
    core_events: str | Sequence[str],
    unit: str = "visitor",
    start: Any = None,
    end: Any = None,
    *,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """For each core event, the share of active units that used it in the range.

    Parameters
    ----------
    core_events : str or list of str
        Pages, features and track types, by id or name (Pendo allows up to 10 per app).
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
        One row per core event, in the order given: ``event`` (its name), ``kind``, ``id``,
        ``adopters`` (active units that used it), ``active`` (units active in the range: any
        page load or click) and ``share`` (percent). The headline is the mean share. Empty,
        with these columns, when nobody was active.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> used = pn.metrics.feature_adoption(["Dashboard", "Create Project"], end="2026-10-31")
    >>> list(used["event"])
    ['Dashboard', 'Create Project']
    """
    client = resolve(client)
    unit_field(unit)
    events = resolve_events(client, core_events, "feature_adoption(core_events)")
    first, last = day_range(start, end, client, default_days=30)
    requests = Requests(client)
    active_units = set(unit_day_rows(requests, unit, first, last, app_id=app_id)["unit"])
    if not active_units:
        return metric_frame(None, ADOPTION_COLUMNS, requests.sent, unit=unit)
    used = core_event_rows(requests, events, unit, first, last, app_id=app_id)
    used = used[used["unit"].isin(active_units)]
    adopters = used.groupby("object")["unit"].nunique()
    table = events.rename(columns={"name": "event"}).assign(
        adopters=adopters.reindex(events["id"], fill_value=0).to_numpy(),
        active=len(active_units),
    )
    table["share"] = 100 * table["adopters"] / table["active"]
    return metric_frame(
        table,
        ADOPTION_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(
            f"mean adoption of the core events ({unit}s)", table["share"].mean(), "%"
        ),
    )


def core_event_rows(
    requests: Requests,
    events: pd.DataFrame,
    unit: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    app_id: Any,
) -> pd.DataFrame:
    """(``day``, ``unit``, ``object``) rows of the core ``events``: one aggregation per kind."""
    parts = [
        unit_day_rows(
            requests, unit, first, last, app_id=app_id, kind=str(kind), ids=list(group["id"])
        )
        for kind, group in events.groupby("kind", sort=False)
    ]
    return pd.concat(parts, ignore_index=True)


def pes(
    core_events: str | Sequence[str],
    unit: str = "visitor",
    end: Any = None,
    *,
    window: int = 30,
    stickiness_ratio: str = "DAU/MAU",
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """The Product Engagement Score and its three components (PROVISIONAL: see the assumptions).

    Documented by Pendo (support.pendo.io/hc/en-us/articles/360054782691, pendo.io/pendo-blog/
    ?p=5874): PES combines adoption, stickiness and growth into one score from 0 to 100, and
    "PES is the average of each component score"; adoption is "based on usage of … Core Events";
    stickiness is "the 30 day rolling average of the percentage of monthly active users who
    return on a more frequent basis".

    Assumptions (NOT FOUND in Pendo's public pages; each is a parameter or said here):

    - **Adoption**: the mean, over the units active in the ``window``, of the share of the core
      events each used in it (percent).
    - **Stickiness**: the mean of the daily ``stickiness_ratio`` over the ``window`` (Pendo's
      documented 30-day rolling average; which ratio Pendo uses is not said: DAU/MAU assumed).
    - **Growth**: ``100 * (new + recovered) / (new + recovered + dropped)``, comparing the
      ``window`` with the one before it: new units first visited in the window, recovered ones
      are active in it but not in the previous window and came before, dropped ones were active
      in the previous window only. Third parties restate Pendo's growth as "(new + recovered
      users divided by churned users)" (userpilot.com/blog/product-engagement-score), a ratio
      without bounds; this share keeps the component on PES's 0-100 scale (50 = as many came as
      left).

    Parameters
    ----------
    core_events : str or list of str
        Pages, features and track types, by id or name (up to 10 per app in Pendo).
    unit : {"visitor", "account"}
    end : date, str or datetime, optional
        The last day (included); default yesterday on the server's clock.
    window : int
        Days of each window (default 30).
    stickiness_ratio : {"DAU/MAU", "DAU/WAU", "WAU/MAU"}
        The ratio averaged for the stickiness component.
    app_id : int, str or list, optional
        Apps to count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        Rows ``adoption``, ``stickiness``, ``growth`` and ``PES``: ``score`` (0-100),
        ``basis`` (``"documented"`` or ``"assumption"``) and ``detail`` (the counts behind it).
        The headline is the PES. Empty, with these columns, when nobody was active.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> score = pn.metrics.pes(["Dashboard", "Create Project"], end="2026-10-31")
    >>> list(score["component"])
    ['adoption', 'stickiness', 'growth', 'PES']
    """
    if stickiness_ratio not in RATIOS:
        raise ValidationError(
            f"stickiness_ratio must be one of {', '.join(RATIOS)}, got {stickiness_ratio!r}"
        )
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValidationError(f"window must be a positive number of days, got {window!r}")
    client = resolve(client)
    unit_field(unit)
    events = resolve_events(client, core_events, "pes(core_events)")
    last = day_range(None, end, client, default_days=window)[1]
    first = last - (window - 1) * DAY
    before = first - window * DAY
    since = min(before, first - (RATIOS[stickiness_ratio][1] - 1) * DAY)
    requests = Requests(client)
    rows = unit_day_rows(requests, unit, since, last, app_id=app_id)
    now = set(rows.loc[rows["day"] >= first, "unit"])
    if not now:
        return metric_frame(None, PES_COLUMNS, requests.sent, unit=unit)
    earlier = set(rows.loc[(rows["day"] >= before) & (rows["day"] < first), "unit"])
    used = core_event_rows(requests, events, unit, first, last, app_id=app_id)
    per_unit = used[used["unit"].isin(now)].groupby("unit")["object"].nunique()
    adoption = 100 * float(per_unit.reindex(list(now), fill_value=0).mean()) / len(events)
    stickiness = float(ratio_table(rows, stickiness_ratio, first, last)["ratio"].mean())
    newcomers = set(first_visits(requests, unit, first, last)()["unit"]) & now
    recovered = now - earlier - newcomers
    dropped = earlier - now
    moved = len(newcomers) + len(recovered) + len(dropped)
    growth = 100 * (len(newcomers) + len(recovered)) / moved if moved else float("nan")
    scores = [adoption, stickiness, growth]
    table = pd.DataFrame(
        {
            "component": ["adoption", "stickiness", "growth", "PES"],
            "score": [*scores, sum(scores) / 3],
            "basis": ["assumption", "documented", "assumption", "documented"],
            "detail": [
                f"{len(now)} active {unit}s, {len(events)} core events",
                f"mean daily {stickiness_ratio} over {window} days",
                f"{len(newcomers)} new + {len(recovered)} recovered vs {len(dropped)} dropped",
                "mean of the three components",
            ],
        }
    )
    return metric_frame(
        table,
        PES_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"PES ({unit}s, {window} days to {last.date()})", table["score"].iloc[3]),
    )
