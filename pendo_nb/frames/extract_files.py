"""Rows of Pendo answers as Parquet files any tool reads (the files of a local extract).

Event-source rows become typed columns: text as strings, numbers as numbers, Pendo's epoch-ms
times (``firstTime``, ``lastTime``, ``hour``, ``browserTime``...) as UTC timestamps, nested
objects and lists (``parameters``, ``properties``, ``accountIds``) as JSON text. Objects with
free-form metadata (visitors, accounts, catalog items, reports...) become one row per object:
its id and the whole object as JSON text (``json``), so no schema has to be guessed. pandas,
pyarrow, DuckDB, Polars and Dask read the files without pendo_nb.

Each file is written to a temporary name and renamed into place (:func:`write_parquet`), so a
reader or an interrupted writer never sees half a file. What a file's footer declares (its rows,
its data's size unpacked) is read without its data by :func:`parquet_footer`, so a reader can
compare it with the extract's manifest before reading anything.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pendo_nb.errors import SnapshotError
from pendo_nb.frames.columnar_reader import answer_rows_table, objects_in_lists

__all__ = [
    "TIME_FIELDS",
    "ParquetFooter",
    "StoredFile",
    "answer_table",
    "file_digest",
    "objects_table",
    "parquet_footer",
    "parquet_texts",
    "rows_table",
    "write_parquet",
]

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


def answer_table(content: bytes, *, drop: Iterable[str] = ()) -> pa.Table:
    """The ``results`` rows of an aggregation answer as an Arrow table, as :func:`rows_table`
    makes it, read by pyarrow without making a Python object per value (big event answers).

    Objects become JSON text without their null fields: pyarrow gives every object of a column
    the fields of all of them, so a field missing from one object and a field written as null
    read the same. Rows pyarrow cannot type (objects in lists, a field of mixed kinds) are read
    by :func:`rows_table`.
    """
    table = answer_rows_table(content, "results")
    if table is None or any(objects_in_lists(field.type) for field in table.schema):
        document = orjson.loads(content)
        rows = document.get("results") if isinstance(document, dict) else None
        return rows_table(rows or [], drop=drop)
    left_out = set(drop)
    columns: dict[str, Any] = {}  # name -> Array or ChunkedArray
    for field in table.schema:
        if field.name in left_out:
            continue
        column: Any = table.column(field.name)
        if field.name in TIME_FIELDS and pa.types.is_integer(field.type):
            column = column.cast(pa.int64()).cast(_TIMESTAMP)
        elif pa.types.is_struct(field.type) and field.type.num_fields == 0:
            column = pc.if_else(pc.is_null(column), pa.scalar(None, pa.string()), "{}")
        elif pa.types.is_struct(field.type) or pa.types.is_list(field.type):
            column = pa.array([_json_text(value) for value in column.to_pylist()], pa.string())
        elif pa.types.is_null(field.type):
            column = column.cast(pa.string())
        columns[field.name] = column
    return pa.table(columns)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(_without_nulls(value)).decode()


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def objects_table(objects: Sequence[Mapping[str, Any]], id_field: str) -> pa.Table:
    """One row per object: its ``id_field`` (as text) and the object as JSON text (``json``)."""
    ids = [_text(obj.get(id_field)) for obj in objects]
    texts = [orjson.dumps(obj).decode() for obj in objects]
    return pa.table({id_field: pa.array(ids, pa.string()), "json": pa.array(texts, pa.string())})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else orjson.dumps(value).decode()


def _column(name: str, values: list[Any]) -> pa.Array[Any]:
    if name in TIME_FIELDS and all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values
    ):
        return pa.array(values, pa.int64()).cast(_TIMESTAMP)
    if any(isinstance(v, (dict, list)) for v in values):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])
    try:
        inferred: pa.Array[Any] = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds of values: keep them as JSON
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])
    return inferred


@dataclass(frozen=True)
class StoredFile:
    """A Parquet file as written: its rows, size on disk, SHA-256 (hex) and the size of its data
    unpacked (the sum of its row groups' uncompressed sizes, as its footer declares)."""

    rows: int
    bytes: int
    sha256: str
    uncompressed_bytes: int


@dataclass(frozen=True)
class ParquetFooter:
    """What a Parquet file's footer declares about its data, read without reading the data."""

    rows: int
    uncompressed_bytes: int


def write_parquet(table: pa.Table, path: Path) -> StoredFile:
    """Write ``table`` to ``path`` atomically (a temporary file renamed into place).

    Returns
    -------
    StoredFile
        What the manifest records about the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as sink:
            pq.write_table(table, sink, compression="zstd")
        size, digest = file_digest(Path(temporary))
        footer = parquet_footer(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return StoredFile(table.num_rows, size, digest, footer.uncompressed_bytes)


def parquet_footer(path: Path) -> ParquetFooter:
    """The rows and unpacked data size a Parquet file's footer declares (only the footer is
    read: its size is bounded by the file's).

    Raises
    ------
    SnapshotError
        Not a Parquet file, or a footer whose row groups disagree with its row count.
    """
    try:
        metadata = pq.read_metadata(path)
    except (pa.ArrowException, OSError) as error:
        raise SnapshotError(f"{path.name} is not a readable Parquet file ({error})") from None
    groups = [metadata.row_group(index) for index in range(metadata.num_row_groups)]
    rows = sum(group.num_rows for group in groups)
    if rows != metadata.num_rows:
        raise SnapshotError(
            f"{path.name}: its footer declares {metadata.num_rows:,} rows but its row groups "
            f"{rows:,}: refused (the file was altered or crafted)"
        )
    return ParquetFooter(rows, sum(group.total_byte_size for group in groups))


def parquet_texts(path: Path) -> Iterator[tuple[str, str]]:
    """Every text cell of a Parquet file, one row group at a time: ``(column, text)``.

    Only text columns are read (numbers and times hold no names); missing cells are skipped.
    """
    parquet = pq.ParquetFile(path)
    try:
        names = [
            field.name
            for field in parquet.schema_arrow
            if _is_text(field.type)
            or (pa.types.is_dictionary(field.type) and _is_text(field.type.value_type))
        ]
        if not names:
            return
        for index in range(parquet.num_row_groups):
            group = parquet.read_row_group(index, columns=names)
            for name in names:
                for text in group.column(name).to_pylist():
                    if text is not None:
                        yield name, text
    finally:
        parquet.close()


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def file_digest(path: Path) -> tuple[int, str]:
    """A file's size and SHA-256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
