"""Window boundaries read from the server: its clock, the range, and the calendar inside it.

The range's start and end are evaluated by the server (its clock and the subscription's time
zone), and so are the calendar boundaries of the windows inside it, so windows align to periods
even across DST changes. Each window is then sent with absolute ``first``/``last`` times: the
same window has the same request, hence the same cache entry, on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pendo_nb.errors import PendoAPIError, PipelineError, ValidationError
from pendo_nb.http.cache_policy import CachePolicy, request_expiry
from pendo_nb.http.connection import PendoConnection
from pendo_nb.pulls.server_clock import range_expressions, select_on_server
from pendo_nb.pulls.windows.plan import (
    HOUR_MS,
    LONGEST_MS,
    SHORTEST_MS,
    UNITS,
    SplitPlan,
    WindowSize,
)


def time_bound(value: Any, where: str) -> str:
    """A timeSeries bound as an expression."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PipelineError(f"windows=: timeSeries.{where} must be a time, got {value!r}")
    if isinstance(value, float):
        value = int(value)
    return str(value)


def _evaluate(
    client: PendoConnection,
    expressions: Mapping[str, str],
    *,
    expiry: float | None,
    refresh: bool = False,
) -> dict[str, int]:
    """Evaluate expressions on the server, as the pipeline's own timeSeries would be.

    The answer is cached for ``expiry`` seconds; every expression must give a time.
    """
    with request_expiry(expiry):
        values, _, url = select_on_server(client, expressions, refresh=refresh)
    missing = [name for name in expressions if not isinstance(values.get(name), int | float)]
    if missing:
        raise PendoAPIError(
            200,
            method="POST",
            url=url,
            body=str(values)[:200],
            hint="could not read the window boundaries from the server (the probe needs one "
            f"visitor; missing: {', '.join(missing)})",
        )
    return {name: int(values[name]) for name in expressions}


def _range_expressions(series: Mapping[str, Any], unit: str) -> tuple[str, str]:
    """Expressions of the timeSeries' start and end (exclusive), as the server resolves them.

    Hours are snapped with ``startOfPeriod("hourly", ...)`` too (see :data:`UNITS`)."""
    period, add, _ = UNITS[unit]
    first = time_bound(series.get("first"), "first")
    if "count" in series:
        count = series["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise PipelineError(
                f"windows=: timeSeries.count must be a non-zero integer, got {count!r}"
            )
        return range_expressions(first, unit=add, snap=period, count=count)
    last = time_bound(series.get("last"), "last")
    return range_expressions(first, unit=add, snap=period, last=last)


def _boundary_expressions(anchor: str, step: int, unit: str, numbers: range) -> dict[str, str]:
    """``b<j>``: ``dateAdd(anchor, j * step, unit)``, the j-th calendar boundary after anchor."""
    add = UNITS[unit][1]
    return {f"b{j}": f'dateAdd({anchor}, {j * step}, "{add}")' for j in numbers}


#: Boundaries asked for in one probe request (keeps the select step a modest size).
PROBE_BATCH = 250


def _grid(
    client: PendoConnection,
    anchor: str,
    step: int,
    unit: str,
    start: int,
    end: int,
    policy: CachePolicy,
) -> list[int]:
    """Calendar boundaries ``dateAdd(anchor, j * step, unit)`` strictly inside (start, end).

    Hours are fixed spans (``dateAdd`` moves them exactly), so they are computed here; longer
    units move the wall clock and are evaluated by the server.
    """
    if unit == "H":
        return list(range(start + step * HOUR_MS, end, step * HOUR_MS))
    needed = (end - start) // (step * SHORTEST_MS[unit]) + 2
    points: list[int] = []
    for first in range(1, needed + 1, PROBE_BATCH):
        batch = range(first, min(first + PROBE_BATCH, needed + 1))
        # boundaries between absolute times never change: cached like closed windows
        expressions = _boundary_expressions(anchor, step, unit, batch)
        values = _evaluate(client, expressions, expiry=policy.closed_expiry)
        points += [values[f"b{j}"] for j in batch]
        if points[-1] >= end:
            break
    return [point for point in points if start < point < end]


@dataclass(frozen=True)
class Window:
    """A window ``[start, end)`` in epoch ms."""

    start: int
    end: int


def read_windows(
    client: PendoConnection, plan: SplitPlan, size: WindowSize, policy: CachePolicy, refresh: bool
) -> tuple[int, list[Window]]:
    """The server's now and the windows of the range, read in one request where possible.

    The probe is cached like an open window: a re-run within that time (a resumed pull, say)
    plans the same windows without asking, and ``now()`` is at most that old, as open windows'
    data is. Windows align to the calendar (a "1D" window of hourly data is a local day),
    counted from the window unit's start at or before the range's start.
    """
    series = plan.time_series
    start_text, end_text = _range_expressions(series, plan.period_unit)
    expressions = {"now": "now()", "start": start_text, "end": end_text}
    period = UNITS[size.unit][0]
    ahead = 0
    if size.unit != "H" and "count" in series:
        # The range's length is bounded: its window boundaries can come in the same request.
        longest = abs(series["count"]) * LONGEST_MS[plan.period_unit]
        ahead = longest // (size.count * SHORTEST_MS[size.unit]) + 2
        if ahead <= PROBE_BATCH:
            anchor = f'startOfPeriod("{period}", {start_text})'
            numbers = range(1, ahead + 1)
            expressions.update(_boundary_expressions(anchor, size.count, size.unit, numbers))
        else:
            ahead = 0
    values = _evaluate(client, expressions, expiry=policy.open_expiry, refresh=refresh)
    now, start, end = values["now"], values["start"], values["end"]
    if end <= start:
        raise ValidationError("windows=: the timeSeries ends before it starts ('last' < 'first')")
    if ahead and values[f"b{ahead}"] >= end:  # (always, unless a zone's calendar surprises)
        inner = [values[f"b{j}"] for j in range(1, ahead + 1)]
        inner = [point for point in inner if start < point < end]
    else:
        anchor = str(start) if size.unit == "H" else f'startOfPeriod("{period}", {start})'
        inner = _grid(client, anchor, size.count, size.unit, start, end, policy)
    bounds = [start, *inner, end]
    return now, [Window(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def halves_of(
    client: PendoConnection, window: Window, unit: str, policy: CachePolicy
) -> tuple[Window, Window] | None:
    """The window cut at the period boundary nearest its middle; None for a single period."""
    inner = _grid(client, str(window.start), 1, unit, window.start, window.end, policy)
    if not inner:
        return None
    middle = inner[(len(inner) + 1) // 2 - 1]
    return Window(window.start, middle), Window(middle, window.end)
