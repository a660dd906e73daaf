"""The one primitive every aggregation pull is built on: send one body, get its typed DataFrame.

:func:`aggregation_frame` posts one request envelope and turns the answer into a DataFrame typed
by what the steps imply and the subscription's schema, with its provenance in ``attrs``. A plain
``pn.aggregate``, each window of a windowed pull (:mod:`pendo_nb.pulls.windows`), each page
(:mod:`pendo_nb.pulls.paging`) and each Dask partition are one call of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import pandas as pd

from pendo_nb.frames.csv_reader import csv_to_frame
from pendo_nb.frames.field_types import event_source_fields, source_kind
from pendo_nb.frames.implied_columns import columns_implied_by, field_types_implied_by
from pendo_nb.frames.json_reader import ParsedRows, parse_json
from pendo_nb.frames.streamed_reader import WholeAnswerNeeded, parse_json_chunks
from pendo_nb.frames.times import stamp
from pendo_nb.http.connection import PendoConnection, PendoResponse, aggregation_envelope
from pendo_nb.pulls.schemas import object_columns, pipeline_metadata_types


def aggregation_frame(
    connection: PendoConnection, pipeline: Any, *, refresh: bool = False
) -> pd.DataFrame:
    """Run one aggregation request and return its rows as a typed DataFrame.

    ``pipeline`` is anything :func:`~pendo_nb.http.connection.aggregation_envelope` accepts.
    ``attrs`` holds the provenance, the ``pipeline`` sent and ``server_time``.
    """
    envelope = aggregation_envelope(pipeline)
    if connection.streams_answers and not _asks_for_csv(envelope):
        # Read as it arrives: the answer's bytes are never all in memory at once.
        ends = _Ends()
        try:
            response, parsed = connection.post_aggregation_streamed(
                envelope, lambda chunks: parse_json_chunks(ends.watch(chunks))
            )
            return _frame(connection, envelope, response, ends.start_time(), parsed)
        except WholeAnswerNeeded:
            pass  # rows typed differently from one piece to the next (rare): asked again, below
    # A cache or a snapshot holds the answer whole anyway (requests-cache reads it all to
    # store it), and a CSV answer is read whole.
    response = connection.post_aggregation(envelope, refresh=refresh)
    started = _start_time(response.content[:_END_BYTES], response.content[-_END_BYTES:])
    if _asks_for_csv(envelope):
        steps = envelope["request"]["pipeline"]
        kind = source_kind(steps)
        field_types = field_types_implied_by(steps, pipeline_metadata_types(connection, steps))
        text = response.text
        empty = len(text.strip().splitlines()) <= 1  # no rows: nothing, or a header alone
        columns = _implied_columns(connection, steps, kind, field_types, empty=empty)
        attrs = _attrs(connection, envelope, response, started)
        return csv_to_frame(
            text, tz=connection.tz, columns=columns, field_types=field_types, attrs=attrs
        )
    parsed = parse_json(response.content, key="results")
    response = replace(response, content=b"")  # free the answer's bytes before the frame is built
    return _frame(connection, envelope, response, started, parsed)


def _frame(
    connection: PendoConnection,
    envelope: dict[str, Any],
    response: PendoResponse,
    started: int | None,
    parsed: ParsedRows,
) -> pd.DataFrame:
    """The typed DataFrame of parsed rows, with their provenance."""
    steps = envelope["request"]["pipeline"]
    kind = source_kind(steps)
    field_types = field_types_implied_by(steps, pipeline_metadata_types(connection, steps))
    columns = _implied_columns(connection, steps, kind, field_types, empty=len(parsed) == 0)
    attrs = _attrs(connection, envelope, response, started)
    return parsed.to_frame(tz=connection.tz, columns=columns, field_types=field_types, attrs=attrs)


def _attrs(
    connection: PendoConnection,
    envelope: dict[str, Any],
    response: PendoResponse,
    started: int | None,
) -> dict[str, Any]:
    attrs = {**response.provenance(), "pipeline": envelope}
    if started is not None:
        attrs["server_time"] = stamp(started, connection.tz)
    return attrs


def _implied_columns(
    connection: PendoConnection,
    steps: list[Any],
    kind: str | None,
    field_types: dict[str, Any],
    *,
    empty: bool,
) -> list[str]:
    """The columns the steps imply. An empty result whose rows the steps keep as the source
    gave them (filtered, sorted...) gets the source's columns, since no row shows them: the id
    and the schema's fields of visitors or accounts, the documented fields of an event source.
    Their types join ``field_types`` (unless a step rewrites the column), so the empty columns
    have the dtypes full ones would."""
    columns = columns_implied_by(steps)
    if not empty or columns:
        return columns
    if kind is not None:
        source_types: dict[str, str | None] = {f"{kind}Id": "string"}
        source_columns = object_columns(connection, kind)
    else:
        source_types = event_source_fields(steps)
        source_columns = list(source_types)
    columns = columns_implied_by(steps, source_columns=source_columns)
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


def _asks_for_csv(envelope: dict[str, Any]) -> bool:
    """Whether the envelope asks for ``response.mimeType`` ``text/csv`` (reference 2.1)."""
    response = envelope.get("response")
    mime_type = response.get("mimeType") if isinstance(response, dict) else None
    return isinstance(mime_type, str) and mime_type.split(";")[0].strip().lower() == "text/csv"


# The envelope's own startTime: the first member of the answer, or its last. A row may have a
# field of that name too (an eval or select may write one), so an unanchored search could read
# a row's.
_START_TIME_FIRST = re.compile(rb'\A\s*\{\s*"startTime"\s*:\s*(\d+)')
_START_TIME_LAST = re.compile(rb'"startTime"\s*:\s*(\d+)\s*\}\s*\Z')
# How much of either end of the answer holds its startTime.
_END_BYTES = 128


def _start_time(first: bytes, last: bytes) -> int | None:
    """The answer's ``startTime`` (when the server ran it), from the first and last
    :data:`_END_BYTES` of the body, without parsing the rows.

    Pendo writes it before or after ``results``, so looking at both ends of the body suffices.
    """
    match = _START_TIME_FIRST.search(first) or _START_TIME_LAST.search(last)
    return int(match.group(1)) if match else None


class _Ends:
    """The first and last bytes of a body read in chunks, for its ``startTime``."""

    def __init__(self) -> None:
        self.first = self.last = b""

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks``, passed on, noting the ends of the body they make (a body read again after
        a cut starts afresh)."""
        self.first = self.last = b""
        for chunk in chunks:
            if len(self.first) < _END_BYTES:
                self.first += chunk[: _END_BYTES - len(self.first)]
            self.last = (self.last + chunk[-_END_BYTES:])[-_END_BYTES:]
            yield chunk

    def start_time(self) -> int | None:
        return _start_time(self.first, self.last)
