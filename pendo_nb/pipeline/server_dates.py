"""The dates a pipeline's ``timeSeries`` covers, read from the server's clock for its card.

"dayRange from now(), count -7" means what the *server* makes of it (its clock, the
subscription's time zone), so the card asks the server, through :func:`pendo_nb.aggregate` like
any other query: one row of visitors selecting the first period's start and the end of the last
period, written by ``formatTime`` in the subscription's time zone. The answer is kept per client
for a few minutes, so showing a pipeline again costs nothing. Any failure (not connected, a
replay without this probe, a server that refuses ``formatTime``) gives ``None``: a card never
raises.
"""

from __future__ import annotations

import json
import time
import weakref
from typing import Any

from pendo_nb.api.connect import resolve
from pendo_nb.api.functions import aggregate
from pendo_nb.pipeline.timeseries import TimeSeries
from pendo_nb.pulls.server_clock import range_expressions

# Period -> (startOfPeriod name, dateAdd unit, formatTime layout). The documented period names
# of startOfPeriod are daily/weekly/monthly (reference 3.7); hours have none, so an hour's
# start is written by the layout alone ("00" is literal text in a Go layout: minutes dropped),
# the bounds taken as they are.
_PERIOD_PARTS = {
    "hourRange": (None, "hours", "2006-01-02 15:00"),
    "hourly": (None, "hours", "2006-01-02 15:00"),
    "dayRange": ("daily", "days", "2006-01-02"),
    "daily": ("daily", "days", "2006-01-02"),
    "weekRange": ("weekly", "weeks", "2006-01-02"),
    "weekly": ("weekly", "weeks", "2006-01-02"),
    "monthRange": ("monthly", "months", "2006-01-02"),
    "monthly": ("monthly", "months", "2006-01-02"),
}

#: Seconds a resolved range is reused: "now()" moves, but a card shown again within a few
#: minutes should not cost a request (nor show a different day at most a few minutes late).
_FRESH_SECONDS = 300.0

_resolved: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, str | None]]] = (
    weakref.WeakKeyDictionary()
)


def _range_texts(series: TimeSeries) -> dict[str, str]:
    """``{"start", "end"}``: Pendo expressions writing the range's first day and its end
    (exclusive) as text in the subscription's time zone."""
    snap, unit, layout = _PERIOD_PARTS[series.period]
    last = None if series.last is None else str(series.last)
    start, end = range_expressions(
        str(series.first), unit=unit, snap=snap, count=series.count, last=last
    )
    return {"start": f'formatTime("{layout}", {start})', "end": f'formatTime("{layout}", {end})'}


def connected_base_url() -> str:
    """The default client's host (its curl command then runs as shown), else Pendo's US host."""
    try:
        return resolve(None).base_url
    except Exception:  # not connected
        return "https://app.pendo.io"


def describe_on_server(series: TimeSeries) -> str | None:
    """``"dayRange: 2026-10-25 → 2026-11-01 (server clock)"`` on the default client, or
    ``None`` when not connected or when the server could not say."""
    try:
        client = resolve(None)
    except Exception:  # not connected: the card shows the expressions instead
        return None
    key = json.dumps(series.to_json(), sort_keys=True)
    known = _resolved.setdefault(client, {})
    cached = known.get(key)
    if cached is not None and time.monotonic() - cached[0] < _FRESH_SECONDS:
        return cached[1]
    text = _ask(client, series)
    known[key] = (time.monotonic(), text)
    return text


def _ask(client: Any, series: TimeSeries) -> str | None:
    probe = [{"source": {"visitors": None}}, {"limit": 1},
             {"select": _range_texts(series)}]  # fmt: skip
    try:
        # refresh: the HTTP cache may hold this probe from an earlier "now()" for an hour.
        frame = aggregate(probe, client=client, refresh=True, progress=False)
        start, end = frame.iloc[0]["start"], frame.iloc[0]["end"]
    except Exception:  # a repr never raises: any failure shows the expressions instead
        return None
    if not (isinstance(start, str) and isinstance(end, str)):
        return None
    return f"{series.period}: {start} → {end} (server clock)"
