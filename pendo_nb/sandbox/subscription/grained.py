"""Event-source rows already grouped at a grain: where an extracted subscription's events live.

A generated subscription keeps raw events (:class:`~.model.EventTable`), which the engine groups
into Pendo's event-source rows at any period. A subscription loaded from a local extract has no raw
events: it has the rows Pendo answered for ``events``, ``pageEvents``, ``featureEvents`` and
``trackEvents`` at one grain (``"hour"`` or ``"day"``), kept here column-wise. The engine rolls
them up into coarser periods (hours into days, days into weeks and months) by summing
``numEvents`` and ``numMinutes`` and keeping the first ``firstTime`` and the last ``lastTime``:
exact, because every minute lies in one hour and every hour in one day of the subscription's time
zone. It cannot split them finer, and it cannot answer what needs single events (visitor history,
``singleEvents``, ``itemSeen``).
"""

from __future__ import annotations

import threading
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: The grains a store may hold, finest first, and the timeSeries period of each.
GRAIN_PERIODS: dict[str, str] = {"hour": "hourRange", "day": "dayRange"}
#: The grouped event sources a store holds.
GRAINED_SOURCES = ("events", "pageEvents", "featureEvents", "trackEvents")
#: Columns of every stored table besides the source's own keys: the grain bucket's start
#: (epoch ms) and the four measures.
BUCKET = "bucket"
MEASURES = ("numEvents", "numMinutes", "firstTime", "lastTime")
#: Nested-object columns: objects, one shared object per distinct value (steps copy nested
#: objects before writing into them, see ``engine.rows.write_path``).
OBJECT_COLUMNS = ("parameters", "properties")


@dataclass(frozen=True)
class Slab:
    """One source's rows of one app, on the exclude list or not, sorted by bucket.

    ``buckets`` are the distinct bucket starts and ``offsets`` where each one's rows start (one
    more: the end), so a range of periods is a slice; ``positions`` are the rows' places in the
    source's whole table (the server's order), to interleave slabs as the server did.
    """

    app: int
    flagged: bool
    frame: pd.DataFrame
    buckets: np.ndarray
    offsets: np.ndarray
    positions: np.ndarray


@dataclass
class GrainedEvents:
    """Grouped event-source rows at one grain, over ``[start_ms, end_ms)``.

    ``tables`` maps each source of :data:`GRAINED_SOURCES` to a DataFrame sorted by
    :data:`BUCKET`: string keys as categoricals (``visitorId``, ``accountId``, ``pageId``...),
    ``appId`` and the measures as int64 (times in epoch ms), and :data:`OBJECT_COLUMNS` as
    objects (one shared object per distinct value). ``origin`` names where the rows came from
    (the extract's folder), for messages saying how to cover a range the store lacks.
    """

    grain: str
    start_ms: int
    end_ms: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    origin: str = ""
    #: The day-partitioned sources the store was made with (grouped ones and guide/poll events).
    held: frozenset[str] = frozenset()
    _slabs: dict[tuple[str, frozenset[str], frozenset[str]], list[Slab]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def slabs(
        self, source: str, flagged_visitors: frozenset[str], flagged_accounts: frozenset[str]
    ) -> list[Slab]:
        """The source's rows cut once into :class:`Slab` s by app and by the exclude list (the
        common query, one app without the excluded people, is then one slice, never a filter
        over every row); kept for the next query with the same exclude list."""
        key = (source, flagged_visitors, flagged_accounts)
        with self._lock:
            if key not in self._slabs:
                self._slabs[key] = _cut(self.tables[source], flagged_visitors, flagged_accounts)
            return self._slabs[key]


def _cut(table: pd.DataFrame, visitors: frozenset[str], accounts: frozenset[str]) -> list[Slab]:
    if table.empty:
        return []
    flagged = categorical_isin(table["visitorId"], visitors)
    flagged |= categorical_isin(table["accountId"], accounts)
    apps = table["appId"].to_numpy()
    slabs = []
    for app in np.unique(apps):
        for is_flagged in (False, True):
            positions = np.flatnonzero((apps == app) & (flagged == is_flagged))
            if not len(positions):
                continue
            frame = table.iloc[positions].reset_index(drop=True)
            buckets, first = np.unique(frame[BUCKET].to_numpy(), return_index=True)
            offsets = np.append(first, len(frame))
            slabs.append(Slab(int(app), is_flagged, frame, buckets, offsets, positions))
    return slabs


def categorical_isin(column: pd.Series, values: AbstractSet[str]) -> np.ndarray:
    """Whether each value of a categorical column is in ``values``: decided once per category."""
    if not values:
        return np.zeros(len(column), dtype=bool)
    hits = np.append(column.cat.categories.isin(list(values)), False)  # code -1: missing
    return hits[column.cat.codes.to_numpy()]
