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
import orjson
import pandas as pd

from pendo_nb.sandbox.subscription.grained import (
    BUCKET,
    GRAIN_PERIODS,
    OBJECT_COLUMNS,
    GrainedEvents,
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
    table = store.tables[source]
    stored = table[BUCKET].to_numpy()
    lo, hi = np.searchsorted(stored, [start, end], side="left")  # tables are sorted by bucket
    part = table.iloc[lo:hi]
    mask = _kept(part, keep)
    if not mask.all():
        part = part[mask]
    starts = np.array([s for s, _ in periods], dtype=np.int64)
    buckets = starts[np.searchsorted(starts, part[BUCKET].to_numpy(), side="right") - 1]
    if not np.array_equal(buckets, part[BUCKET].to_numpy()):
        part = _rolled_up(part.assign(**{BUCKET: buckets}))
    frame = part.rename(columns={BUCKET: period_field})
    for name in OBJECT_COLUMNS:
        if name in frame.columns:
            frame[name] = _objects(frame[name])
    return frame.reset_index(drop=True)


def _kept(part: pd.DataFrame, keep: RowFilter) -> np.ndarray:
    mask = np.ones(len(part), dtype=bool)
    if keep.apps is not None:
        mask &= part["appId"].isin(list(keep.apps)).to_numpy()
    if keep.object_ids is not None and keep.object_field is not None:
        mask &= part[keep.object_field].isin(list(keep.object_ids)).to_numpy()
    if keep.blacklist != "ignore":
        flagged = (
            part["visitorId"].isin(list(keep.flagged_visitors)).to_numpy()
            | part["accountId"].isin(list(keep.flagged_accounts)).to_numpy()
        )
        mask &= flagged if keep.blacklist == "only" else ~flagged
    return mask


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


def _objects(column: pd.Series) -> np.ndarray:
    """JSON text (categorical) -> one shared object per distinct text (steps copy before
    writing, see ``rows.write_path``)."""
    categories = column.cat.categories
    decoded = np.empty(len(categories) + 1, dtype=object)
    decoded[:-1] = [orjson.loads(text) for text in categories]
    decoded[-1] = {}
    return decoded[column.cat.codes.to_numpy()]


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


def needs_raw_events(store: GrainedEvents | None, what: str) -> None:
    """Refuse ``what`` (422) on a subscription whose events are grouped at a grain: it needs
    event-level data, which an extract does not hold."""
    if store is not None:
        raise AggregationError(
            f"{what} needs event-level data; this local extract holds event rows grouped "
            f"per {store.grain}, so ask a live connection",
            status=422,
        )
