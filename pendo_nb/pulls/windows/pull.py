"""Long aggregations split into time windows: exact or refused, fetched in parallel, resumable.

Pendo cuts an aggregation at 5 minutes or 4 GB (reference 1.6), so a year of events has to be
asked for in pieces. :func:`aggregate_in_windows` (``pn.aggregate(p, windows="1D")``):

1. **checks that splitting is exact** (:mod:`pendo_nb.pulls.windows.plan`): row-wise steps,
   groups keyed by the period bucket, and aggregators that combine exactly (``sum``, ``count`` of
   rows, ``min``, ``max``); each window's partial rows are then combined on this machine
   (:mod:`pendo_nb.pulls.windows.combine`). Anything else raises
   :class:`~pendo_nb.errors.PipelineError` saying why and what to change.
2. **asks the server for the window boundaries** (:mod:`pendo_nb.pulls.windows.boundaries`), so
   the same window has the same request, hence the same cache entry, on every run. That is what
   makes an interrupted pull resumable.
3. **fetches the windows in parallel** (``workers`` threads sharing the client, hence its rate
   limit and cache), converting each answer to a DataFrame as it arrives. Each window is cached
   for as long as :mod:`pendo_nb.http.cache_policy` says (closed windows long, open ones briefly),
   and its DataFrame is kept beside the cache (:mod:`pendo_nb.pulls.frame_cache`) so a re-run does
   not parse it again.
4. **halves a window that fails** with a timeout, 408, 413 or 5xx (after the session's retries),
   down to a single period, and says which windows were split in ``df.attrs``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from pendo_nb._checks import positive_int
from pendo_nb.errors import PendoAPIError, PendoTimeoutError, PipelineError, ServerError
from pendo_nb.frames.times import iso, stamp
from pendo_nb.http.cache_policy import DEFAULT_POLICY, CachePolicy, request_expiry
from pendo_nb.http.connection import PendoConnection, aggregation_envelope
from pendo_nb.pulls.aggregation import aggregation_frame
from pendo_nb.pulls.frame_cache import FrameCache
from pendo_nb.pulls.windows.boundaries import Window, halves_of, read_windows
from pendo_nb.pulls.windows.combine import combine
from pendo_nb.pulls.windows.plan import UNITS, SplitPlan, WindowSize, split_plan


def _splittable(error: BaseException) -> bool:
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
    split: list[Any] = field(default_factory=list)
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

    envelope: dict[str, Any]
    plan: SplitPlan
    size: WindowSize
    now: int
    windows: tuple[Window, ...]
    policy: CachePolicy

    def fetch(
        self,
        client: PendoConnection,
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
            frame = aggregation_frame(client, body, refresh=refresh)
        if store is not None:
            store.put(body, frame, expiry)
        return frame

    def halves(
        self, client: PendoConnection, window: Window, error: BaseException
    ) -> tuple[Window, Window]:
        """The two halves to fetch instead of a window that failed with ``error``.

        Raises ``error`` again when a smaller window would not help (a 400, a bad key...) or the
        window is a single period already.
        """
        if not _splittable(error):
            raise error
        halves = halves_of(client, window, self.plan.period_unit, self.policy)
        if halves is None:
            error.add_note(
                f"the window from {iso(window.start)} to {iso(window.end)} is a single "
                f"{self.plan.time_series['period']} period and cannot be split further"
            )
            raise error
        return halves

    def fetch_halving(
        self,
        client: PendoConnection,
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
        first: Mapping[Any, Any],  # a frame's attrs (pandas types their keys Hashable)
        client: PendoConnection,
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
    client: PendoConnection,
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
        size = WindowSize(1, max("D", plan.period_unit, key=lambda u: UNITS[u][2]))
    else:
        size = WindowSize.parse(windows)
        plan = split_plan(steps, size)
    now, planned = read_windows(client, plan, size, policy, refresh)
    return WindowedPull(envelope, plan, size, now, tuple(planned), policy)


def aggregate_in_windows(
    pipeline: Any,
    *,
    client: PendoConnection,
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
        return aggregation_frame(client, pipeline, refresh=refresh)

    bar = tqdm(total=len(pull.windows), desc="windows", unit="window", disable=not progress)
    counts = _Progress(bar)
    parts: dict[Window, pd.DataFrame] = {}
    store = FrameCache(client)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pendo-window")

    def submit(window: Window) -> Future[Any]:
        return pool.submit(pull.fetch, client, window, refresh=refresh, store=store)

    try:
        running: dict[Future[Any], Window] = {submit(w): w for w in pull.windows}
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
    frame = combine(ordered, pull.plan)
    frame.attrs = attrs  # type: ignore[assignment]  # pandas-stubs: attrs' key type is invariant
    return frame
