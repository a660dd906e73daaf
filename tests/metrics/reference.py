"""Independent computations of the metrics, from the sandbox's raw rows.

Rows are fetched straight from the sandbox server with plain ``requests`` (no pendo_nb client,
no pendo_nb.metrics): the ``events``, ``pageEvents``... sources at *hour* grain, ungrouped, so the
local day of each row is worked out here from its hour, in the subscription's time zone. Each
metric is then written the plain way (sets of units per day, loops over days), as a reader of
Pendo's definitions would, never as pendo_nb.metrics writes it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import requests

ANONYMOUS = ("_PENDO_T_", "PENDO_T")
UNIT_FIELDS = {"visitor": "visitorId", "account": "accountId"}


def post(server, pipeline: list) -> list[dict]:
    """The rows of a pipeline, asked of the sandbox over HTTP."""
    body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
    answer = requests.post(
        f"{server.url}/api/v1/aggregation",
        json=body,
        headers={"x-pendo-integration-key": server.key},
        timeout=120,
    )
    answer.raise_for_status()
    return answer.json()["results"]


def local_midnight_ms(day: str, tz: str) -> int:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), ZoneInfo(tz))
    return int(start.timestamp() * 1000)


def hourly_rows(
    server, first: str, last: str, tz: str, source: str = "events", **params
) -> pd.DataFrame:
    """Raw hour-grain rows of ``source`` for the local days ``first``..``last`` (included),
    with ``day``: the row's local calendar day, worked out from its ``hour``."""
    start = local_midnight_ms(first, tz)
    end = local_midnight_ms((dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat(), tz)
    series = {"period": "hourRange", "first": start, "count": (end - start) // 3_600_000}
    spec = {"appId": 'expandAppIds("*")', **params}
    rows = pd.DataFrame(post(server, [{"source": {source: spec, "timeSeries": series}}]))
    if rows.empty:
        return pd.DataFrame(columns=["visitorId", "accountId", "day", "numMinutes", "lastTime"])
    hours = pd.to_datetime(rows["hour"], unit="ms", utc=True).dt.tz_convert(tz)
    return rows.assign(day=hours.dt.tz_localize(None).dt.normalize())


def active_units(rows: pd.DataFrame, unit: str) -> pd.DataFrame:
    """(day, unit) rows of identified visitors / of accounts."""
    field = UNIT_FIELDS[unit]
    ids = rows[field].fillna("")
    keep = ids != ""
    if unit == "visitor":
        keep &= ~ids.str.startswith(ANONYMOUS)
    return rows.loc[keep, ["day", field]].rename(columns={field: "unit"})


def units_by_day(pairs: pd.DataFrame) -> dict[pd.Timestamp, set[str]]:
    return {day: set(group["unit"]) for day, group in pairs.groupby("day")}


def stickiness(server, tz, unit, first, last, ratio, hide_weekends):
    """Rows of (day, numerator, denominator, ratio) and the mean ratio: sets per day."""
    spans = {"DAU/MAU": (1, 30), "DAU/WAU": (1, 7), "WAU/MAU": (7, 30)}[ratio]
    lookback = (pd.Timestamp(first) - pd.Timedelta(days=spans[1] - 1)).date().isoformat()
    by_day = units_by_day(active_units(hourly_rows(server, lookback, last, tz), unit))
    out = []
    for day in pd.date_range(first, last, freq="D"):
        if hide_weekends and day.day_of_week >= 5:
            continue
        sets = []
        for span in spans:
            seen: set[str] = set()
            for back in range(span):
                seen |= by_day.get(day - pd.Timedelta(days=back), set())
            sets.append(len(seen))
        ratio_value = 100 * sets[0] / sets[1] if sets[1] else None
        out.append((day, sets[0], sets[1], ratio_value))
    return out


def first_visits(server, unit: str, tz: str) -> dict[str, pd.Timestamp]:
    """Each identified unit's first-visit day (local), from the raw visitors/accounts rows."""
    rows = post(server, [{"source": {f"{unit}s": None}}])
    out = {}
    for row in rows:
        unit_id = row[UNIT_FIELDS[unit]]
        if unit == "visitor" and unit_id.startswith(ANONYMOUS):
            continue
        first = row.get("metadata", {}).get("auto", {}).get("firstvisit")
        if first is None:
            continue
        local = pd.Timestamp(first, unit="ms", tz="UTC").tz_convert(tz)
        out[unit_id] = local.tz_localize(None).normalize()
    return out


def catalog_id(server, source: str, name: str) -> str:
    """The id of the page / feature / track type / guide called ``name``."""
    return next(
        row["id"] for row in post(server, [{"source": {source: None}}]) if row["name"] == name
    )


def raw_rows(server, source: str, first: str, last: str, tz: str, **params) -> pd.DataFrame:
    """Ungrouped guideEvents / pollEvents rows of the local days ``first``..``last``, with the
    local ``day`` of each ``browserTime``."""
    start = local_midnight_ms(first, tz)
    end = local_midnight_ms((dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat(), tz)
    series = {"period": "hourRange", "first": start, "count": (end - start) // 3_600_000}
    rows = pd.DataFrame(post(server, [{"source": {source: params or None, "timeSeries": series}}]))
    if rows.empty:
        return rows
    times = pd.to_datetime(rows["browserTime"], unit="ms", utc=True).dt.tz_convert(tz)
    return rows.assign(day=times.dt.tz_localize(None).dt.normalize())
