"""The interpreter: checks a whole request, then runs its steps top-down over the rows.

A pipeline is compiled before anything runs, so a mistake in step 7 is reported without reading a
single event, and each step's arguments (expressions, aggregators, time series) are parsed once.
Running then threads the rows through the compiled steps (reference 3.1).

Limits (:class:`Limits`) keep every request bounded. Pendo cuts aggregations at 5 minutes or 4 GB
and tells users to split the range (reference 1.6); the sandbox answers past its caps the same way:

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
  measured; sources copy bounded data. The lists, objects and long strings ``eval``, ``select``,
  ``group`` and ``reduce`` write are also counted as they are written, against the same cap, so a
  long list written into each of a million rows is refused before it fills the memory;
- ``fork``/``spawn``/``merge`` nested deeper than ``max_depth``, more than ``max_steps`` steps in
  all, or a timeSeries over ``max_periods`` periods: status 400.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from pendo_nb.sandbox.subscription.model import Subscription

from .context import EvalContext
from .errors import AggregationError
from .operators import OPERATORS
from .rows import ColumnBatch, Rows, deep_copy
from .sources import compile_source
from .timeseries import DEFAULT_MAX_PERIODS

# JSON is the default; CSV is plausible in Pendo (reference 2.1, 3.1) and the server writes it.
_MIME_TYPES = ("application/json", "text/csv")
_VALUE_BUILDING_STEPS = frozenset(
    {"eval", "select", "set", "group", "reduce", "switch", "join", "merge"}
)
# Steps that produce rows of their own; a top-level pipeline must start with one.
_HEAD_STEPS = ("source", "spawn")


@dataclass(frozen=True)
class Limits:
    """Caps that keep one aggregation from taking the sandbox down (see the module docstring).

    The defaults are generous: the ``large`` subscription's 30-day event queries fit easily.
    """

    max_seconds: float = 120.0
    max_rows: int = 2_000_000
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

    def paced(self, rows: Iterable[dict], where: str) -> Iterator[dict]:
        """``rows`` one by one, reading the clock before each (408 past it).

        Every row: one row can be slow on its own (``toString`` of a list of millions).
        """
        clock, deadline = time.monotonic, self._deadline
        for row in rows:
            if clock() > deadline:
                self._check_clock(where)
            yield row

    def store(self, value: list | dict | str, where: str) -> None:
        """Charge a value a step writes into a row against ``max_values`` (413 past it).

        A list or object counts its elements as they would be written out (nested ones too, a
        shared one at each place it appears, so a list doubled by ``list(l, l)`` grows as it would
        on the wire); a string counts one value per 8 characters. The count is cumulative over the
        run: it bounds what the run can allocate, not only what it returns.
        """
        kind = type(value)
        if kind is str:
            self._stored += len(value) >> 3
        elif kind is list and not any(type(item) in _CONTAINERS for item in value):
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

    def compile_pipeline(self, steps: Any, where: str, *, with_source: bool) -> CompiledPipeline:
        """Compile a nested pipeline (``fork`` branch, ``spawn`` branch, ``merge`` pipeline).

        ``with_source`` says whether it must start with its own ``source``/``spawn`` (spawn and
        merge) or continue from the rows it is given (fork).
        """
        if self.depth + 1 > self.limits.max_depth:
            raise AggregationError(
                f"{where}: fork/spawn/merge nested deeper than {self.limits.max_depth} levels"
            )
        nested = StepEnv(self.subscription, self.ctx, self.limits, self.depth + 1, self.compilation)
        return _compile_steps(steps, nested, where, with_source=with_source)


@dataclass(frozen=True)
class CompiledPipeline:
    """Compiled steps; call with the incoming rows (ignored when it starts with a source)."""

    steps: tuple[tuple[str, StepFunction], ...]
    head: Callable[[RunState], Rows] | None

    def __call__(self, rows: Rows, run: RunState) -> Rows:
        if self.head is not None:
            rows = self.head(run)
        for where, step in self.steps:
            rows = step(rows, run)
            run.check(len(rows), where)
        return rows


def run_aggregation(body: Any, subscription: Subscription, *, limits: Limits | None = None) -> dict:
    """Answer ``POST /api/v1/aggregation``.

    Parameters
    ----------
    body : dict
        The request envelope: ``{"response": {...}, "request": {"pipeline": [...]}}``.
        ``response`` may be ``{}`` or absent (JSON is the default; ``mimeType: "text/csv"``
        is accepted too, and the server writes the same rows as CSV); labels such as
        ``request.name``, ``request.requestId``, ``channelId`` or a stray ``request.sort`` are
        accepted and ignored (reference 3.1).
    subscription : Subscription
        The data, clock (``now_ms``) and time zone.
    limits : Limits, optional
        Caps on run time, rows and nesting; the defaults are generous.

    Returns
    -------
    dict
        ``{"startTime": subscription.now_ms, "results": [rows...]}``.

    Raises
    ------
    AggregationError
        400/422 for bad input, 408/413 past the limits; the message names the place.
    """
    response_mime_type(body)  # a format the server cannot write is refused before the run
    request = body.get("request")
    if not isinstance(request, dict):
        raise AggregationError("request: required, an object holding the pipeline")
    if "pipeline" not in request:
        raise AggregationError("request.pipeline: required")
    results = run_pipeline(request["pipeline"], subscription, limits=limits)
    return {"startTime": subscription.now_ms, "results": results}


def response_mime_type(body: Any) -> str:
    """The answer format an aggregation body asks for: ``"application/json"`` or ``"text/csv"``.

    ``response`` may be absent or ``{}``, and ``mimeType`` absent or ``""``: JSON (reference 3.1).

    Raises
    ------
    AggregationError
        When the body is not an object, or asks for another format.
    """
    if not isinstance(body, dict):
        raise AggregationError("the aggregation body must be a JSON object")
    response = body.get("response")
    if response is None:
        return _MIME_TYPES[0]
    if not isinstance(response, dict):
        raise AggregationError("response: must be an object")
    mime_type = response.get("mimeType") or _MIME_TYPES[0]
    if mime_type not in _MIME_TYPES:
        raise AggregationError(
            f"response.mimeType: {mime_type!r} is not supported; use {' or '.join(_MIME_TYPES)}"
        )
    return mime_type


def run_pipeline(
    steps: Any, subscription: Subscription, *, limits: Limits | None = None
) -> list[dict]:
    """Run bare pipeline steps (a report's ``aggregation.pipeline``) and return the rows.

    Parameters
    ----------
    steps : list
        Pipeline steps; the first is a ``source`` (or a ``spawn``).
    subscription : Subscription
        The data, clock and time zone.
    limits : Limits, optional
        Caps on run time, rows and nesting.

    Returns
    -------
    list of dict
        The rows the last step emits.
    """
    limits = limits or Limits()
    ctx = EvalContext(subscription.now_ms, subscription.timezone, tuple(subscription.apps))
    env = StepEnv(subscription, ctx, limits)
    # Rows share the subscription's objects until the copy on the way out, so the whole run
    # holds the read side of the lock metadata writes take: runs overlap, writes wait for them.
    # (Reentrant: the server already holds the read side for the request.)
    with subscription.lock.reading(), _cyclic_gc_paused():
        pipeline = _compile_steps(steps, env, "pipeline", with_source=True)
        try:
            result = pipeline([], RunState(limits))
        except RecursionError:  # comparing or hashing values nested hundreds of levels deep
            raise AggregationError(
                f"values nest too deeply to compare (keep them under {limits.max_nesting} levels)"
            ) from None
        # A column batch is flat by construction; dict rows built by value-building steps are
        # measured before anyone tries to write them out.
        if isinstance(result, ColumnBatch):
            return result.records()  # new rows of plain values
        if env.compilation.builds_values:
            _check_written_size(result, limits)
        # Rows share nested objects with the subscription while the pipeline runs; the caller
        # gets its own copy.
        return deep_copy(result)


_CONTAINERS = (dict, list)


def _check_written_size(rows: list[dict], limits: Limits) -> None:
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
                size, levels = _measure(value, measured, limits)
                total += size
                if levels >= limits.max_nesting:
                    raise _too_deep(limits)
        if total > limits.max_values:
            raise _too_many_values(limits)


def _too_deep(limits: Limits) -> AggregationError:
    return AggregationError(f"results: values nest deeper than {limits.max_nesting} levels")


def _too_many_values(limits: Limits) -> AggregationError:
    return AggregationError(
        f"results: more than {limits.max_values:,} values; "
        "split the time range into smaller requests",
        status=413,
    )


def _measure(root: dict | list, measured: dict, limits: Limits) -> tuple[int, int]:
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


class _CollectorPause:
    """Holds off Python's cyclic garbage collector while pipelines run.

    A run allocates millions of short-lived, acyclic row objects (freed by reference counting);
    the allocation bursts would otherwise trigger full collections that rescan every long-lived
    object of the subscription, which doubled run times on the large data. Runs overlap in the
    server's threads, so the collector resumes (if it was on) when the last run ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._resume:
                    gc.enable()


_cyclic_gc_paused = _CollectorPause()


def step_type(step: Any, where: str) -> str:
    """The type of a step: its one key (a ``source`` step may carry ``timeSeries`` beside it)."""
    if isinstance(step, dict):
        if "source" in step and set(step) <= {"source", "timeSeries"}:
            return "source"
        if len(step) == 1:
            return next(iter(step))
    raise AggregationError(f"{where}: a step must be an object with exactly one key")


def _compile_steps(steps: Any, env: StepEnv, where: str, *, with_source: bool) -> CompiledPipeline:
    if not isinstance(steps, list):
        raise AggregationError(f"{where}: must be a list of steps")
    if not steps:
        raise AggregationError(f"{where}: must hold at least one step")
    env.compilation.steps += len(steps)
    if env.compilation.steps > env.limits.max_steps:
        raise AggregationError(f"{where}: more than {env.limits.max_steps} steps in all")
    head = None
    compiled: list[tuple[str, StepFunction]] = []
    for index, step in enumerate(steps):
        kind = step_type(step, f"{where}[{index}]")
        step_where = f"{where}[{index}].{kind}"
        if kind not in OPERATORS and kind != "source":
            # Pendo's own wording (issue 4: `skip` is answered exactly like this).
            raise AggregationError(f"unknown step type {kind!r}")
        if kind in _HEAD_STEPS and index > 0:
            raise AggregationError(
                f"{step_where}: only the first step of a pipeline may be a {kind}"
            )
        if kind == "source":
            if not with_source:
                raise AggregationError(
                    f"{step_where}: this pipeline continues from rows; no source"
                )
            head = compile_source(step, env, step_where)
            continue
        if index == 0 and with_source and kind != "spawn":
            raise AggregationError(f"{step_where}: a pipeline must start with a source or spawn")
        compiled.append((step_where, OPERATORS[kind](step[kind], env, step_where)))
        env.compilation.builds_values |= kind in _VALUE_BUILDING_STEPS
    return CompiledPipeline(tuple(compiled), head)
