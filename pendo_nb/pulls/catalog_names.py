"""The names of pages, features, track types and guides, for the ids that rows carry.

Events, aggregation rows and history items say what they are about by id (``pageId``,
``featureId``, ``trackTypeId``, ``guideId``), which means nothing to a reader. One ``GET`` per
catalog (``/page``, ``/feature``, ``/tracktype``, ``/guide``, all apps) gives every id its name.
The maps are kept per client, so naming many frames asks each catalog once.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

import pandas as pd

from pendo_nb.errors import ValidationError
from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.http.connection import PendoConnection

__all__ = [
    "ID_COLUMNS",
    "KINDS",
    "catalog_names",
    "forget_names",
    "name_column",
    "names_frame",
    "with_names",
]

#: The catalogs, in the order :func:`names_frame` lists them.
KINDS = ("page", "feature", "trackType", "guide")
#: The id column of each catalog, as Pendo names it in events and history items.
ID_COLUMNS = {
    "pageId": "page",
    "featureId": "feature",
    "trackTypeId": "trackType",
    "guideId": "guide",
}

# Weak keys: a client that is closed and dropped takes its names with it.
_NAMES: WeakKeyDictionary[PendoConnection, dict[str, dict[str, str]]] = WeakKeyDictionary()


def catalog_names(
    connection: PendoConnection, kind: str, *, refresh: bool = False
) -> dict[str, str]:
    """``{id: name}`` of one catalog, fetched on first use by this client (again if ``refresh``)."""
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    known = _NAMES.setdefault(connection, {})
    if refresh or kind not in known:
        # The catalog's path is the kind in lower case (Pendo writes /tracktype).
        objects = connection.get_catalog(kind.lower(), refresh=refresh).json_array()
        known[kind] = {
            str(item["id"]): str(item.get("name") or "")
            for item in objects
            if isinstance(item, dict) and item.get("id") is not None
        }
    return known[kind]


def forget_names(connection: PendoConnection) -> None:
    """Drop the names kept for ``connection`` (its cache was cleared: they may be stale)."""
    _NAMES.pop(connection, None)


def names_frame(
    connection: PendoConnection, kind: str | None = None, *, refresh: bool = False
) -> pd.DataFrame:
    """One row per catalog object: ``id``, ``kind`` and ``name`` (string columns)."""
    kinds = KINDS if kind is None else (kind,)
    rows = [
        (object_id, each, name)
        for each in kinds
        for object_id, name in catalog_names(connection, each, refresh=refresh).items()
    ]
    return pd.DataFrame(
        {
            column: pd.array([row[position] for row in rows], dtype=TEXT_DTYPE)
            for position, column in enumerate(("id", "kind", "name"))
        }
    )


def name_column(id_column: str) -> str:
    """``pageId`` -> ``pageName``; a dotted prefix stays (``from.pageId`` -> ``from.pageName``)."""
    return id_column.removesuffix("Id") + "Name"


def with_names(connection: PendoConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with a name column right after each page/feature/track type/guide id.

    Id columns are found by their last dotted part; an id no catalog knows gets a missing name.
    A name column already there (a frame named before) is replaced, so naming twice is harmless.
    """
    id_columns = {
        column: kind
        for column in frame.columns
        if (kind := ID_COLUMNS.get(str(column).rsplit(".", 1)[-1])) is not None
    }
    stale = [name_column(c) for c in id_columns if name_column(c) in frame.columns]
    named = frame.drop(columns=stale)  # a new frame: ``frame`` is never changed
    for column, kind in id_columns.items():
        names = catalog_names(connection, kind)
        values = [names.get(value) if isinstance(value, str) else None for value in frame[column]]
        position = list(named.columns).index(column) + 1
        named.insert(position, name_column(column), pd.Series(values, frame.index, TEXT_DTYPE))
    return named
