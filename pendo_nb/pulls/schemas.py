"""The column types the server declares: metadata schemas and report field definitions.

They are read through the connection, so they are cached like any read; the types the
documentation gives without a server are in :mod:`pendo_nb.frames.field_types`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from pendo_nb.errors import NotRecordedError, PendoAPIError, PendoConnectionError
from pendo_nb.frames.field_types import expanded_kinds, source_kind
from pendo_nb.frames.implied_columns import field_types_implied_by, metadata_field_types
from pendo_nb.http.connection import PendoConnection


def metadata_types(
    client: PendoConnection, kind: str | None, *, prefix: str = "metadata."
) -> dict[str, str] | None:
    """Column types from the metadata schema, or None (with a warning) when it is unavailable.

    ``prefix`` is where the rows hold the metadata groups (``account.`` after an ``expand``).
    """
    if kind is None:
        return None
    try:
        schema = client.metadata_schema(kind)
    except (PendoAPIError, PendoConnectionError, NotRecordedError) as exc:
        warnings.warn(
            f"metadata schema unavailable, columns keep inferred types: {exc}", stacklevel=4
        )
        return None
    return metadata_field_types(schema, prefix=prefix)


def pipeline_metadata_types(client: PendoConnection, steps: list[Any]) -> dict[str, str] | None:
    """The column types of every metadata field a pipeline's rows hold: the visitors' or
    accounts' ``metadata.*``, and the groups an ``expand``/``bulkExpand`` of visitors or
    accounts attaches (``account.custom.renewaldate``). None when there are none."""
    types = metadata_types(client, source_kind(steps))
    for out, kind in expanded_kinds(steps).items():
        expanded = metadata_types(client, kind, prefix=f"{out}.")
        if expanded is not None:
            types = {**(types or {}), **expanded}
    return types


def object_columns(client: PendoConnection, kind: str | None) -> list[str]:
    """The columns of a visitors/accounts row: its id, then every field of the metadata schema.

    Empty when ``kind`` is None or the schema is unavailable (:func:`metadata_types` warns).
    """
    if kind is None:
        return []
    try:
        schema = client.metadata_schema(kind)
    except (PendoAPIError, PendoConnectionError):
        return []
    fields = [
        f"metadata.{group}.{name}"
        for group, definitions in schema.items()
        if isinstance(definitions, Mapping)
        for name in definitions
    ]
    return [f"{kind}Id", *fields]


def report_fields(client: PendoConnection, report_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """A report's ``aggregation.fields``: field -> type, and CSV title -> field.

    ``time`` fields its pipeline computes as period buckets are typed ``bucket``. Both are
    empty when the report is not listed or declares no fields.
    """
    definition = next(
        (
            item
            for item in client.get_reports().json_array()
            if isinstance(item, dict) and item.get("id") == report_id
        ),
        {},
    )
    fields = [
        f
        for f in (definition.get("aggregation") or {}).get("fields") or []
        if isinstance(f, dict) and isinstance(f.get("field"), str)
    ]
    types = {f["field"]: str(f.get("type") or "") for f in fields}
    titles = {f["title"]: f["field"] for f in fields if isinstance(f.get("title"), str)}
    # A "time" field the report's own pipeline computes as a period bucket (a group's ``day``,
    # ``max`` of it) is one: typed as the same aggregation's column would be.
    pipeline = (definition.get("aggregation") or {}).get("pipeline")
    if isinstance(pipeline, list):
        for name, kind in field_types_implied_by(pipeline).items():
            if kind == "bucket" and types.get(name) == "time":
                types[name] = "bucket"
    return types, titles
