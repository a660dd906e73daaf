"""A JSON answer's rows -> a DataFrame: the columnar reader for big answers, the plain reader
for small ones and whenever pyarrow cannot give every field a single type.

:func:`parse_json` reads the rows, :meth:`ParsedRows.to_frame` builds the frame, so a caller
can free the answer's bytes in between; :func:`json_to_frame` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa

from pendo_nb.frames.casts import ColumnTyping, finish_frame
from pendo_nb.frames.columnar_reader import columnar_table, table_to_pandas
from pendo_nb.frames.plain_reader import rows_of, rows_to_frame

__all__ = ["COLUMNAR_MIN_BYTES", "ParsedRows", "json_to_frame", "parse_json"]

# Answers at least this big go through the columnar reader.
COLUMNAR_MIN_BYTES = 256 * 1024


class ParsedRows:
    """Rows read from a JSON answer but not yet a DataFrame (see :func:`parse_json`).

    Holding this instead of the answer's bytes lets a caller free the bytes before the frame is
    built, so a big answer is never in memory three times (bytes, parsed rows, frame).
    """

    def __init__(self, *, table: pa.Table | None = None, rows: list[Any] | None = None) -> None:
        self._table = table
        self._rows = rows

    def __len__(self) -> int:
        return self._table.num_rows if self._table is not None else len(self._rows or [])

    def to_frame(
        self,
        *,
        tz: str = "UTC",
        columns: Iterable[str] = (),
        field_types: Mapping[str, str] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Build the DataFrame (once: the parsed rows are released as they are converted).

        Parameters as for :func:`~pendo_nb.frames.plain_reader.rows_to_frame`.
        """
        table, self._table = self._table, None
        if table is None:
            rows, self._rows = self._rows or [], None
            return rows_to_frame(rows, tz=tz, columns=columns, field_types=field_types, attrs=attrs)
        arrays = dict(zip(table.column_names, table.columns, strict=True))
        del table  # each column is freed once converted
        typing = ColumnTyping(field_types, tz)
        frame = table_to_pandas(arrays, typing)
        return finish_frame(
            frame, tz=tz, columns=columns, field_types=field_types, attrs=attrs, typing=typing
        )


def parse_json(
    content: bytes, *, key: str | None = "results", columnar: bool | None = None
) -> ParsedRows:
    """Read the rows of a JSON answer: an object holding them under ``key``, or (with
    ``key=None``) an array of rows.

    ``columnar`` forces (``True``) or avoids (``False``) pyarrow's columnar reader; by default it
    is used for answers of at least :data:`COLUMNAR_MIN_BYTES`. The plain reader takes over
    whenever pyarrow cannot give every field a single type.
    """
    use_columnar = len(content) >= COLUMNAR_MIN_BYTES if columnar is None else columnar
    table = columnar_table(content, key) if use_columnar else None
    if table is not None:
        return ParsedRows(table=table)
    return ParsedRows(rows=rows_of(orjson.loads(content), key))


def json_to_frame(
    content: bytes,
    *,
    key: str | None = "results",
    tz: str = "UTC",
    columns: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
    columnar: bool | None = None,
) -> pd.DataFrame:
    """:func:`parse_json` then :meth:`ParsedRows.to_frame`, for callers that keep the bytes."""
    parsed = parse_json(content, key=key, columnar=columnar)
    return parsed.to_frame(tz=tz, columns=columns, field_types=field_types, attrs=attrs)
