"""Grouped event-source rows read from a store at a grain (a subscription loaded from an extract).

:func:`grained_rows` is what ``events``, ``pageEvents``, ``featureEvents`` and ``trackEvents``
read when the subscription holds :class:`~pendo_nb.sandbox.subscription.grained.GrainedEvents`
instead of raw events: the stored rows of the span, filtered, and rolled up into the requested
periods when these are coarser than the grain. A request the store cannot answer exactly (a period
finer than its grain, periods reaching outside its days) is refused with a message naming the
store's range and grain and the ``pn.extract`` call that would cover the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pendo_nb.sandbox.subscription.grained import (
    BUCKET,
    GRAIN_PERIODS,
    OBJECT_COLUMNS,
    GrainedEvents,
    categorical_isin,
)

from .errors import AggregationError

# Period buckets from finest to coarsest (the bucket field each timeSeries period adds).
_FINENESS = {"hour": 0, "day": 1, "week": 2, "month": 3}


@dataclass(frozen=True)
class RowFilter:
    """What a source's parameters keep: apps (``None``: all), object ids of ``object_field``
    (``None``: all), and the exclude list's mode with its flagged visitors and accounts."""

    apps: set[int] | None
    object_field: str | None
    object_ids: set[str] | None
    blacklist: str
    flagged_visitors: set[str]
    flagged_accounts: set[str]


def grained_rows(
    store: GrainedEvents,
    source: str,
    periods: list[tuple[int, int]],
    period_field: str,
    keep: RowFilter,
    *,
    now_ms: int,
    timezone: ZoneInfo,
    where: str,
) -> pd.DataFrame:
    """The source's rows over ``periods``, one per key and period, as the live engine makes them.

    Parameters
    ----------
    store : GrainedEvents
        The rows at a grain.
    source : str
        ``events``, ``pageEvents``, ``featureEvents`` or ``trackEvents``.
    periods : list of (start_ms, end_ms)
        The resolved timeSeries.
    period_field : str
        The bucket field of the periods (``hour``, ``day``, ``week``, ``month``).
    keep : RowFilter
        The source parameters' filters.
    now_ms, timezone
        The subscription's clock and zone (for the range check and its message).
    where : str
        The source step's position, for messages.

    Returns
    -------
    pandas.DataFrame
        Flat columns in Pendo's order, the period bucket in ``period_field`` (epoch ms).

    Raises
    ------
    AggregationError
        422 when the periods are finer than the grain or reach outside the store's days.
    """
    start, end = periods[0][0], periods[-1][1]
    _check_covered(store, start, end, period_field, now_ms, timezone, where)
    starts = np.array([s for s, _ in periods], dtype=np.int64)
    slabs = store.slabs(source, frozenset(keep.flagged_visitors), frozenset(keep.flagged_accounts))
    pieces, positions, buckets = [], [], []
    rolled = False
    for slab in slabs:
        if keep.apps is not None and slab.app not in keep.apps:
            continue
        if keep.blacklist != "ignore" and slab.flagged != (keep.blacklist == "only"):
            continue
        lo, hi = np.searchsorted(slab.buckets, [start, end], side="left")
        first, last = slab.offsets[lo], slab.offsets[hi]
        stored = slab.buckets[lo:hi]
        # The period of each stored bucket: itself at the store's grain, else a coarser start.
        periods_of = starts[np.searchsorted(starts, stored, side="right") - 1]
        rolled |= not np.array_equal(periods_of, stored)
        pieces.append(slab.frame.iloc[first:last])
        positions.append(slab.positions[first:last])
        buckets.append(np.repeat(periods_of, np.diff(slab.offsets[lo : hi + 1])))
    if not pieces:
        part = store.tables[source].iloc[0:0]
    elif len(pieces) == 1:  # the common query: one slice, no row-wise work
        part = pieces[0]
    else:  # several apps (or both sides of the exclude list): in the server's order again
        order = np.argsort(np.concatenate(positions), kind="stable")
        part = pd.concat(pieces, ignore_index=True).take(order)
        buckets = [np.concatenate(buckets)[order]]
    if keep.object_ids is not None and keep.object_field is not None:
        chosen = categorical_isin(part[keep.object_field], keep.object_ids)
        part = part[chosen]
        buckets = [np.concatenate(buckets)[chosen]] if buckets else buckets
    if rolled:
        part = _rolled_up(part.assign(**{BUCKET: np.concatenate(buckets)}))
    return part.rename(columns={BUCKET: period_field}).reset_index(drop=True)


def _rolled_up(part: pd.DataFrame) -> pd.DataFrame:
    """Rows of finer buckets summed into their period: numEvents and numMinutes added (a minute
    lies in one hour, an hour in one day), the first firstTime and the last lastTime kept; the
    nested objects are the same for every row of a key (taken from its first row)."""
    measures = {
        "numEvents": "sum",
        "numMinutes": "sum",
        "firstTime": "min",
        "lastTime": "max",
        **{name: "first" for name in OBJECT_COLUMNS if name in part.columns},
    }
    keys = [name for name in part.columns if name not in measures]
    # sort=False keeps the order keys first appear in, and the rows come sorted by bucket.
    grouped = part.groupby(keys, observed=True, sort=False).agg(measures).reset_index()
    return grouped[list(part.columns)]


def _check_covered(
    store: GrainedEvents,
    start: int,
    end: int,
    period_field: str,
    now_ms: int,
    timezone: ZoneInfo,
    where: str,
) -> None:
    finer = _FINENESS[period_field] < _FINENESS[store.grain]
    # Periods may end after the store when the store reaches the clock: nothing happened since.
    outside = start < store.start_ms or (end > store.end_ms and store.end_ms < now_ms)
    if not (finer or outside):
        return

    def day(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(timezone).date().isoformat()

    grain = "hour" if finer else store.grain
    first = day(min(start, store.start_ms))
    after = day(max(end, store.end_ms) - 1 + 86_400_000)  # the day after the last one
    what = (
        f"{GRAIN_PERIODS.get(period_field, period_field + 'Range')} periods, finer than its "
        f"{store.grain} grain"
        if finer
        else f"events from {day(start)} through {day(end - 1)}"
    )
    raise AggregationError(
        f"{where}: this local extract holds events from {day(store.start_ms)} through "
        f"{day(store.end_ms - 1)} at {store.grain} grain; the pipeline asks for {what}. "
        f"pn.extract({store.origin!r}, {first!r}, {after!r}, grain={grain!r}) would cover it",
        status=422,
    )


def needs_source(store: GrainedEvents | None, source: str, where: str) -> None:
    """Refuse (422) a source that a store's extract was made without (``sources=``)."""
    if store is not None and source not in store.held:
        raise AggregationError(
            f"{where}: this local extract holds no {source} rows (it was made with "
            f"sources={sorted(store.held)}); pn.extract({store.origin!r}, ..., "
            f"sources=[..., {source!r}]) into a new folder would hold them",
            status=422,
        )


def needs_raw_events(store: GrainedEvents | None, what: str) -> None:
    """Refuse ``what`` (422) on a subscription whose events are grouped at a grain: it needs
    event-level data, which an extract does not hold."""
    if store is not None:
        raise AggregationError(
            f"{what} needs event-level data; this local extract holds event rows grouped "
            f"per {store.grain}, so ask a live connection",
            status=422,
        )
