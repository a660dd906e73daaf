"""The server's clock and calendar: "now", zone-less dates and period boundaries.

"The last 14 days" and "2026-03-01" mean what the *server* says they mean (its clock, the
subscription's time zone), never this machine's. Pendo has no source-less query, so the server
is asked by selecting expressions (``now()``, ``date("...")``, ``startOfPeriod(...)``) on one
visitor row: :func:`select_on_server`. :mod:`pendo_nb.pulls.history` and
:mod:`pendo_nb.pulls.windows` both read their ranges that way.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pendo_nb.errors import PendoAPIError
from pendo_nb.frames.times import moment
from pendo_nb.http.connection import PendoConnection


def select_on_server(
    client: PendoConnection, expressions: Mapping[str, str], *, refresh: bool = False
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


def server_range(client: PendoConnection, start: Any, end: Any) -> tuple[int, int, int]:
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
