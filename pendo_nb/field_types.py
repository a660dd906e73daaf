"""The column types the server declares: metadata schemas and report field definitions.

:mod:`pendo_nb.frames` types columns from a ``{column: type}`` mapping; this module reads those
mappings from the server (through the client, so they are cached like any read).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from pendo_nb import frames
from pendo_nb.client import PendoClient
from pendo_nb.errors import PendoAPIError, PendoConnectionError

__all__ = ["metadata_types", "object_columns", "report_fields", "source_kind"]


def source_kind(steps: Sequence[Mapping]) -> str | None:
    """``visitor``/``account`` when the pipeline reads the visitors/accounts source."""
    source = steps[0].get("source") if steps and isinstance(steps[0], Mapping) else None
    if isinstance(source, Mapping):
        if "visitors" in source:
            return "visitor"
        if "accounts" in source:
            return "account"
    return None


def metadata_types(client: PendoClient, kind: str | None) -> dict[str, str] | None:
    """Column types from the metadata schema, or None (with a warning) when it is unavailable."""
    if kind is None:
        return None
    try:
        schema = client.metadata_schema(kind)
    except (PendoAPIError, PendoConnectionError) as exc:
        warnings.warn(
            f"metadata schema unavailable, columns keep inferred types: {exc}", stacklevel=4
        )
        return None
    return frames.metadata_field_types(schema)


def object_columns(client: PendoClient, kind: str | None) -> list[str]:
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


def report_fields(client: PendoClient, report_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """A report's ``aggregation.fields``: field -> type, and CSV title -> field.

    Both are empty when the report is not listed or declares no fields.
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
    return types, titles
