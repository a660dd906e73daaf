"""Long aggregations split into time windows: exact or refused, fetched in parallel, resumable.

Pendo cuts an aggregation at 5 minutes or 4 GB (reference 1.6), so a year of events has to be
asked for in pieces. :func:`aggregate_in_windows` (``pn.aggregate(p, windows="1D")``):

1. **checks that splitting is exact** (:func:`split_plan`). The rows of a window are exactly the
   rows of the whole range whose period lies in it, so splitting is exact for row-wise steps
   after the source; for groups whose keys include the period bucket (``day`` for ``dayRange``),
   as each group then lies in one window; and for groups, ``reduce`` and ``count`` whose
   aggregators combine exactly (``sum``, ``count`` of rows, ``min``, ``max``): each window's
   partial rows are combined on this machine. Anything else (distinct counts, ``first``,
   ``median``, a ``limit`` before a group, ...) raises :class:`~pendo_nb.errors.PipelineError`
   saying why and what to change. A trailing ``sort``/``limit`` is applied to the combined rows.
2. **asks the server for the window boundaries**: the range's start and end, evaluated by the
   server (its clock and the subscription's time zone), and the calendar boundaries of the
   windows inside it, so windows align to periods even across DST changes. Each window is then
   sent with absolute ``first``/``last`` times: the same window has the same request, hence the
   same cache entry, on every run. That is what makes an interrupted pull resumable.
3. **fetches the windows in parallel** (``workers`` threads sharing the client, hence its rate
   limit and cache), converting each answer to a DataFrame as it arrives. Each window is cached
   for as long as :mod:`pendo_nb.cache_policy` says (closed windows long, open ones briefly),
   and its DataFrame is kept beside the cache (:mod:`pendo_nb.frame_cache`) so a re-run does
   not parse it again.
4. **halves a window that fails** with a timeout, 408, 413 or 5xx (after the session's retries),
   down to a single period, and says which windows were split in ``df.attrs``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pendo_nb import api
from pendo_nb._checks import positive_int
from pendo_nb._parts import concat_parts
from pendo_nb._times import iso, select_on_server, stamp
from pendo_nb.cache_policy import DEFAULT_POLICY, CachePolicy, request_expiry
from pendo_nb.client import PendoClient, aggregation_envelope
from pendo_nb.errors import (
    PendoAPIError,
    PendoTimeoutError,
    PipelineError,
    ServerError,
    ValidationError,
)
from pendo_nb.field_types import BUCKET_FIELDS, GROUPED_SOURCES, time_series_of
from pendo_nb.frame_cache import FrameCache

__all__ = [
    "SplitPlan",
    "Window",
    "WindowSize",
    "WindowedPull",
    "aggregate_in_windows",
    "plan_pull",
    "split_plan",
]

HOUR_MS = 3_600_000

#: Window units: (startOfPeriod period, dateAdd unit, rank by length). Pendo documents
#: startOfPeriod for daily/weekly/monthly only (reference 3.7); "hourly" (which the sandbox reads)
#: is assumed for hourRange series, as their hours must be read where the server reads them.
_UNITS = {
    "H": ("hourly", "hours", 0),
    "D": ("daily", "days", 1),
    "W": ("weekly", "weeks", 2),
    "M": ("monthly", "months", 3),
}
#: Shortest possible length of each unit (DST days are 23 hours), to bound boundary probes.
_SHORTEST_MS = {"H": HOUR_MS, "D": 23 * HOUR_MS, "W": 167 * HOUR_MS, "M": 671 * HOUR_MS}
_LONGEST_MS = {"H": HOUR_MS, "D": 25 * HOUR_MS, "W": 169 * HOUR_MS, "M": 745 * HOUR_MS}
#: timeSeries periods that can be split, and their unit (their bucket field: BUCKET_FIELDS).
_PERIOD_UNITS = {"hourRange": "H", "dayRange": "D", "weekRange": "W", "monthRange": "M"}
#: Window units whose boundaries are always boundaries of a period (weeks do not nest in months).
_NESTS = {"H": "HDWM", "D": "DWM", "W": "W", "M": "M"}

#: Sources whose rows each belong to exactly one period: a window's rows are the range's rows
#: whose period lies in the window. Grouped ones carry the period bucket field.
_SPLITTABLE_SOURCES = GROUPED_SOURCES | {
    "guideEvents",
    "pollEvents",
    "emailEvents",
    "singleEvents",
}
_SUMMARY_SOURCES = frozenset({"guidesSeen", "pollsSeen"})

#: Steps that look at one row at a time (with lookups that do not depend on the time range).
_ROW_WISE = frozenset(
    {
        "filter", "eval", "select", "set", "cat", "identified", "bulkExpand", "expand",
        "useragent", "unwind", "switch", "segment", "itemSeen", "merge",
    }
)  # fmt: skip
#: Aggregators whose value over the whole range follows from the windows' values.
_COMBINABLE = {"sum": "sum", "min": "min", "max": "max"}
_NOT_COMBINABLE = {
    "count": "a distinct count over the range is not the sum of the windows' distinct counts "
    "(a value seen in two windows would be counted twice)",
    "countIf": "a distinct count over the range is not the sum of the windows' distinct counts",
    "avg": "an average of the windows' averages is not the average: use sum and count "
    "(count: null) and divide in pandas",
    "mean": "a mean of the windows' means is not the mean: use sum and count (count: null) and "
    "divide in pandas",
    "median": "a median cannot be combined from the windows' medians",
    "percentiles": "percentiles cannot be combined from the windows' percentiles",
    "stddev": "a standard deviation cannot be combined from the windows' values",
    "var": "a variance cannot be combined from the windows' values",
    "first": "'first' depends on which row comes first over the whole range",
    "list": "the windows' lists would be joined in window order, not in Pendo's row order",
    "listIf": "the windows' lists would be joined in window order, not in Pendo's row order",
    "concat": "the windows' lists would be joined in window order, not in Pendo's row order",
}


# -- window sizes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowSize:
    """``count`` calendar units per window: ``"1H"``, ``"1D"``, ``"7D"``, ``"1W"``, ``"1M"``."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: Any) -> WindowSize:
        match = re.fullmatch(r"\s*(\d*)\s*([HDWM])\s*", text) if isinstance(text, str) else None
        if not match or (match.group(1) and int(match.group(1)) < 1):
            raise ValidationError(
                f"windows={text!r}: expected a size such as '1D', '7D', '1H', '1W' or '1M' "
                "(H hours, D days, W weeks from Sunday, M months), 'auto' or None"
            )
        return cls(int(match.group(1) or 1), match.group(2))

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


# -- exactness ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitPlan:
    """How a pipeline is split into windows and put back together.

    Attributes
    ----------
    time_series : dict
        The source's ``timeSeries``.
    period_unit : str
        ``H``, ``D``, ``W`` or ``M``.
    window_steps : list of dict
        The steps sent for each window (the source's ``timeSeries`` is replaced per window).
    keys : tuple of str, optional
        When the windows' rows are partial results to combine: the group keys (``()`` for
        ``reduce``/``count``). ``None``: the windows' rows are concatenated as they are.
    fields : tuple of (column, how)
        The combined columns and how (``sum``, ``min``, ``max``).
    sort : tuple of (column, ascending)
        A trailing ``sort`` applied to the combined rows.
    limit : int, optional
        A trailing ``limit`` applied after ``sort``.
    """

    time_series: dict
    period_unit: str
    window_steps: list
    keys: tuple[str, ...] | None = None
    fields: tuple[tuple[str, str], ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None

    def window_body(self, envelope: Mapping, start_ms: int, end_ms: int) -> dict:
        """The request for the window ``[start_ms, end_ms)``: absolute, so equal windows of
        different runs share a cache entry."""
        series = {"period": self.time_series["period"], "first": start_ms, "last": end_ms - 1}
        steps = [_with_time_series(self.window_steps[0], series), *self.window_steps[1:]]
        body = dict(envelope)
        body["request"] = {**envelope["request"], "pipeline": steps}
        return body


def split_plan(steps: Sequence[Mapping], size: WindowSize | None = None) -> SplitPlan:
    """Check that splitting ``steps`` into time windows gives the same rows, and say how.

    Parameters
    ----------
    steps : list of dict
        The aggregation's pipeline.
    size : WindowSize, optional
        The window size, checked against the source's period.

    Returns
    -------
    SplitPlan

    Raises
    ------
    PipelineError
        Splitting would change the answer (or cannot be done); the message names the step, why,
        and what to change.
    """
    head = steps[0] if steps else None
    source = head.get("source") if isinstance(head, Mapping) else None
    if not isinstance(source, Mapping):
        raise PipelineError("windows=: the pipeline must start with a source step")
    names = [key for key in source if key != "timeSeries"]
    name = names[0] if len(names) == 1 else None
    series = time_series_of(head)
    if series is None:
        raise PipelineError(
            f"windows=: the source {name!r} has no timeSeries, so there is nothing to split in "
            "time; page big object sources with page_size= instead"
        )
    if name in _SUMMARY_SOURCES:
        raise PipelineError(
            f"windows=: {name} keeps each visitor's last view within the whole range, so a "
            f"window would report views that a later window supersedes; use {name}Ever with a "
            "filter on the time, or run without windows"
        )
    if name not in _SPLITTABLE_SOURCES:
        raise PipelineError(
            f"windows=: the {name!r} source is not known to give each row to exactly one "
            "period, so splitting it might change the answer; run without windows"
        )
    period = series.get("period") if isinstance(series, Mapping) else None
    if period not in _PERIOD_UNITS:
        raise PipelineError(
            f"windows=: period {period!r} cannot be split; use one of {', '.join(_PERIOD_UNITS)} "
            "(iterative periods such as 'daily' already give one result set per period)"
        )
    unit, bucket = _PERIOD_UNITS[period], BUCKET_FIELDS[period]
    if size is not None and size.unit not in _NESTS[unit]:
        finer = _UNITS[size.unit][2] < _UNITS[unit][2]
        why = "is shorter than" if finer else "does not align with"
        raise PipelineError(
            f"windows={str(size)!r} {why} the pipeline's {period} periods; use windows in "
            f"{' or '.join(_NESTS[unit])} units (e.g. '1{unit}')"
        )
    return _walk(list(steps), dict(series), unit, bucket if name in GROUPED_SOURCES else None)


def _walk(steps: list, series: dict, unit: str, bucket: str | None) -> SplitPlan:
    """Classify the steps after the source (see the module docstring)."""
    keys: tuple[str, ...] | None = None
    fields: tuple[tuple[str, str], ...] = ()
    combined_at = ""
    window_steps = [steps[0]]
    index = 1
    while index < len(steps):
        op, argument = _op(steps[index], index)
        where = f"pipeline[{index}] ({op})"
        tail = _tail(steps, index)
        if tail is not None:
            sort, limit = tail
            if keys is None:  # each window's top rows include the range's: send them too
                window_steps += steps[index:]
            return SplitPlan(series, unit, window_steps, keys, fields, sort, limit)
        if keys is not None:
            raise PipelineError(
                f"windows=: {where} comes after {combined_at}, whose partial results are "
                "combined on this machine, so it cannot run in each window; apply it to the "
                f"DataFrame instead{_bucket_hint(bucket)}"
            )
        if op in _ROW_WISE:
            bucket = _bucket_after_row_step(op, argument, bucket)
        elif op == "fork":
            _check_fork(argument, where)
        elif op == "group":
            group_keys = _group_keys(argument, where)
            if not (bucket and bucket in group_keys):
                fields = _combinable(argument.get("fields"), f"{where}.fields", bucket)
                keys, combined_at = tuple(group_keys), where
        elif op == "reduce":
            fields = _combinable(argument, f"{where}", bucket)
            keys, combined_at = (), where
        elif op == "count":
            fields, keys, combined_at = (("count", "sum"),), (), where
        elif op == "sort":
            pass  # order only; a sort that matters is a trailing one (handled above)
        elif op == "limit":
            later = [_op(s, i)[0] for i, s in enumerate(steps[index + 1 :], index + 1)]
            grouping = next((o for o in later if o in ("group", "reduce", "count")), None)
            also = f" (and the {grouping} after it would see other rows)" if grouping else ""
            raise PipelineError(
                f"windows=: {where} keeps the first rows of the whole range, which are not the "
                f"first rows of each window{also}; put the limit at the end after a sort (top "
                "rows are exact), apply it to the DataFrame, or run without windows"
            )
        else:
            raise PipelineError(
                f"windows=: {where} is not known to give the same answer when the range is "
                "split into windows; run without windows"
            )
        window_steps.append(steps[index])
        index += 1
    return SplitPlan(series, unit, window_steps, keys, fields)


def _tail(steps: list, index: int) -> tuple[tuple[tuple[str, bool], ...], int | None] | None:
    """A trailing ``sort`` (optionally followed by ``limit``) starting at ``index``, or None."""
    rest = steps[index:]
    ops = [_op(step, index + i)[0] for i, step in enumerate(rest)]
    if ops not in (["sort"], ["sort", "limit"]):
        return None
    sort = _sort_keys(rest[0]["sort"], f"pipeline[{index}] (sort)")
    limit = rest[1]["limit"] if len(rest) == 2 else None
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise PipelineError(f"pipeline[{index + 1}] (limit): expected a count, got {limit!r}")
    return sort, limit


def _op(step: Any, index: int) -> tuple[str, Any]:
    if not isinstance(step, Mapping) or len(step) != 1:
        raise PipelineError(f"pipeline[{index}]: a step is an object with one operator")
    ((op, argument),) = step.items()
    return op, argument


def _bucket_hint(bucket: str | None) -> str:
    if bucket is None:
        return ""
    return f", or add the period bucket {bucket!r} to the group keys so nothing is combined"


def _bucket_after_row_step(op: str, argument: Any, bucket: str | None) -> str | None:
    """Whether the period bucket field survives a row-wise step."""
    if bucket is None:
        return None
    if op == "select":
        kept = isinstance(argument, Mapping) and argument.get(bucket) == bucket
        return bucket if kept else None
    if op in ("eval", "set") and isinstance(argument, Mapping) and bucket in argument:
        return None
    return bucket


def _check_fork(branches: Any, where: str) -> None:
    if not isinstance(branches, list):
        raise PipelineError(f"windows=: {where} expects a list of branches")
    for number, branch in enumerate(branches):
        for position, step in enumerate(branch if isinstance(branch, list) else [branch]):
            op, argument = _op(step, position)
            if op == "fork":
                _check_fork(argument, f"{where}[{number}][{position}]")
            elif op not in _ROW_WISE:
                raise PipelineError(
                    f"windows=: {where} branch {number} step {position} ({op}) is not row-wise, "
                    "so running the branch per window could change the answer; run without "
                    "windows"
                )


def _group_keys(argument: Any, where: str) -> list[str]:
    keys = argument.get("group") if isinstance(argument, Mapping) else None
    if isinstance(keys, str):
        return [keys]
    if isinstance(keys, list) and all(isinstance(key, str) for key in keys):
        return keys
    raise PipelineError(f"windows=: {where}: expected 'group' to be a list of field names")


def _aggregators(spec: Any, where: str) -> list[tuple[str, str, Any]]:
    """(output, aggregator, argument) of a ``group.fields``/``reduce`` spec (object or list)."""
    if spec is None:
        return []
    entries = list(spec.items()) if isinstance(spec, Mapping) else None
    if isinstance(spec, list):
        entries = [
            next(iter(entry.items()))
            for entry in spec
            if isinstance(entry, Mapping) and len(entry) == 1
        ]
    result = []
    for output, definition in entries or []:
        if not isinstance(definition, Mapping) or len(definition) != 1:
            raise PipelineError(f"windows=: {where}.{output}: expected {{aggregator: argument}}")
        ((aggregator, argument),) = definition.items()
        result.append((output, aggregator, argument))
    return result


def _combinable(spec: Any, where: str, bucket: str | None) -> tuple[tuple[str, str], ...]:
    """How each aggregator's window values combine, or a PipelineError naming the first that
    cannot."""
    combined = []
    for output, aggregator, argument in _aggregators(spec, where):
        if aggregator == "count" and argument is None:
            how = "sum"  # rows in all windows = the sum of rows per window
        else:
            how = _COMBINABLE.get(aggregator)
        if how is None:
            why = _NOT_COMBINABLE.get(aggregator, f"{aggregator!r} is not known to combine")
            raise PipelineError(
                f"windows=: {where}.{output} ({aggregator}) cannot be combined across "
                f"windows: {why}. Only sum, count of rows (count: null), min and max combine "
                f"exactly{_bucket_hint(bucket)}; or run without windows"
            )
        combined.append((output, how))
    return tuple(combined)


def _sort_keys(spec: Any, where: str) -> tuple[tuple[str, bool], ...]:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise PipelineError(f"windows=: {where}: expected a list of field names")
    return tuple((n[1:], False) if n.startswith("-") else (n, True) for n in names)


# -- the timeSeries in its place -----------------------------------------------------------


def _with_time_series(step: Mapping, series: dict) -> dict:
    """A copy of the source step with ``series`` in place of its timeSeries."""
    step = copy.deepcopy(dict(step))
    source = step["source"]
    if "timeSeries" in source:
        source["timeSeries"] = series
    elif "timeSeries" in step:
        step["timeSeries"] = series
    else:
        for params in source.values():
            if isinstance(params, dict) and "timeSeries" in params:
                params["timeSeries"] = series
    return step


# -- boundaries, read from the server --------------------------------------------------------


def _bound(value: Any, where: str) -> str:
    """A timeSeries bound as an expression."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PipelineError(f"windows=: timeSeries.{where} must be a time, got {value!r}")
    if isinstance(value, float):
        value = int(value)
    return str(value)


def _evaluate(
    client: PendoClient,
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


def _range_expressions(series: Mapping, unit: str) -> tuple[str, str]:
    """Expressions of the timeSeries' start and end (exclusive), as the server resolves them."""
    period, add, _ = _UNITS[unit]
    first = f'startOfPeriod("{period}", {_bound(series.get("first"), "first")})'
    if "count" in series:
        count = series["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise PipelineError(
                f"windows=: timeSeries.count must be a non-zero integer, got {count!r}"
            )
        moved = f'dateAdd({first}, {count}, "{add}")'
        return (first, moved) if count > 0 else (moved, first)
    last = f'startOfPeriod("{period}", {_bound(series.get("last"), "last")})'
    return first, f'dateAdd({last}, 1, "{add}")'


def _boundary_expressions(anchor: str, step: int, unit: str, numbers: range) -> dict[str, str]:
    """``b<j>``: ``dateAdd(anchor, j * step, unit)``, the j-th calendar boundary after anchor."""
    add = _UNITS[unit][1]
    return {f"b{j}": f'dateAdd({anchor}, {j * step}, "{add}")' for j in numbers}


#: Boundaries asked for in one probe request (keeps the select step a modest size).
_PROBE_BATCH = 250


def _grid(
    client: PendoClient,
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
    needed = (end - start) // (step * _SHORTEST_MS[unit]) + 2
    points: list[int] = []
    for first in range(1, needed + 1, _PROBE_BATCH):
        batch = range(first, min(first + _PROBE_BATCH, needed + 1))
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


def _windows(
    client: PendoClient, plan: SplitPlan, size: WindowSize, policy: CachePolicy, refresh: bool
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
    period = _UNITS[size.unit][0]
    ahead = 0
    if size.unit != "H" and "count" in series:
        # The range's length is bounded: its window boundaries can come in the same request.
        longest = abs(series["count"]) * _LONGEST_MS[plan.period_unit]
        ahead = longest // (size.count * _SHORTEST_MS[size.unit]) + 2
        if ahead <= _PROBE_BATCH:
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


def _halves(
    client: PendoClient, window: Window, unit: str, policy: CachePolicy
) -> tuple[Window, Window] | None:
    """The window cut at the period boundary nearest its middle; None for a single period."""
    inner = _grid(client, str(window.start), 1, unit, window.start, window.end, policy)
    if not inner:
        return None
    middle = inner[(len(inner) + 1) // 2 - 1]
    return Window(window.start, middle), Window(middle, window.end)


# -- fetching --------------------------------------------------------------------------------


def _splittable(error: Exception) -> bool:
    """Failures a smaller window may avoid: timeouts, Pendo's 5-minute cut (408), too big an
    answer (413, as the sandbox says for its row cap) and server errors."""
    if isinstance(error, PendoTimeoutError | ServerError):
        return True
    return isinstance(error, PendoAPIError) and error.status == 413


@dataclass
class _Progress:
    """Counts shown on the progress bar and reported in ``df.attrs``."""

    bar: Any
    rows: int = 0
    fetched: int = 0
    cached: int = 0
    split: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, frame: pd.DataFrame) -> None:
        with self.lock:
            self.rows += len(frame)
            if frame.attrs.get("from_cache"):
                self.cached += 1
            else:
                self.fetched += 1
            self.bar.set_postfix(rows=f"{self.rows:,}", cached=self.cached, refresh=False)
            self.bar.update(1)

    def halved(self, window: Window) -> None:
        with self.lock:
            self.split.append(window)
            self.bar.total += 1
            self.bar.refresh()


@dataclass(frozen=True)
class WindowedPull:
    """A planned pull: the request, how it splits, the server's clock and the windows.

    Made by :func:`plan_pull`; :func:`aggregate_in_windows` fetches it with threads, and
    :func:`pendo_nb.dask.read_aggregation` with one Dask task per window.
    """

    envelope: dict
    plan: SplitPlan
    size: WindowSize
    now: int
    windows: tuple[Window, ...]
    policy: CachePolicy

    def fetch(
        self,
        client: PendoClient,
        window: Window,
        *,
        refresh: bool = False,
        store: FrameCache | None = None,
    ) -> pd.DataFrame:
        """One window's rows, cached as long as the policy says for a window ending then (also
        as a converted frame in ``store``)."""
        body = self.plan.window_body(self.envelope, window.start, window.end)
        expiry = self.policy.expiry_for(window.end, self.now)
        if store is not None and not refresh:
            stored = store.get(body)
            if stored is not None:
                return stored
        with request_expiry(expiry):
            frame = api.aggregate(body, client=client, refresh=refresh)
        if store is not None:
            store.put(body, frame, expiry)
        return frame

    def halves(
        self, client: PendoClient, window: Window, error: Exception
    ) -> tuple[Window, Window]:
        """The two halves to fetch instead of a window that failed with ``error``.

        Raises ``error`` again when a smaller window would not help (a 400, a bad key...) or the
        window is a single period already.
        """
        if not _splittable(error):
            raise error
        halves = _halves(client, window, self.plan.period_unit, self.policy)
        if halves is None:
            error.add_note(
                f"the window from {iso(window.start)} to {iso(window.end)} is a single "
                f"{self.plan.time_series['period']} period and cannot be split further"
            )
            raise error
        return halves

    def fetch_halving(
        self,
        client: PendoClient,
        window: Window,
        *,
        refresh: bool = False,
        store: FrameCache | None = None,
    ) -> tuple[list[pd.DataFrame], list[Window]]:
        """One window's rows fetched here and now, halving it on failure: (frames, windows
        that were split)."""
        try:
            return [self.fetch(client, window, refresh=refresh, store=store)], []
        except Exception as error:  # noqa: BLE001 - halves() re-raises what halving cannot fix
            halves = self.halves(client, window, error)
        frames, split = [], [window]
        for half in halves:
            more_frames, more_split = self.fetch_halving(client, half, refresh=refresh, store=store)
            frames += more_frames
            split += more_split
        return frames, split

    def attrs(
        self,
        first: Mapping,
        client: PendoClient,
        fetched: int,
        cached: int,
        split: Sequence[Window],
    ) -> dict[str, Any]:
        """What ``df.attrs`` reports about the pull (``first``: the first window's attrs)."""

        def local(ms: int) -> pd.Timestamp:
            return stamp(ms, client.tz)

        horizon = self.policy.horizon(self.now)
        return {
            **{k: first[k] for k in ("url", "host", "region") if k in first},
            "pipeline": self.envelope,
            "server_time": local(self.now),
            "window_size": str(self.size),
            "windows": len(self.windows),
            "windows_fetched": fetched,
            "windows_cached": cached,
            "from_cache": fetched == 0,
            "split_windows": [(local(w.start), local(w.end)) for w in split],
            "lag_horizon": local(horizon),
            "is_partial": self.windows[-1].end > horizon,
            "start": local(self.windows[0].start),
            "end": local(self.windows[-1].end),
        }


def plan_pull(
    pipeline: Any,
    client: PendoClient,
    windows: str,
    cache_policy: CachePolicy | None = None,
    *,
    refresh: bool = False,
) -> WindowedPull | None:
    """Check the pipeline and ask the server for its windows.

    Returns None for ``windows="auto"`` when splitting would not be exact.

    Raises
    ------
    PipelineError
        Splitting would change the answer (not for ``"auto"``).
    ValidationError
        ``windows`` is not a size.
    """
    policy = cache_policy or DEFAULT_POLICY
    envelope = aggregation_envelope(pipeline)
    steps = envelope["request"]["pipeline"]
    if windows == "auto":
        try:
            plan = split_plan(steps)
        except PipelineError:
            return None
        size = WindowSize(1, max("D", plan.period_unit, key=lambda u: _UNITS[u][2]))
    else:
        size = WindowSize.parse(windows)
        plan = split_plan(steps, size)
    now, planned = _windows(client, plan, size, policy, refresh)
    return WindowedPull(envelope, plan, size, now, tuple(planned), policy)


def aggregate_in_windows(
    pipeline: Any,
    *,
    client: PendoClient,
    windows: str,
    workers: int = 4,
    progress: bool = True,
    refresh: bool = False,
    cache_policy: CachePolicy | None = None,
) -> pd.DataFrame:
    """Run an aggregation window by window and combine the windows' rows.

    Called by :func:`pendo_nb.aggregate` when ``windows=`` is given; see it for the parameters.
    ``windows="auto"`` splits into days (or the period, if longer) when that is exact and runs
    the pipeline whole otherwise.
    """
    positive_int(workers, "workers")
    pull = plan_pull(pipeline, client, windows, cache_policy, refresh=refresh)
    if pull is None:
        return api.aggregate(pipeline, client=client, refresh=refresh)

    from tqdm.auto import tqdm

    bar = tqdm(total=len(pull.windows), desc="windows", unit="window", disable=not progress)
    counts = _Progress(bar)
    parts: dict[Window, pd.DataFrame] = {}
    store = FrameCache(client)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pendo-window")

    def submit(window: Window) -> Future:
        return pool.submit(pull.fetch, client, window, refresh=refresh, store=store)

    try:
        running: dict[Future, Window] = {submit(w): w for w in pull.windows}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                window = running.pop(future)
                error = future.exception()
                if error is None:
                    parts[window] = future.result()  # converted as it arrives
                    counts.done(parts[window])
                    continue
                halves = pull.halves(client, window, error)
                counts.halved(window)
                running.update({submit(half): half for half in halves})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()

    ordered = [parts.pop(window) for window in sorted(parts, key=lambda w: w.start)]
    attrs = pull.attrs(ordered[0].attrs, client, counts.fetched, counts.cached, counts.split)
    frame = _combine(ordered, pull.plan)
    frame.attrs = attrs
    return frame


def _combine(parts: list[pd.DataFrame], plan: SplitPlan) -> pd.DataFrame:
    frame = concat_parts(parts)
    parts.clear()  # the caller's list: drop the windows' frames as soon as they are joined
    if plan.keys is not None:
        frame = _recombine(frame, plan)
    if plan.sort:
        frame = _sorted(frame, plan.sort)
    if plan.limit is not None:
        frame = frame.iloc[: plan.limit].reset_index(drop=True)
    return frame


def _recombine(frame: pd.DataFrame, plan: SplitPlan) -> pd.DataFrame:
    """Combine the windows' partial groups (or single reduce/count rows) into final rows."""
    keys = list(plan.keys or ())
    how = {column: method for column, method in plan.fields if column in frame.columns}
    if frame.empty or any(key not in frame.columns for key in keys):
        return frame  # no rows at all: nothing to combine
    if not how:  # a group without fields: its distinct key combinations
        return frame[keys].drop_duplicates(ignore_index=True)
    # min_count=1: a sum that is missing in every window stays missing, as Pendo's would.
    options = {"sum": {"min_count": 1}, "min": {}, "max": {}}
    if not keys:
        row = {c: getattr(frame[c], m)(**options[m]) for c, m in how.items()}
        return pd.DataFrame([row]).astype(frame[list(how)].dtypes.to_dict())
    grouped = frame.groupby(keys, dropna=False, sort=False)
    pieces = []
    for method, kwargs in options.items():
        columns = [c for c, m in how.items() if m == method]
        if columns:
            pieces.append(getattr(grouped[columns], method)(**kwargs))
    combined = pd.concat(pieces, axis=1).reset_index()
    return combined[[c for c in frame.columns if c in combined.columns]]


def _sorted(frame: pd.DataFrame, keys: tuple[tuple[str, bool], ...]) -> pd.DataFrame:
    """Sort like Pendo's sandbox: stable, nulls first ascending and last descending."""
    for name, ascending in reversed(keys):
        if name in frame.columns:
            frame = frame.sort_values(
                name,
                ascending=ascending,
                kind="stable",
                na_position="first" if ascending else "last",
            )
    return frame.reset_index(drop=True)
