"""The interpreter's entry points: a request is compiled whole, then its steps run top-down over the
rows (reference 3.1).

:func:`run_aggregation` answers ``POST /api/v1/aggregation``; :func:`run_pipeline` runs bare steps
(reports). Compiling is ``compiler.py``'s job; the caps a run stays under are ``run_state.py``'s.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pendo_nb.sandbox.subscription.model import Subscription

from .compiler import compile_steps
from .context import EvalContext
from .errors import AggregationError
from .rows import ColumnBatch, FreshRows, ValueColumns, deep_copy
from .run_state import Limits, RunState, StepEnv, check_value_count, check_written_size

# JSON is the default; CSV is plausible in Pendo (reference 2.1, 3.1) and the server writes it.
_MIME_TYPES = ("application/json", "text/csv")


def run_aggregation(
    body: Any, subscription: Subscription, *, limits: Limits | None = None
) -> dict[str, Any]:
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
) -> list[dict[str, Any]]:
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
        pipeline = compile_steps(steps, env, "pipeline", with_source=True)
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
        if type(result) is FreshRows:  # made by the last step: flat, counted, shared with nothing
            check_value_count(result.values, limits)
            return list(result)
        if isinstance(result, ValueColumns):
            count = result.value_count()
            if count is not None:  # immutable values only: nothing to measure deeply or copy
                if env.compilation.builds_values:
                    check_value_count(count, limits)
                return result.records()
            result = result.records()
        if env.compilation.builds_values:
            check_written_size(result, limits)
        # Rows share nested objects with the subscription while the pipeline runs; the caller
        # gets its own copy.
        copied: list[dict[str, Any]] = deep_copy(result)
        return copied


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
