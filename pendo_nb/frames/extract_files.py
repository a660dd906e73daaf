"""Rows of Pendo answers as Parquet files any tool reads (the files of a local extract).

Event-source rows become typed columns: text as strings, numbers as numbers, Pendo's epoch-ms
times (``firstTime``, ``lastTime``, ``hour``, ``browserTime``...) as UTC timestamps, nested
objects and lists (``parameters``, ``properties``, ``accountIds``) as JSON text. Objects with
free-form metadata (visitors, accounts, catalog items, reports...) become one row per object:
its id and the whole object as JSON text (``json``), so no schema has to be guessed. pandas,
pyarrow, DuckDB, Polars and Dask read the files without pendo_nb.

Each file is written to a temporary name and renamed into place (:func:`write_parquet`), so a
reader or an interrupted writer never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["TIME_FIELDS", "file_digest", "objects_table", "rows_table", "write_parquet"]

#: Fields holding epoch-ms instants in Pendo's event rows (stored as UTC timestamps).
TIME_FIELDS = frozenset(
    {"hour", "day", "week", "month", "firstTime", "lastTime", "browserTime", "guideTimestamp"}
)
_TIMESTAMP = pa.timestamp("ms", tz="UTC")


def rows_table(
    rows: Sequence[Mapping[str, Any]],
    *,
    drop: Iterable[str] = (),
    whole_rows: bool = False,
) -> pa.Table:
    """Rows (JSON objects) as an Arrow table, one column per top-level field.

    Parameters
    ----------
    rows : list of dict
        The rows, as Pendo's JSON answer holds them.
    drop : iterable of str
        Fields left out (the partition key, which the folder name already holds).
    whole_rows : bool
        Also keep each row as JSON text in a ``json`` column (rows whose fields vary, such as
        guide and poll events, can then be read back exactly).

    Returns
    -------
    pyarrow.Table
    """
    left_out = set(drop)
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name not in left_out:
                names.setdefault(name, None)
    columns = {name: _column(name, [row.get(name) for row in rows]) for name in names}
    if whole_rows:
        columns["json"] = pa.array([orjson.dumps(row).decode() for row in rows], pa.string())
    return pa.table(columns) if columns else pa.table({"json": pa.array([], pa.string())})


def objects_table(objects: Sequence[Mapping[str, Any]], id_field: str) -> pa.Table:
    """One row per object: its ``id_field`` (as text) and the object as JSON text (``json``)."""
    ids = [_text(obj.get(id_field)) for obj in objects]
    texts = [orjson.dumps(obj).decode() for obj in objects]
    return pa.table({id_field: pa.array(ids, pa.string()), "json": pa.array(texts, pa.string())})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else orjson.dumps(value).decode()


def _column(name: str, values: list) -> pa.Array:
    if name in TIME_FIELDS and all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values
    ):
        return pa.array(values, pa.int64()).cast(_TIMESTAMP)
    if any(isinstance(v, (dict, list)) for v in values):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds of values: keep them as JSON
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])


def write_parquet(table: pa.Table, path: Path) -> tuple[int, str]:
    """Write ``table`` to ``path`` atomically (a temporary file renamed into place).

    Returns
    -------
    (int, str)
        The file's size in bytes and its SHA-256 (hex).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as sink:
            pq.write_table(table, sink, compression="zstd")
        size, digest = file_digest(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return size, digest


def file_digest(path: Path) -> tuple[int, str]:
    """A file's size and SHA-256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
