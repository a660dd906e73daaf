"""What one run carries: its :class:`Limits`, the :class:`RunState` that enforces them while the
steps run, and the :class:`StepEnv` that compiling a step sees.

Limits keep every request bounded. Pendo cuts aggregations at 5 minutes or 4 GB and tells users to
split the range (reference 1.6); the sandbox answers past its caps the same way:

- run time over ``max_seconds``: status 408 (the status Pendo uses for its other 5-minute cut,
  metadata bulk updates), "split the time range"; the clock is read after every step and, inside
  ``filter``/``eval``/``select``, before every row;
- more than ``max_rows`` rows between two steps or in the result: status 413, "split the time
  range" (rows stand in for bytes: they are what the sandbox holds in memory);
- results holding more than ``max_values`` values once written out (lists and objects counted
  element by element, a shared value once per place it appears): status 413; values nested deeper
  than ``max_nesting`` levels: status 400. Only steps that build values from row values (``eval``,
  ``select``, ``set``, ``group``, ``reduce``, ``switch``, ``join``, ``merge``) can grow a result
  this way (``eval`` of ``list(l, l)`` doubles ``l`` each time), so only their pipelines are
  measured (:func:`check_written_size`); sources copy bounded data. The lists, objects and long
  strings ``eval``, ``select``, ``group`` and ``reduce`` write are also counted as they are written,
  against the same cap, so a long list written into each of a million rows is refused before it
  fills the memory;
- ``fork``/``spawn``/``merge`` nested deeper than ``max_depth``, more than ``max_steps`` steps in
  all, or a timeSeries over ``max_periods`` periods: status 400.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from pendo_nb.sandbox.subscription.model import Subscription

from .context import EvalContext
from .errors import AggregationError
from .rows import Rows
from .timeseries import DEFAULT_MAX_PERIODS


@dataclass(frozen=True)
class Limits:
    """Caps that keep one aggregation from taking the sandbox down (see the module docstring).

    The defaults are generous: the ``large`` subscription's 30-day event queries fit easily
    (its raw ``events`` over 30 days are 2.2 million rows, one per clicked feature).
    """

    max_seconds: float = 120.0
    max_rows: int = 5_000_000
    max_values: int = 50_000_000
    max_nesting: int = 200
    max_depth: int = 8
    max_steps: int = 1_000
    max_periods: int = DEFAULT_MAX_PERIODS

    def __post_init__(self) -> None:
        for cap in fields(self):
            value = getattr(self, cap.name)
            wanted = float if cap.type in (float, "float") else int
            if isinstance(value, bool) or not isinstance(value, int | wanted) or value < 0:
                raise ValueError(f"Limits.{cap.name} must be a number >= 0, not {value!r}")


class RunState:
    """The clock, row budget and stored-value budget of one running aggregation.

    The row and clock checks run after every step; the steps that evaluate expressions row by
    row (``filter``, ``eval``, ``select``) also read the clock before each row (:meth:`paced`),
    and ``eval``/``select``/``group``/``reduce`` charge the lists, objects and long strings they
    store (:meth:`store`), so one pathological step (a slow expression over a million rows, a long
    list written into each of them) is stopped while it runs instead of after it has taken hours
    or the machine's memory.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._deadline = time.monotonic() + limits.max_seconds
        self._stored = 0  # what store() has charged during the run

    def check(self, row_count: int, where: str) -> None:
        """Raise when the run is over its time or its row budget (called after every step)."""
        if row_count > self.limits.max_rows:
            raise AggregationError(
                f"{where}: more than {self.limits.max_rows:,} rows; "
                "split the time range into smaller requests",
                status=413,
            )
        self._check_clock(where)

    def _check_clock(self, where: str) -> None:
        if time.monotonic() > self._deadline:
            raise AggregationError(
                f"{where}: the aggregation ran longer than {self.limits.max_seconds:g} seconds; "
                "split the time range into smaller requests",
                status=408,
            )

    def paced(self, rows: Iterable[dict[str, Any]], where: str) -> Iterator[dict[str, Any]]:
        """``rows`` one by one, reading the clock before each (408 past it).

        Every row: one row can be slow on its own (``toString`` of a list of millions).
        """
        clock, deadline = time.monotonic, self._deadline
        for row in rows:
            if clock() > deadline:
                self._check_clock(where)
            yield row

    def store(self, value: list[Any] | dict[str, Any] | str, where: str) -> None:
        """Charge a value a step writes into a row against ``max_values`` (413 past it).

        A list or object counts its elements as they would be written out (nested ones too, a
        shared one at each place it appears, so a list doubled by ``list(l, l)`` grows as it would
        on the wire); a string counts one value per 8 characters. The count is cumulative over the
        run: it bounds what the run can allocate, not only what it returns.
        """
        kind = type(value)
        if kind is str:
            self._stored += len(value) >> 3
        elif _is_flat_list(value):
            self._stored += len(value)  # the common flat list, without the bookkeeping
        else:
            self._stored += _measure(value, {}, self.limits)[0]
        if self._stored > self.limits.max_values:
            raise AggregationError(
                f"{where}: more than {self.limits.max_values:,} values written; "
                "split the time range into smaller requests",
                status=413,
            )


StepFunction = Callable[[Rows, RunState], Rows]


@dataclass
class _Compilation:
    """What one request's compilation has seen so far, across its nested pipelines."""

    steps: int = 0
    builds_values: bool = False


@dataclass
class StepEnv:
    """What compiling a step may use: the subscription, the clock, the limits, the nesting depth."""

    subscription: Subscription
    ctx: EvalContext
    limits: Limits
    depth: int = 0
    compilation: _Compilation = field(default_factory=_Compilation)


_CONTAINERS = frozenset({dict, list})


def check_written_size(rows: list[dict[str, Any]], limits: Limits) -> None:
    """Refuse results too big or too deep to write out (see the module docstring).

    Sizes are memoised per object, so a value shared many times (``list(l, l)`` repeated) is
    measured once and the check stays linear in the objects that really exist.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (values written out, nesting levels)
    total = 0
    for row in rows:
        total += len(row)
        for value in row.values():
            if type(value) in _CONTAINERS:  # most rows hold only scalars: no bookkeeping
                flat = _is_flat_list(value)  # a grouped list: no bookkeeping either
                size, levels = (len(value), 1) if flat else _measure(value, measured, limits)
                total += size
                if levels >= limits.max_nesting:
                    raise _too_deep(limits)
        if total > limits.max_values:
            raise _too_many_values(limits)


def _is_flat_list(value: Any) -> bool:
    """Whether ``value`` is a list holding no list or object (it writes out ``len`` values)."""
    return type(value) is list and _CONTAINERS.isdisjoint(map(type, value))


def check_value_count(count: int, limits: Limits) -> None:
    """Refuse a result of ``count`` scalar values past ``max_values`` (see the module docstring)."""
    if count > limits.max_values:
        raise _too_many_values(limits)


def _too_deep(limits: Limits) -> AggregationError:
    return AggregationError(f"results: values nest deeper than {limits.max_nesting} levels")


def _too_many_values(limits: Limits) -> AggregationError:
    return AggregationError(
        f"results: more than {limits.max_values:,} values; "
        "split the time range into smaller requests",
        status=413,
    )


def _measure(root: Any, measured: dict[int, tuple[int, int]], limits: Limits) -> tuple[int, int]:
    """(values written out, nesting levels) of one object, children first, without recursion."""
    pending: list[tuple[Any, bool]] = [(root, False)]
    opened: set[int] = set()  # objects whose children are being measured
    while pending:
        value, children_done = pending.pop()
        if id(value) in measured:
            continue
        items = value.values() if type(value) is dict else value
        children = [item for item in items if type(item) in _CONTAINERS]
        if not children_done:
            if id(value) in opened:  # no step builds a cycle, but one must not loop forever
                raise AggregationError("results: a value contains itself")
            opened.add(id(value))
            pending.append((value, True))
            pending.extend((child, False) for child in children if id(child) not in measured)
            continue
        size = len(items) + sum(measured[id(child)][0] for child in children)
        levels = 1 + max((measured[id(child)][1] for child in children), default=0)
        if levels > limits.max_nesting:
            raise _too_deep(limits)
        if size > limits.max_values:
            raise _too_many_values(limits)
        measured[id(value)] = (size, levels)
    return measured[id(root)]
