"""Whether a pipeline can be split into time windows exactly, and how (``windows=`` sizes).

The rows of a window are exactly the rows of the whole range whose period lies in it, so
splitting is exact for row-wise steps after the source; for groups whose keys include the period
bucket (``day`` for ``dayRange``), as each group then lies in one window; and for groups,
``reduce`` and ``count`` whose aggregators combine exactly (``sum``, ``count`` of rows, ``min``,
``max``). Anything else (distinct counts, ``first``, ``median``, a ``limit`` before a group, ...)
raises :class:`~pendo_nb.errors.PipelineError` saying why and what to change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pendo_nb.errors import PipelineError, ValidationError
from pendo_nb.frames.field_types import BUCKET_FIELDS, GROUPED_SOURCES, time_series_of

HOUR_MS = 3_600_000

#: Window units: (startOfPeriod period, dateAdd unit, rank by length). Pendo documents
#: startOfPeriod for daily/weekly/monthly only (reference 3.7); "hourly" (which the sandbox reads)
#: is assumed for hourRange series, as their hours must be read where the server reads them.
UNITS = {
    "H": ("hourly", "hours", 0),
    "D": ("daily", "days", 1),
    "W": ("weekly", "weeks", 2),
    "M": ("monthly", "months", 3),
}
#: Shortest possible length of each unit (DST days are 23 hours), to bound boundary probes.
SHORTEST_MS = {"H": HOUR_MS, "D": 23 * HOUR_MS, "W": 167 * HOUR_MS, "M": 671 * HOUR_MS}
LONGEST_MS = {"H": HOUR_MS, "D": 25 * HOUR_MS, "W": 169 * HOUR_MS, "M": 745 * HOUR_MS}
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

    time_series: dict[str, Any]
    period_unit: str
    window_steps: list[Any]
    keys: tuple[str, ...] | None = None
    fields: tuple[tuple[str, str], ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None

    def window_body(
        self, envelope: Mapping[str, Any], start_ms: int, end_ms: int
    ) -> dict[str, Any]:
        """The request for the window ``[start_ms, end_ms)``: absolute, so equal windows of
        different runs share a cache entry."""
        series = {"period": self.time_series["period"], "first": start_ms, "last": end_ms - 1}
        steps = [_with_time_series(self.window_steps[0], series), *self.window_steps[1:]]
        body = dict(envelope)
        body["request"] = {**envelope["request"], "pipeline": steps}
        return body


def split_plan(steps: Sequence[Mapping[str, Any]], size: WindowSize | None = None) -> SplitPlan:
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
        finer = UNITS[size.unit][2] < UNITS[unit][2]
        why = "is shorter than" if finer else "does not align with"
        raise PipelineError(
            f"windows={str(size)!r} {why} the pipeline's {period} periods; use windows in "
            f"{' or '.join(_NESTS[unit])} units (e.g. '1{unit}')"
        )
    return _walk(list(steps), dict(series), unit, bucket if name in GROUPED_SOURCES else None)


def _walk(steps: list[Any], series: dict[str, Any], unit: str, bucket: str | None) -> SplitPlan:
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


def _tail(steps: list[Any], index: int) -> tuple[tuple[tuple[str, bool], ...], int | None] | None:
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
            how: str | None = "sum"  # rows in all windows = the sum of rows per window
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


def _with_time_series(step: Mapping[str, Any], series: dict[str, Any]) -> dict[str, Any]:
    """A copy of the source step with ``series`` in place of its timeSeries."""
    copied = copy.deepcopy(dict(step))
    source = copied["source"]
    if "timeSeries" in source:
        source["timeSeries"] = series
    elif "timeSeries" in copied:
        copied["timeSeries"] = series
    else:
        for params in source.values():
            if isinstance(params, dict) and "timeSeries" in params:
                params["timeSeries"] = series
    return copied
