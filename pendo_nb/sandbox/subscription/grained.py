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

from dataclasses import dataclass, field

import pandas as pd

#: The grains a store may hold, finest first, and the timeSeries period of each.
GRAIN_PERIODS: dict[str, str] = {"hour": "hourRange", "day": "dayRange"}
#: The grouped event sources a store holds.
GRAINED_SOURCES = ("events", "pageEvents", "featureEvents", "trackEvents")
#: Columns of every stored table besides the source's own keys: the grain bucket's start
#: (epoch ms) and the four measures.
BUCKET = "bucket"
MEASURES = ("numEvents", "numMinutes", "firstTime", "lastTime")
#: Nested-object columns, held as JSON text (categorical: few distinct values).
OBJECT_COLUMNS = ("parameters", "properties")


@dataclass
class GrainedEvents:
    """Grouped event-source rows at one grain, over ``[start_ms, end_ms)``.

    ``tables`` maps each source of :data:`GRAINED_SOURCES` to a DataFrame sorted by
    :data:`BUCKET`: string keys as categoricals (``visitorId``, ``accountId``, ``pageId``...),
    ``appId`` and the measures as int64 (times in epoch ms), and :data:`OBJECT_COLUMNS` as
    categorical JSON text. ``origin`` names where the rows came from (the extract's folder), for
    messages saying how to cover a range the store lacks.
    """

    grain: str
    start_ms: int
    end_ms: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    origin: str = ""
