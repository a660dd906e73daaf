"""Core events: the pages, features and track types a metric is about, named by id or name.

"Designate up to 10 features, pages, and track events per app"
(support.pendo.io/hc/en-us/articles/360049089172). Names are read from Pendo's catalogs
(:func:`pendo_nb.object_names`, kept per client).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pendo_nb.api.client import PendoClient
from pendo_nb.errors import ValidationError
from pendo_nb.metrics.queries import OBJECT_SOURCES

CORE_EVENT_COLUMNS = ["id", "kind", "name"]


def resolve_events(client: PendoClient, events: str | Sequence[str], where: str) -> pd.DataFrame:
    """``events`` (ids or names of pages, features and track types) as rows of ``id``, ``kind``
    and ``name``, in the order given; an unknown or ambiguous one is a clear error."""
    wanted = [events] if isinstance(events, str) else list(events)
    if not wanted or not all(isinstance(event, str) and event for event in wanted):
        raise ValidationError(
            f"{where}: give page, feature or track type ids or names (non-empty strings), "
            f"got {events!r}"
        )
    names = client.object_names()
    catalog = names[names["kind"].isin(list(OBJECT_SOURCES))]
    rows = []
    for event in wanted:
        found = catalog[catalog["id"] == event]
        if found.empty:
            found = catalog[catalog["name"] == event]
        if found.empty:
            raise ValidationError(
                f"{where}: no page, feature or track type has the id or name {event!r}"
            )
        if len(found) > 1:
            choices = ", ".join(
                f"{kind} {id_}" for kind, id_ in zip(found["kind"], found["id"], strict=True)
            )
            raise ValidationError(
                f"{where}: {event!r} names several objects ({choices}); give its id"
            )
        rows.append(found.iloc[0][CORE_EVENT_COLUMNS])
    resolved = pd.DataFrame(rows, columns=CORE_EVENT_COLUMNS).reset_index(drop=True)
    if resolved["id"].duplicated().any():
        raise ValidationError(f"{where}: {events!r} names the same object twice")
    return resolved
