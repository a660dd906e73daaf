"""The columnar reader: a big JSON answer -> a flat pyarrow table -> a DataFrame, through
pyarrow's JSON reader, which never builds a Python object per value.

The rows array is read in pieces of whole rows (cut by :mod:`pendo_nb.frames.json_split`), two at
a time, and the pieces' arrays merged as the one-piece reader would type them. Rows pyarrow
cannot type (a field that is a number in one row and a string in another), and rows holding
objects inside lists, are left to the plain reader (:mod:`pendo_nb.frames.plain_reader`). The
table becomes a DataFrame a column at a time, each freed once converted.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.frames.json_split import proposed_pieces, row_pieces

__all__ = [
    "ARROW_REFUSALS",
    "PIECE_BYTES",
    "answer_rows_table",
    "columnar_table",
    "flat_rows",
    "hand_back_freed_memory",
    "merged_rows",
    "objects_in_lists",
    "read_rows_array",
    "table_to_pandas",
]

# Big answers are read in pieces of whole rows of about this size: bounded scratch memory.
PIECE_BYTES = 4 * 1024 * 1024

_ARROW_TO_PANDAS = {
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): TEXT_DTYPE,
    pa.large_string(): TEXT_DTYPE,
}


# The system allocator hands big freed blocks back to the OS at once; pyarrow's default pool
# keeps them, so the JSON parser's scratch memory would stay resident after each read.
_POOL = pa.system_memory_pool()
# glibc's malloc keeps smaller freed blocks (and big ones, once its mmap threshold has grown)
# for reuse, but Python objects come from pymalloc's own arenas and never reuse them: the
# parser's pieces and the table's columns would stay resident under the frame built from them.
# malloc_trim hands them back (pyarrow's release_unused does not, here); other C libraries
# (musl, macOS, Windows) have no such call, and nothing is done there.
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None) if sys.platform == "linux" else None
_MALLOC_TRIM = getattr(_LIBC, "malloc_trim", None)


def hand_back_freed_memory() -> None:
    """Return freed memory to the OS: malloc's (glibc only), and that of pyarrow's default pool,
    which pandas and pyarrow's compute functions use (casts, dictionaries)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    pa.default_memory_pool().release_unused()


def columnar_table(content: bytes, key: str | None) -> pa.Table | None:
    """The rows as a flat pyarrow table (dotted column names), or None when pyarrow cannot type
    them (a field that is a number in one row and a string in another, pretty-printed text...).
    """
    return _flat(answer_rows_table(content, key))


def answer_rows_table(content: bytes, key: str | None) -> pa.Table | None:
    """The rows of a JSON answer (the array, or the array under ``key``) as a pyarrow table read
    by pyarrow, one column per top-level field (objects as struct columns); None when pyarrow
    cannot type them or the answer holds no array of objects."""
    view = memoryview(content)
    member = key or "r"
    big = len(content) > PIECE_BYTES
    # Cheap cuts first. A piece that does not parse means a cut fell inside a row (or pyarrow
    # cannot type the rows): the exact scan cuts again, and if those pieces fail too, the plain
    # reader takes over.
    spans = proposed_pieces(content, key, PIECE_BYTES) if big else None
    merged = _read_pieces(_wrapped(view, spans, member), member) if spans else None
    if merged is None:
        spans = row_pieces(content, key, PIECE_BYTES) if big else None
        if spans is not None:
            merged = _read_pieces(_wrapped(view, spans, member), member)
        else:  # one piece: the array, or the object holding it under `key`
            whole = [(b'{"r":', view, b"}")] if key is None else [(b"", view, b"")]
            merged = _read_pieces(whole, member, alone=False)
    return _struct_rows(merged) if merged is not None else None


def flat_rows(merged: pa.ChunkedArray[Any]) -> pa.Table | None:
    """The rows of a list-of-objects column as a flat table (dotted column names); None when
    the column is not such a list (``"results": null`` or ``[]``, an array of numbers...)."""
    return _flat(_struct_rows(merged))


def _struct_rows(merged: pa.ChunkedArray[Any]) -> pa.Table | None:
    """The rows of a list-of-objects column, one column per top-level field; None when the
    column is not such a list."""
    item = merged.type.value_type if pa.types.is_list(merged.type) else None
    if item is None or not pa.types.is_struct(item):
        return None
    # pyarrow-stubs type a column's chunks as plain Arrays (a list column's are ListArrays, with
    # flatten()) and chunked_array's type argument too narrowly.
    flat = [c.flatten() for c in merged.chunks]  # type: ignore[attr-defined]
    return pa.Table.from_struct_array(pa.chunked_array(flat, item))  # type: ignore[call-overload]


def _flat(rows: pa.Table | None) -> pa.Table | None:
    """Struct columns flattened into dotted ones; None for rows holding objects in lists."""
    if rows is None:
        return None
    while any(pa.types.is_struct(field.type) for field in rows.schema):
        # One level per pass; children are named "parent.child", and an object that was always
        # empty leaves no column (as with the plain reader).
        rows = rows.flatten()
    if any(objects_in_lists(field.type) for field in rows.schema):
        return None
    return rows


def objects_in_lists(kind: pa.DataType, in_list: bool = False) -> bool:
    """Whether a column holds objects inside lists. pyarrow gives every object of a list the
    keys of all of them (``[{}, {"a": 1}]`` reads as ``[{"a": None}, {"a": 1}]``), so such
    rows go to the plain reader, which keeps each object as it was written."""
    if pa.types.is_struct(kind):
        return in_list or any(objects_in_lists(field.type, in_list) for field in kind)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return objects_in_lists(kind.value_type, True)
    return False


def _wrapped(view: memoryview, spans: list[tuple[int, int]], member: str) -> list[tuple[Any, ...]]:
    """Each span of rows as the record ``{"<member>":[rows]}``, in three parts joined later."""
    prefix = b"{" + orjson.dumps(member) + b":["
    return [(prefix, view[start:end], b"]}") for start, end in spans]


def _read_pieces(
    pieces: list[tuple[Any, ...]], member: str, *, alone: bool = True
) -> pa.ChunkedArray[Any] | None:
    """The ``member`` arrays of the pieces, unified into one column; None if one does not parse.

    ``alone``: each piece must be a record holding nothing but ``member`` (a proposed cut that
    swallowed a later member of the answer shows as a second column).
    """
    try:
        # pyarrow releases the GIL while parsing: two pieces at a time use two cores, and keep
        # the scratch memory to two pieces.
        with ThreadPoolExecutor(max_workers=2) as pool:
            read = list(pool.map(lambda parts: read_rows_array(parts, member, alone), pieces))
    except ARROW_REFUSALS:
        return None  # not JSON text, a bad cut...: the caller tries otherwise
    arrays = [array for array in read if array is not None]
    return merged_rows(arrays) if len(arrays) == len(read) else None


# What pyarrow raises for text it cannot read as typed rows.
ARROW_REFUSALS = (
    pa.ArrowInvalid,
    pa.ArrowNotImplementedError,
    pa.ArrowTypeError,
    pa.ArrowIndexError,  # seen merging lists of objects typed differently by two pieces
)


def merged_rows(arrays: list[pa.Array[Any]]) -> pa.ChunkedArray[Any] | None:
    """The rows arrays of the pieces as one column; None when they type a field incompatibly."""
    try:
        # Pieces may type a field differently (null vs int, int vs double, fields missing):
        # unify as the one-piece reader would; incompatible types raise and fall back.
        return pa.concat_tables(
            [pa.table({"r": array}) for array in arrays], promote_options="permissive"
        ).column("r")
    except ARROW_REFUSALS:
        return None


def read_rows_array(parts: tuple[Any, ...], key: str, alone: bool) -> pa.Array[Any] | None:
    """Read one JSON record (``prefix + body + suffix``) and return its ``key`` member."""
    prefix, body, suffix = parts
    text = b"".join((prefix, body, suffix)) if prefix or suffix else body
    options = pa_json.ReadOptions(block_size=len(text) + 1, use_threads=False)
    # A BufferReader lets pyarrow parse the bytes in place; values may hold escaped newlines
    # only, but pretty-printed text has raw ones between tokens.
    parse = pa_json.ParseOptions(newlines_in_values=True)
    table = pa_json.read_json(
        pa.BufferReader(pa.py_buffer(text)),  # type: ignore[arg-type]  # pyarrow-stubs: files only
        read_options=options,
        parse_options=parse,
        memory_pool=_POOL,
    )
    if table.num_rows != 1 or key not in table.column_names:
        return None
    if alone and table.column_names != [key]:
        return None
    chunks = table.column(key).chunks
    return chunks[0] if len(chunks) == 1 else None


def table_to_pandas(
    columns: dict[str, pa.ChunkedArray[Any]], typing: Callable[[str, pd.Series], pd.Series]
) -> pd.DataFrame:
    """The columns of a table (emptied as they are converted) as a DataFrame, each column given
    its final type by ``typing`` as soon as it is converted.

    One column at a time, each Arrow column freed once converted and the freed memory handed
    back to the system, so the whole table and the whole frame are never in memory together.
    List columns, whose Python lists are the biggest part of a frame, come last: the other
    columns' conversions (datetimes make several temporary arrays) happen before they exist.
    Text columns keep their Arrow data (pandas' ``str`` is Arrow-backed).
    """
    order = list(columns)
    rows = len(columns[order[0]]) if order else 0
    index = pd.RangeIndex(rows)
    lists = [name for name in order if pa.types.is_list(columns[name].type)]
    lists += [name for name in order if pa.types.is_large_list(columns[name].type)]
    data = {}
    for name in [name for name in order if name not in lists] + lists:
        # Each column is popped into what converts it: no reference outlives the conversion.
        if pa.types.is_null(columns[name].type):
            del columns[name]
            series = pd.Series(pd.array([None] * rows, dtype=object), index=index)
        elif name in lists:  # Python lists, as the plain reader gives
            kind = columns[name].type
            series = pd.Series(_python_lists(columns.pop(name).chunks, kind), index=index)
        else:
            series = columns.pop(name).to_pandas(
                types_mapper=_ARROW_TO_PANDAS.get, memory_pool=_POOL
            )
        data[name] = typing(name, series.rename(name))
        hand_back_freed_memory()
    return pd.DataFrame({name: data.pop(name) for name in order}, index=index, copy=False)


def _python_lists(chunks: list[pa.Array[Any]], kind: pa.DataType) -> np.ndarray:
    """The values of a list column's ``chunks`` (of type ``kind``) as an object array of Python
    lists; ``chunks`` is emptied as they are read, so the Arrow column is freed before the lists
    are made.

    Lists of text share one ``str`` per distinct value: ``to_pylist`` makes one per item, and
    ids repeated across rows (a visitor's accounts) would cost their size once per row.
    """
    item = kind.value_type  # type: ignore[attr-defined]  # a list type
    if not (pa.types.is_string(item) or pa.types.is_large_string(item)):
        column = pa.chunked_array(chunks, kind)  # type: ignore[call-overload]
        chunks.clear()
        with _collector_paused():
            values = column.to_pylist()
        del column
        return np.fromiter(values, dtype=object, count=len(values))
    rows = sum(len(chunk) for chunk in chunks)
    chunks[:] = [chunk for chunk in chunks if len(chunk)]
    firsts = [int(chunk.offsets[0].as_py()) for chunk in chunks]  # type: ignore[attr-defined]
    values = [
        chunk.values.slice(first, int(chunk.offsets[-1].as_py()) - first)  # type: ignore[attr-defined]
        for chunk, first in zip(chunks, firsts, strict=True)
    ]
    bounds = [
        chunk.offsets.to_numpy() - first  # type: ignore[attr-defined]
        for chunk, first in zip(chunks, firsts, strict=True)
    ]
    valids = [chunk.is_valid().to_pylist() if chunk.null_count else None for chunk in chunks]
    chunks.clear()
    # One dictionary for every chunk: the same text in two pieces is one str too. The encoded
    # chunks are those holding values (an empty one is left out).
    encoded = pa.chunked_array(values, item).dictionary_encode()
    del values
    hand_back_freed_memory()  # the column and the encoder's hash table, before the lists
    # Queues, each chunk's parts dropped once its lists are made. pyarrow-stubs do not know
    # dictionary_encode gives DictionaryArrays.
    coded: deque[pa.DictionaryArray[Any, Any]] = deque(encoded.chunks)  # type: ignore[arg-type]
    del encoded
    texts = coded[0].dictionary.to_pylist() if coded else []
    distinct: np.ndarray = np.empty(len(texts) + 1, dtype=object)  # None last, for nulls
    distinct[: len(texts)] = texts
    lists: np.ndarray = np.empty(rows, dtype=object)
    spans_of, valids_of = deque(bounds), deque(valids)
    del bounds, valids
    with _collector_paused():
        row = 0
        while spans_of:
            offsets, valid = spans_of.popleft(), valids_of.popleft()
            indices = coded.popleft().indices if offsets[-1] else pa.array([], pa.int32())
            codes = (indices.fill_null(len(texts)) if indices.null_count else indices).to_numpy()
            for start in range(0, len(offsets) - 1, _LIST_BLOCK):  # a block at a time
                ends = offsets[start : start + _LIST_BLOCK + 1]
                items = distinct[codes[ends[0] : ends[-1]]].tolist()
                # Bounds read through a memoryview: its ints are made one at a time, not all at
                # once (a list of them would leave holes among the lists in pymalloc's arenas).
                local = (ends - ends[0]).data
                spans = zip(local, local[1:], strict=False)
                if valid is None:
                    block = [items[a:b] for a, b in spans]
                else:
                    oks = valid[start : start + _LIST_BLOCK]
                    block = [
                        items[a:b] if ok else None for (a, b), ok in zip(spans, oks, strict=True)
                    ]
                # An array, not a list: a list of lists would be made into a 2-d array.
                lists[row : row + len(block)] = np.fromiter(block, dtype=object, count=len(block))
                row += len(block)
    return lists


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many lists are made: each collection of
    the young objects would go over them again (lists of texts hold no cycles to collect). This
    makes a 200k-row list column three times faster. A collector the caller turned off stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Rows of a list column made into Python lists at a time.
_LIST_BLOCK = 1 << 14
