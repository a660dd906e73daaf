"""The one primitive every aggregation pull is built on: send one body, get its typed DataFrame.

:func:`aggregation_frame` posts one request envelope and turns the answer into a DataFrame typed
by what the steps imply and the subscription's schema, with its provenance in ``attrs``. A plain
``pn.aggregate``, each window of a windowed pull (:mod:`pendo_nb.pulls.windows`), each page
(:mod:`pendo_nb.pulls.paging`) and each Dask partition are one call of it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from pendo_nb.frames import convert
from pendo_nb.frames.field_types import event_source_fields, source_kind
from pendo_nb.frames.times import stamp
from pendo_nb.http.connection import PendoConnection, aggregation_envelope
from pendo_nb.pulls.schemas import metadata_types, object_columns


def aggregation_frame(
    connection: PendoConnection, pipeline: Any, *, refresh: bool = False
) -> pd.DataFrame:
    """Run one aggregation request and return its rows as a typed DataFrame.

    ``pipeline`` is anything :func:`~pendo_nb.http.connection.aggregation_envelope` accepts.
    ``attrs`` holds the provenance, the ``pipeline`` sent and ``server_time``.
    """
    envelope = aggregation_envelope(pipeline)
    response = connection.post_aggregation(envelope, refresh=refresh)
    steps = envelope["request"]["pipeline"]
    attrs = {**response.provenance(), "pipeline": envelope}
    started = _start_time(response.content)
    if started is not None:
        attrs["server_time"] = stamp(started, connection.tz)
    kind = source_kind(steps)
    field_types = convert.field_types_implied_by(steps, metadata_types(connection, kind))
    if _asks_for_csv(envelope):
        text = response.text
        empty = len(text.strip().splitlines()) <= 1  # no rows: nothing, or a header alone
        columns = _implied_columns(connection, steps, kind, field_types, empty=empty)
        return convert.csv_to_frame(
            text, tz=connection.tz, columns=columns, field_types=field_types, attrs=attrs
        )
    parsed = convert.parse_json(response.content, key="results")
    del response  # free the answer's bytes before the frame is built (peak memory)
    columns = _implied_columns(connection, steps, kind, field_types, empty=len(parsed) == 0)
    return parsed.to_frame(tz=connection.tz, columns=columns, field_types=field_types, attrs=attrs)


def _implied_columns(
    connection: PendoConnection, steps: list, kind: str | None, field_types: dict, *, empty: bool
) -> list[str]:
    """The columns the steps imply. An empty result whose rows the steps keep as the source
    gave them (filtered, sorted...) gets the source's columns, since no row shows them: the id
    and the schema's fields of visitors or accounts, the documented fields of an event source.
    Their types join ``field_types`` (unless a step rewrites the column), so the empty columns
    have the dtypes full ones would."""
    columns = convert.columns_implied_by(steps)
    if not empty or columns:
        return columns
    if kind is not None:
        source_types: dict[str, str | None] = {f"{kind}Id": "string"}
        source_columns = object_columns(connection, kind)
    else:
        source_types = event_source_fields(steps)
        source_columns = list(source_types)
    columns = convert.columns_implied_by(steps, source_columns=source_columns)
    rewritten = {
        name
        for step in steps[1:]
        if isinstance(step, dict)
        for op, spec in step.items()
        if op in ("eval", "set") and isinstance(spec, dict)
        for name in spec
    }
    for name in columns:
        if source_types.get(name) and name not in rewritten:
            field_types.setdefault(name, source_types[name])
    return columns


def _asks_for_csv(envelope: dict) -> bool:
    """Whether the envelope asks for ``response.mimeType`` ``text/csv`` (reference 2.1)."""
    response = envelope.get("response")
    mime_type = response.get("mimeType") if isinstance(response, dict) else None
    return isinstance(mime_type, str) and mime_type.split(";")[0].strip().lower() == "text/csv"


# The envelope's own startTime: the first member of the answer, or its last. A row may have a
# field of that name too (an eval or select may write one), so an unanchored search could read
# a row's.
_START_TIME_FIRST = re.compile(rb'\A\s*\{\s*"startTime"\s*:\s*(\d+)')
_START_TIME_LAST = re.compile(rb'"startTime"\s*:\s*(\d+)\s*\}\s*\Z')


def _start_time(content: bytes) -> int | None:
    """The answer's ``startTime`` (when the server ran it), read without parsing the rows.

    Pendo writes it before or after ``results``, so looking at both ends of the body suffices.
    """
    match = _START_TIME_FIRST.search(content[:128]) or _START_TIME_LAST.search(content[-128:])
    return int(match.group(1)) if match else None
