"""Guide metrics: NPS from an NPS poll, and guide conversion.

NPS: "Detractors (0 to 6)", "Passives (7 to 8)", promoters 9 to 10; the score is the percentage of
promoters minus the percentage of detractors, from -100 to 100
(support.pendo.io/hc/en-us/articles/33775375619995). Conversion: a visitor converted when "The
first guide step was viewed" and "The conversion action occurred after seeing the guide"
(support.pendo.io/hc/en-us/articles/4403525623323).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.api.connect import resolve
from pendo_nb.errors import ValidationError
from pendo_nb.metrics.core_events import resolve_events
from pendo_nb.metrics.days import check_period, day_range, iso, period_starts
from pendo_nb.metrics.frame import MetricFrame, headline, metric_frame
from pendo_nb.metrics.queries import Requests, unit_day_rows, unit_field, units_only
from pendo_nb.pipeline import agg, source

#: NPS groups: (name, lowest answer, highest answer).
NPS_GROUPS = (("detractors", 0, 6), ("passives", 7, 8), ("promoters", 9, 10))
NPS_COLUMNS = {
    "scope": "str",
    "period": "datetime64[us]",
    "respondents": "Int64",
    "detractors": "Int64",
    "passives": "Int64",
    "promoters": "Int64",
    "detractors_share": "Float64",
    "passives_share": "Float64",
    "promoters_share": "Float64",
    "score": "Float64",
}
CONVERSION_COLUMNS = {
    "guide": "str",
    "target": "str",
    "saw": "Int64",
    "converted": "Int64",
    "rate": "Float64",
}


def _guides(requests: Requests) -> pd.DataFrame:
    """Every guide's ``id``, ``name``, ``steps`` and ``polls``."""
    pipeline = source.guides().select(id="id", name="name", steps="steps", polls="polls")
    return requests.run_whole(pipeline)


def _guide(guides: pd.DataFrame, guide: str, where: str) -> pd.Series:
    """The guide whose id or name is ``guide``."""
    if not isinstance(guide, str) or not guide:
        raise ValidationError(f"{where}: give a guide id or name, got {guide!r}")
    found = guides[guides["id"] == guide]
    if found.empty:
        found = guides[guides["name"] == guide]
    if len(found) != 1:
        problem = "no guide has" if found.empty else "several guides have"
        raise ValidationError(f"{where}: {problem} the id or name {guide!r}")
    return found.iloc[0]


def _nps_poll(guides: pd.DataFrame, poll: str) -> tuple[str, str]:
    """``(guide id, poll id)`` of ``poll``: an NPS poll's id, or a guide holding one NPS poll."""
    for guide_id, polls in zip(guides["id"], guides["polls"], strict=True):
        if any(item.get("id") == poll for item in polls or []):
            return str(guide_id), poll
    guide = _guide(guides, poll, "nps(poll)")
    nps_polls = [
        item["id"]
        for item in guide["polls"] or []
        if (item.get("attributes") or {}).get("type") == "NPSRating"
    ]
    if len(nps_polls) != 1:
        raise ValidationError(
            f"nps(poll): guide {guide['name']!r} has {len(nps_polls)} NPS polls; give the poll id"
        )
    return str(guide["id"]), str(nps_polls[0])


def nps(
    poll: str,
    start: Any = None,
    end: Any = None,
    *,
    period: str | None = "month",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Net Promoter Score from an NPS poll: counts, shares and score, overall and per period.

    Detractors answer 0 to 6, passives 7 or 8, promoters 9 or 10; the score is the percentage
    of promoters minus that of detractors (-100 to 100)
    (support.pendo.io/hc/en-us/articles/33775375619995). Each visitor counts once per row, with
    their latest answer in it (our choice where a visitor answered more than once).

    Parameters
    ----------
    poll : str
        The NPS poll's id, or the id or name of a guide holding one NPS poll.
    start, end : date, str or datetime, optional
        Days of the answers, both included (default: the 90 days ending yesterday).
    period : {"month", "week", "day"} or None
        Also one row per period (default ``"month"``); ``None``: the overall row only.
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        First the ``"overall"`` row (``scope``; its ``period`` is ``start``), then one row per
        period with answers: ``respondents``, ``detractors``, ``passives``, ``promoters``,
        their ``*_share`` (percent) and ``score``. The headline is the overall score. Empty,
        with these columns, when nobody answered.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> score = pn.metrics.nps("Acme Projects NPS", "2026-08-01", "2026-10-31")
    >>> score["scope"].tolist()
    ['overall', 'month', 'month', 'month']
    """
    client = resolve(client)
    first, last = day_range(start, end, client, default_days=90)
    if period is not None:
        check_period(period)
    requests = Requests(client)
    guide_id, poll_id = _nps_poll(_guides(requests), poll)
    answers = (
        source.poll_events(guide_id=guide_id, poll_id=poll_id)
        .between(iso(first), iso(last))
        .eval(answerDay='startOfPeriod("daily", browserTime)')
        .group("answerDay", "visitorId", "pollResponse", answeredAt=agg.max("browserTime"))
    )
    rows = requests.run(answers, first, last)
    rows = rows[pd.to_numeric(rows["pollResponse"], errors="coerce").notna()]
    if rows.empty:
        return metric_frame(None, NPS_COLUMNS, requests.sent, unit="visitor")
    rows = rows.assign(
        score=pd.to_numeric(rows["pollResponse"]).astype(int),
        day=rows["answerDay"].astype("datetime64[us]"),
    )
    overall = _nps_row(rows, "overall", first)
    table = [overall]
    if period is not None:
        keys = period_starts(rows["day"], period)
        table += [_nps_row(rows[keys == key], period, key) for key in sorted(keys.unique())]
    frame = pd.DataFrame(table)
    return metric_frame(
        frame,
        NPS_COLUMNS,
        requests.sent,
        headline=headline("NPS", overall["score"], "", digits=0),
        unit="visitor",
    )


def _nps_row(answers: pd.DataFrame, scope: str, start: pd.Timestamp) -> dict[str, Any]:
    """One NPS row from ``answers``: each visitor's latest answer among them."""
    latest = answers.sort_values("answeredAt").drop_duplicates("visitorId", keep="last")
    row: dict[str, Any] = {"scope": scope, "period": start, "respondents": len(latest)}
    for name, low, high in NPS_GROUPS:
        row[name] = int(latest["score"].between(low, high).sum())
        row[f"{name}_share"] = 100 * row[name] / len(latest)
    row["score"] = row["promoters_share"] - row["detractors_share"]
    return row


def guide_conversion(
    guide: str,
    target: str,
    unit: str = "visitor",
    start: Any = None,
    end: Any = None,
    *,
    app_id: Any = "*",
    client: PendoClient | None = None,
) -> MetricFrame:
    """Of the units that saw a guide's first step, how many did the target afterwards.

    A unit converted when "The first guide step was viewed" and "The conversion action occurred
    after seeing the guide" (support.pendo.io/hc/en-us/articles/4403525623323): its last
    ``target`` event in the range is later than its first view of the first step in the range.

    Parameters
    ----------
    guide : str
        The guide's id or name.
    target : str
        A page, feature or track type (id or name): the conversion action.
    unit : {"visitor", "account"}
    start, end : date, str or datetime, optional
        Days, both included (default: the 30 days ending yesterday).
    app_id : int, str or list, optional
        Apps whose target events count (default ``"*"``: all).
    client : PendoClient, optional
        Default: the last client made by :func:`pendo_nb.connect`.

    Returns
    -------
    MetricFrame
        One row: ``guide`` and ``target`` (names), ``saw``, ``converted`` and ``rate``
        (percent). The headline is the rate. Empty, with these columns, when nobody saw the
        first step in the range.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> _ = pn.connect(sandbox=True)
    >>> converted = pn.metrics.guide_conversion(
    ...     "Welcome to Acme Projects", "Create Project", start="2026-09-01", end="2026-10-31"
    ... )
    >>> list(converted.columns)
    ['guide', 'target', 'saw', 'converted', 'rate']
    """
    client = resolve(client)
    field = unit_field(unit)
    first, last = day_range(start, end, client, default_days=30)
    requests = Requests(client)
    found = _guide(_guides(requests), guide, "guide_conversion(guide)")
    steps = sorted(found["steps"] or [], key=lambda step: step.get("rank", 0))
    if not steps:
        raise ValidationError(f"guide_conversion(guide): guide {found['name']!r} has no steps")
    event = resolve_events(client, target, "guide_conversion(target)").iloc[0]
    seen = units_only(
        source.guide_events(guide_id=str(found["id"]), guide_step_id=str(steps[0]["id"]))
        .between(iso(first), iso(last))
        .filter('type == "guideSeen"'),
        unit,
    ).group(field, firstSeen=agg.min("browserTime"))
    viewers = requests.run(seen, first, last)
    if viewers.empty:
        return metric_frame(None, CONVERSION_COLUMNS, requests.sent, unit=unit)
    acted = unit_day_rows(
        requests, unit, first, last, app_id=app_id, kind=str(event["kind"]),
        ids=[str(event["id"])], last_time=True,
    )  # fmt: skip
    last_act = acted.groupby("unit")["lastTime"].max()
    first_seen = viewers.set_index(field)["firstSeen"]
    after = last_act.reindex(first_seen.index) > first_seen
    converted = int(after.fillna(False).sum())
    table = pd.DataFrame(
        [
            {
                "guide": found["name"],
                "target": event["name"],
                "saw": len(first_seen),
                "converted": converted,
                "rate": 100 * converted / len(first_seen),
            }
        ]
    )
    return metric_frame(
        table,
        CONVERSION_COLUMNS,
        requests.sent,
        unit=unit,
        headline=headline(f"conversion to {event['name']}", table["rate"].iloc[0], "%"),
    )
