"""Times as the server reads them: its clock, the subscription's time zone, epoch milliseconds.

"The last 14 days" and "2026-03-01" mean what the *server* says they mean (its clock, the
subscription's time zone), never this machine's. Pendo has no source-less query, so the server
is asked by selecting expressions (``now()``, ``date("...")``, ``startOfPeriod(...)``) on one
visitor row: :func:`select_on_server`. :mod:`pendo_nb.history` and :mod:`pendo_nb.windows` both
read their ranges that way.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.client import PendoClient
from pendo_nb.errors import PendoAPIError, ValidationError

DAY_MS = 24 * 60 * 60 * 1000


def iso(ms: int) -> str:
    """Epoch ms as ISO 8601 text in UTC (for messages)."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def stamp(ms: int, tz: str) -> pd.Timestamp:
    """Epoch ms as a timestamp in the time zone ``tz``."""
    return pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(tz)


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
    if parsed is pd.NaT:
        raise ValidationError(f"{name} must not be missing")
    if parsed.tzinfo is not None:
        return int(parsed.tz_convert("UTC").value // 1_000_000)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def select_on_server(
    client: PendoClient, expressions: Mapping[str, str], *, refresh: bool = False
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Evaluate ``{name: expression}`` on the server, selected on one visitor row.

    Returns the selected values (empty when the subscription has no visitor), the whole answer
    (its ``startTime`` is the server's clock) and the URL asked. The request's cache expiry is
    the caller's (:func:`pendo_nb.cache_policy.request_expiry`).
    """
    probe = [{"source": {"visitors": None}}, {"limit": 1}, {"select": dict(expressions)}]
    response = client.post_aggregation(probe, refresh=refresh)
    answer = response.json()
    answer = answer if isinstance(answer, dict) else {}
    rows = answer.get("results") or []
    return (rows[0] if rows else {}), answer, response.url


def server_range(client: PendoClient, start: Any, end: Any) -> tuple[int, int, int]:
    """The server's now and ``start``/``end`` in epoch ms, read by the server where needed.

    One uncached aggregation gives ``now()`` and evaluates ``date("...")`` for the times given
    without a zone, so they follow the subscription's time zone and clock. ``end=None`` is now.
    """
    fixed: dict[str, int] = {}
    local: dict[str, str] = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        parsed = moment(value, name)
        if isinstance(parsed, int):
            fixed[name] = parsed
        else:
            local[name] = parsed
    select = {"now": "now()", **{name: f'date("{text}")' for name, text in local.items()}}
    server, answer, _ = select_on_server(client, select, refresh=True)
    now_ms = server.get("now", answer.get("startTime"))
    if not isinstance(now_ms, (int, float)):
        raise PendoAPIError(
            200, method="POST", url=client.base_url, body=str(answer)[:200], hint="no server time"
        )
    for name, text in local.items():
        value = server.get(name)
        if not isinstance(value, (int, float)):
            # No visitor row to evaluate date() on: fall back to UTC, and say so.
            warnings.warn(f"could not read {name}={text!r} on the server; using UTC", stacklevel=4)
            value = pd.Timestamp(text, tz="UTC").value // 1_000_000
        fixed[name] = int(value)
    now_ms = int(now_ms)
    return now_ms, fixed["start"], fixed.get("end", now_ms)
