"""The server's one CSV writer: report ``results.csv`` and aggregations asked for ``text/csv``.

RFC 4180 text: comma-separated, CRLF line ends, a field quoted when it holds a comma, a quote or a
line break, quotes inside doubled. A null is an empty field, a string is written as is, and every
other value (numbers, booleans, lists, objects) as the server's JSON writer prints it, so numbers
read the same in CSV as in JSON (``5``, not ``5.0``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from pendo_nb.sandbox.server._json import dumps


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return dumps(value).decode()


def to_csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    """CSV text: a header row of ``columns``, then each row's values for them (missing: empty).

    With no columns at all the text is empty (there is no header to write).
    """
    if not columns:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def flatten_row(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``row`` with nested objects spread into dotted names: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``.

    Lists stay whole (one JSON cell). An empty object holds no value, so it gives no field (as
    in ``pandas.json_normalize``). Should a literal dotted key meet the same name spelled by
    nesting, the later one wins.
    """
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_row(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """An aggregation's rows as CSV: nested objects flattened, columns in order of first sight.

    The header is the union of the flattened field names over all rows, in the order they first
    appear; a row without a field leaves its cell empty. Pendo does not document its CSV output
    (reference 7.4 lists it as an open question), so this layout is the sandbox's choice.
    """
    flat_rows = [flatten_row(row) for row in rows]
    columns = list(dict.fromkeys(name for row in flat_rows for name in row))
    return to_csv(columns, flat_rows)
