"""Visitor history: Pendo's 24-hour windows stitched into one DataFrame over ``[start, end)``.

``GET /visitor/{id}/history?starttime=ms`` answers 24 hours from ``starttime`` and only within
the last 180 days (reference 2.4), so a range is asked for one day at a time, with the range and
the 180 days read on the server's clock (:mod:`pendo_nb.pulls.server_clock`). Called by
:func:`pendo_nb.visitor_history`, which documents the parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import pandas as pd
from tqdm.auto import tqdm

from pendo_nb.errors import ValidationError
from pendo_nb.frames.plain_reader import rows_to_frame
from pendo_nb.frames.times import DAY_MS, iso, stamp
from pendo_nb.http.connection import PendoConnection
from pendo_nb.pulls.server_clock import server_range

__all__ = ["HISTORY_COLUMNS", "HISTORY_DAYS", "stitch_history"]

#: Pendo keeps visitor history for this many days (reference 2.4).
HISTORY_DAYS = 180
#: Columns of visitor_history, whatever the answer holds (reference 2.4).
HISTORY_COLUMNS = ("visitorId", "windowStart", "type", "ts", "lastTs")
# Their types, so an empty history has the dtypes a full one has.
_HISTORY_TYPES = {
    "visitorId": "string",
    "windowStart": "time",
    "type": "string",
    "ts": "time",
    "lastTs": "time",
}


def stitch_history(
    client: PendoConnection,
    visitor_id: str,
    start: Any,
    end: Any = None,
    *,
    progress: bool | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """The rows of :func:`pendo_nb.visitor_history`, fetched with ``client``."""
    if not isinstance(visitor_id, str) or not visitor_id:  # before the server-time probe
        raise ValidationError(f"visitor_id must be a non-empty string, got {visitor_id!r}")
    now_ms, start_ms, end_ms = server_range(client, start, end)
    earliest = now_ms - HISTORY_DAYS * DAY_MS
    if start_ms < earliest:
        raise ValidationError(
            f"Pendo keeps {HISTORY_DAYS} days of visitor history: start {iso(start_ms)} is "
            f"before the earliest available moment, {iso(earliest)} (server time)"
        )
    end_ms = min(end_ms, now_ms)
    if start_ms >= end_ms:
        raise ValidationError(
            f"start ({iso(start_ms)}) must be before end ({iso(end_ms)}; at most server now)"
        )
    windows = list(range(start_ms, end_ms, DAY_MS))
    show = progress if progress is not None else len(windows) > 7
    rows: list[dict[str, Any]] = []
    responses = []
    for window in _progress(windows, show, f"history of {visitor_id}"):
        still_open = window + DAY_MS > now_ms  # its answer will still change
        response = client.get_visitor_history(visitor_id, window, refresh=refresh or still_open)
        responses.append(response)
        items = response.json() or []
        for item in items:
            if not isinstance(item, dict):
                raise TypeError(f"unexpected history item from {response.url}: {item!r:.80}")
            ts = item.get("ts")
            if isinstance(ts, (int, float)) and not start_ms <= ts < end_ms:
                continue  # the last window reaches past `end`
            rows.append({"visitorId": visitor_id, "windowStart": window, **item})
    attrs = {
        "host": client.host,
        "region": client.region,
        "url": responses[0].url if responses else None,
        "fetched_at": min(r.fetched_at for r in responses),
        "from_cache": all(r.from_cache for r in responses),
        "request_id": None,
        "windows": len(windows),
        "start": stamp(start_ms, client.tz),
        "end": stamp(end_ms, client.tz),
        "server_now": stamp(now_ms, client.tz),
    }
    return rows_to_frame(
        rows, tz=client.tz, columns=HISTORY_COLUMNS, field_types=_HISTORY_TYPES, attrs=attrs
    )


_T = TypeVar("_T")


def _progress(items: list[_T], show: bool, label: str) -> Iterable[_T]:
    if not show:
        return items
    return tqdm(items, desc=label, unit="day")
