"""Paging a big result by ``sort`` + ``limit`` + a filter cursor on a unique key.

Pendo documents no ``skip`` (reference 3.5), and skipping would make Pendo recompute and throw
away ever more rows anyway. Instead each page asks for the rows whose key is at or after the last
key seen, sorted by the key, ``page_size + 1`` at a time::

    <pipeline> -> filter: key >= <last key> -> sort: [key] -> limit: page_size + 1

The page starts with the row already seen (so a key that is not unique shows up as a second row
with that value, and is refused instead of silently losing rows) and holds ``page_size`` new
rows; a page with fewer is the last one. Keys are written as literals of Pendo's expression
language (:func:`expression_literal`): strings with quotes, backslashes, control characters and
any Unicode, integers and floats written exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pendo_nb._checks import positive_int
from pendo_nb.errors import PipelineError, ValidationError
from pendo_nb.frames.parts import concat_parts
from pendo_nb.frames.times import bucket_ms
from pendo_nb.http.connection import PendoConnection, aggregation_envelope
from pendo_nb.pulls.aggregation import aggregation_frame

__all__ = ["aggregate_in_pages", "cursor_key", "expression_literal"]

#: The unique key of the object sources, used when the pipeline names none.
_SOURCE_KEYS = {"visitors": "visitorId", "accounts": "accountId"}


def expression_literal(value: Any) -> str:
    """``value`` as a literal of Pendo's expression language.

    Strings are double-quoted with ``\\`` and ``"`` escaped and control characters written as
    ``\\uXXXX`` (everything else, any Unicode, is sent as is in the UTF-8 body); integers in
    full; floats in positional notation with the digits that read back to the same float.

    Raises
    ------
    ValidationError
        For values that are not strings or finite numbers (a key cannot be null or a list).
    """
    if isinstance(value, str):
        out = []
        for char in value:
            if char in ('"', "\\"):
                out.append("\\" + char)
            elif ord(char) < 0x20 or ord(char) == 0x7F:
                out.append(f"\\u{ord(char):04x}")
            else:
                out.append(char)
        return '"' + "".join(out) + '"'
    if isinstance(value, bool | np.bool_) or value is None:
        raise ValidationError(f"a paging key must be a string or a number, got {value!r}")
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and math.isfinite(value):
        return np.format_float_positional(float(value), unique=True, trim="-")
    raise ValidationError(f"a paging key must be a string or a finite number, got {value!r}")


def cursor_key(steps: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
    """The unique key to page by, and the steps to send before the paging steps.

    The key is the field of a trailing one-field ascending ``sort`` (which the paging steps
    replace), else ``visitorId``/``accountId`` for the visitors/accounts sources.

    Raises
    ------
    PipelineError
        No key can be told, or the pipeline ends with a ``limit`` (paging would override it).
    """
    steps = list(steps)
    last = steps[-1] if steps else {}
    if "limit" in last:
        raise PipelineError(
            "page_size=: the pipeline ends with a limit, which paging would override; drop "
            "the limit (or the page_size)"
        )
    if "sort" in last:
        keys = last["sort"] if isinstance(last["sort"], list) else [last["sort"]]
        if len(keys) == 1 and isinstance(keys[0], str) and not keys[0].startswith("-"):
            return keys[0], steps[:-1]
        raise PipelineError(
            f"page_size=: paging sorts by one unique key ascending, but the pipeline ends with "
            f"sort {keys!r}; end with a sort on one unique field (or none for visitors/accounts)"
        )
    source = steps[0].get("source") if steps and isinstance(steps[0], Mapping) else None
    name = next((n for n in (source or {}) if n != "timeSeries"), None)
    if name in _SOURCE_KEYS:
        return _SOURCE_KEYS[name], steps
    raise PipelineError(
        f"page_size=: cannot tell a unique key of the {name!r} source's rows; end the pipeline "
        "with a sort on a field that is unique per row, e.g. .sort('id')"
    )


def aggregate_in_pages(
    pipeline: Any,
    *,
    client: PendoConnection,
    page_size: int,
    progress: bool = True,
    refresh: bool = False,
) -> pd.DataFrame:
    """Run an aggregation page by page and return all rows.

    Called by :func:`pendo_nb.aggregate` when ``page_size=`` is given; see it for the
    parameters. Rows come sorted by the key; ``df.attrs`` adds ``pages`` and ``page_key``.
    """
    positive_int(page_size, "page_size")
    envelope = aggregation_envelope(pipeline)
    key, steps = cursor_key(envelope["request"]["pipeline"])

    pages: list[pd.DataFrame] = []
    cursor: Any = None
    with tqdm(desc="pages", unit="row", disable=not progress) as bar:
        while True:
            paging = [{"sort": [key]}, {"limit": page_size + (cursor is not None)}]
            if cursor is not None:
                paging.insert(0, {"filter": f"{key} >= {expression_literal(cursor)}"})
            body = {**envelope, "request": {**envelope["request"], "pipeline": steps + paging}}
            page = aggregation_frame(client, body, refresh=refresh)
            values = _keys_of(page, key, client.tz)
            if cursor is not None and len(values) and values[0] == cursor:
                page, values = page.iloc[1:], values[1:]  # the row already seen
            _check_keys(values, key, cursor, pseudonyms=client.values_are_pseudonyms)
            pages.append(page)
            bar.update(len(page))
            bar.set_postfix(pages=len(pages), refresh=False)
            if len(page) < page_size:
                break
            cursor = values[-1]
    frame = concat_parts(pages)
    attrs = dict(pages[0].attrs)
    attrs.update(pipeline=envelope, pages=len(pages), page_key=key)
    frame.attrs = attrs
    return frame


def _keys_of(page: pd.DataFrame, key: str, tz: str) -> list[Any]:
    """The page's key values as the server compares them (datetimes back to epoch ms; zone-less
    bucket starts read on the clock of ``tz``, where they were made)."""
    if page.empty:
        return []
    if key not in page.columns:
        raise PipelineError(
            f"page_size=: the rows have no {key!r} field to page by; keep it in the output"
        )
    column = page[key]
    if pd.api.types.is_datetime64_dtype(column):
        return bucket_ms(column, tz)
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        # epoch-ms fields were turned into datetimes; the server compares the numbers
        return [None if pd.isna(moment) else moment.value // 1_000_000 for moment in column]
    return [None if value is pd.NA else value for value in column.astype(object).tolist()]


def _check_keys(values: list[Any], key: str, cursor: Any, *, pseudonyms: bool = False) -> None:
    """Refuse what would make pages skip or repeat rows: missing, repeated or unsorted keys.

    Pseudonyms (a pseudonymized recording or its replay) keep the server's order of the real
    values, not their own, so only repeats can be told there.
    """
    if any(value is None or (isinstance(value, float) and math.isnan(value)) for value in values):
        raise PipelineError(f"page_size=: some rows have no {key!r}; paging by it would skip them")
    if pseudonyms:
        repeated = sorted({v for v in values if values.count(v) > 1 or v == cursor}, key=str)
        if repeated:
            raise PipelineError(
                f"page_size=: {key!r} {repeated[0]!r} appears more than once: the key must be "
                "unique per row (paging by it would skip or repeat rows); sort by a unique field"
            )
        return
    previous = cursor
    for value in values:
        if previous is not None and not value > previous:
            what = "appears more than once" if value == previous else "is out of order"
            raise PipelineError(
                f"page_size=: {key!r} {value!r} {what}: the key must be unique per row "
                "(paging by it would skip or repeat rows); sort by a unique field"
            )
        previous = value
