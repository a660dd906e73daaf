"""The server's clock and calendar: "now", zone-less dates and period boundaries.

"The last 14 days" and "2026-03-01" mean what the *server* says they mean (its clock, the
subscription's time zone), never this machine's. Pendo has no source-less query, so the server
is asked by selecting expressions (``now()``, ``date("...")``, ``startOfPeriod(...)``) on one
visitor row: :func:`select_on_server`. :mod:`pendo_nb.pulls.history` and
:mod:`pendo_nb.pulls.windows` both read their ranges that way; :func:`range_expressions` writes
the start and end of a timeSeries' range for them and for the builder's cards.
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


def range_expressions(
    first: str, *, unit: str, snap: str | None, count: int | None = None, last: str | None = None
) -> tuple[str, str]:
    """Pendo expressions of the start and the end (exclusive) of a timeSeries' range.

    Parameters
    ----------
    first, last : str
        The series' bounds, as expressions (epoch ms are expressions too); ``last`` is read only
        without ``count``.
    unit : str
        The ``dateAdd`` unit of one period: ``"hours"``, ``"days"``, ``"weeks"``, ``"months"``.
    snap : str or None
        The ``startOfPeriod`` period that takes a bound to the start of its period (``"daily"``
        ...), or ``None`` to take the bounds as they are: Pendo documents no hourly
        ``startOfPeriod`` (reference 3.7), and callers differ on hours.
    count : int, optional
        Periods from the one holding ``first``; negative: the ``|count|`` periods ending just
        before it (reference 6.3).

    Returns
    -------
    tuple of str
        The start and the end, evaluated by the server (its clock and the subscription's time
        zone) when selected.

    Examples
    --------
    >>> range_expressions("now()", unit="days", snap="daily", count=-7)
    ('dateAdd(startOfPeriod("daily", now()), -7, "days")', 'startOfPeriod("daily", now())')
    >>> range_expressions("1700000000000", unit="hours", snap=None, last="now()")
    ('1700000000000', 'dateAdd(now(), 1, "hours")')
    """

    def start_of(bound: str) -> str:
        return bound if snap is None else f'startOfPeriod("{snap}", {bound})'

    start = start_of(first)
    if count is not None:
        moved = f'dateAdd({start}, {count}, "{unit}")'
        return (start, moved) if count > 0 else (moved, start)
    if last is None:
        raise ValueError("a range needs a count or a last bound")
    return start, f'dateAdd({start_of(last)}, 1, "{unit}")'


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
