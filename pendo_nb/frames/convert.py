"""JSON rows -> pandas DataFrames: flattening, dtypes, provenance. Never HTTP.

Conventions (the same whichever reader built the frame):

* nested objects become dotted columns (``metadata.agent.email``); lists stay Python lists;
* columns appear in first-seen order, children right after their parent's first appearance;
* dtypes as :mod:`pendo_nb.frames.dtypes` says: nullable ``Int64``, ``Float64``, ``boolean``,
  text as pandas' ``str``; mixed values stay ``object``;
* epoch-millisecond instants (:data:`EPOCH_MS_FIELDS`, ``time`` fields of the metadata schema)
  become timezone-aware datetimes; period buckets (:data:`BUCKET_MS_FIELDS`, ``startOfPeriod``
  results) become zone-less datetimes of their calendar start (:func:`times.bucket_starts`);
* metadata fields are cast to their schema type; a value that does not fit becomes NA, is listed
  in ``df.attrs["uncast_values"]`` and announced with a :class:`CastWarning`;
* an empty result keeps the columns the request implies;
* ``df.attrs`` holds provenance (request id, url, host, region, fetched_at, from_cache, ...).

Large JSON answers are read by pyarrow's columnar JSON reader, which never builds a Python object
per value; small ones (or ones pyarrow cannot type, such as a field that is a number in one row and
a string in another) go through a plain Python reader.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import io
import math
import re
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from pendo_nb.frames import times
from pendo_nb.frames.dtypes import TEXT_DTYPE, TIME_UNIT
from pendo_nb.frames.field_types import BUCKET_FIELDS, event_source_fields
from pendo_nb.frames.json_split import (
    array_closer,
    array_opener,
    cut_at,
    proposed_pieces,
    row_pieces,
)

__all__ = [
    "BUCKET_MS_FIELDS",
    "answer_rows_table",
    "EPOCH_MS_FIELDS",
    "CastWarning",
    "columns_implied_by",
    "csv_to_frame",
    "field_types_implied_by",
    "json_to_frame",
    "metadata_field_types",
    "parse_json",
    "parse_json_chunks",
    "rows_to_frame",
    "WholeAnswerNeeded",
    "ParsedRows",
]

#: Field names (the last part of a dotted column) that hold instants in epoch milliseconds.
EPOCH_MS_FIELDS = frozenset(
    {
        "firstvisit", "lastvisit", "lastupdated",
        "browserTime", "guideTimestamp", "ts", "lastTs", "time", "startTime",
        "createdAt", "lastUpdatedAt", "firstTime", "lastTime", "lastRunAt", "lastSuccessRunAt",
        "firstSeenAt", "lastSeenAt", "lastAdvancedAutoAt", "lastDismissedAutoAt",
        "lastNotSeenAt", "lastTimeoutAt", "publishedAt", "resetAt",
    }
)  # fmt: skip

#: Field names of period buckets: the start of a period, in epoch ms (reference 3.8).
BUCKET_MS_FIELDS = frozenset({*BUCKET_FIELDS.values(), "quarter"})

# Epoch-ms fields whose values are all below this (3 March 1973) are left as numbers: a user's
# own `eval` may call a month number "month".
_PLAUSIBLE_EPOCH_MS = 1e11

# Answers at least this big go through the columnar reader.
COLUMNAR_MIN_BYTES = 256 * 1024
# Big answers are read in pieces of whole rows of about this size: bounded scratch memory.
PIECE_BYTES = 4 * 1024 * 1024
# Pieces of an answer read as it arrives are smaller: their bytes, twice (the buffer, the copy
# being parsed), and the parser's scratch memory are all that is held besides the rows read.
# 2 MiB measured as low a peak as 1 MiB on the frames benchmark, and faster (fewer pieces to
# merge); 4 MiB raised the peak.
STREAMED_PIECE_BYTES = 2 * 1024 * 1024

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


def _hand_back_freed_memory() -> None:
    """Return freed memory to the OS: malloc's (glibc only), and that of pyarrow's default pool,
    which pandas and pyarrow's compute functions use (casts, dictionaries)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    pa.default_memory_pool().release_unused()


class CastWarning(UserWarning):
    """Some values did not fit their field's schema type (see ``df.attrs['uncast_values']``)."""


# -- entry points ----------------------------------------------------------------------------


def rows_to_frame(
    rows: Sequence[Mapping[str, Any]],
    *,
    tz: str = "UTC",
    columns: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from JSON rows already parsed into Python objects.

    Parameters
    ----------
    rows : sequence of dict
        One JSON object per row.
    tz : str
        Time zone of the datetime columns.
    columns : iterable of str
        Columns the result must have even when no row holds them (e.g. the names a ``select``
        step produces), so an empty result keeps its shape.
    field_types : mapping, optional
        Column -> Pendo type (``string``, ``boolean``, ``integer``, ``float``, ``number``,
        ``time``), usually from :func:`metadata_field_types`; ``epoch`` converts the column as
        an epoch-millisecond instant is converted, ``bucket`` as a period bucket (see
        :func:`field_types_implied_by`).
    attrs : mapping, optional
        Provenance copied into ``df.attrs``.
    """
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(
                f"row {index} is a {type(row).__name__}, not a JSON object: {row!r:.80}"
            )
    flat_rows, order = _flatten_rows(rows)
    data = {name: _infer_array([r.get(name) for r in flat_rows]) for name in order}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(flat_rows)))
    return _finish(frame, tz=tz, columns=columns, field_types=field_types, attrs=attrs)


class ParsedRows:
    """Rows read from a JSON answer but not yet a DataFrame (see :func:`parse_json`).

    Holding this instead of the answer's bytes lets a caller free the bytes before the frame is
    built, so a big answer is never in memory three times (bytes, parsed rows, frame).
    """

    def __init__(self, *, table: pa.Table | None = None, rows: list | None = None) -> None:
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

        Parameters as for :func:`rows_to_frame`.
        """
        table, self._table = self._table, None
        if table is None:
            rows, self._rows = self._rows or [], None
            return rows_to_frame(rows, tz=tz, columns=columns, field_types=field_types, attrs=attrs)
        arrays = dict(zip(table.column_names, table.columns, strict=True))
        del table  # each column is freed once converted
        typing = _Typing(field_types, tz)
        frame = _table_to_pandas(arrays, typing)
        return _finish(
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
    table = _columnar_table(content, key) if use_columnar else None
    if table is not None:
        return ParsedRows(table=table)
    return ParsedRows(rows=_rows_of(orjson.loads(content), key))


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


class WholeAnswerNeeded(Exception):
    """The rows of an answer read as it arrived need the whole answer after all, and the bytes
    already read are gone: the caller asks for the answer again and reads it with
    :func:`parse_json`. Only rows the columnar reader cannot type piece by piece come to this
    (a field that is a number in some rows and a string in others)."""


def parse_json_chunks(
    chunks: Iterable[bytes], *, key: str = "results", columnar: bool | None = None
) -> ParsedRows:
    """:func:`parse_json` of an answer arriving in chunks, holding a few pieces of it at a time.

    A compact answer whose rows are the last member (``{"startTime":...,"results":[...]}``, as
    Pendo sends them) is cut into pieces of about :data:`STREAMED_PIECE_BYTES` as the chunks
    arrive, each read (two at a time) and its bytes dropped once it is known to hold whole rows:
    it must parse on its own, wrapped as ``{"<key>":[piece]}``. A piece that does not (a cut in
    a string or a nested object) is extended to the next ``},{`` and read again; after a few
    such tries the rest is read as one piece. An answer of another shape, or smaller than
    :data:`COLUMNAR_MIN_BYTES` (unless ``columnar``), is collected and read by
    :func:`parse_json`, as is any answer whose pieces fail while none is kept yet.

    Raises
    ------
    WholeAnswerNeeded
        When pieces already dropped would be needed (rows pyarrow cannot type).
    """
    if columnar is False:
        return parse_json(b"".join(chunks), key=key, columnar=False)
    threshold = 0 if columnar else COLUMNAR_MIN_BYTES
    arriving = iter(chunks)
    head = bytearray()
    opener = None
    for chunk in arriving:
        head += chunk
        if len(head) >= threshold and (opener := array_opener(head, key)) is not None:
            break
    if opener is None:  # small, or not the shape: read whole
        head.extend(b"".join(arriving))
        return parse_json(bytes(head), key=key, columnar=columnar)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pieces = _PieceStream(key, pool, head[opener + 1 :])
        for chunk in arriving:
            pieces.add(chunk)
        merged = pieces.finish()
    if merged is None and pieces.holds_every_row:
        # Rows seen to hold objects in lists need the plain reader: no second columnar try.
        whole_columnar = False if pieces.plain_rows else columnar
        return parse_json(
            bytes(head[: opener + 1] + pieces.buffer), key=key, columnar=whole_columnar
        )
    del pieces
    _hand_back_freed_memory()  # the pieces' bytes and the parser's scratch memory
    rows = _flat_rows(merged) if merged is not None else None
    if rows is None:
        raise WholeAnswerNeeded(f"the {key!r} rows could not be read piece by piece")
    return ParsedRows(table=rows)


# Failed cuts in a row (each extended to the next "},{") before the rest is read as one piece:
# rows holding many lists of objects would otherwise be read again for each of their "},{".
_EXTENSIONS = 4


class _PieceStream:
    """The rows array of an answer arriving in chunks, cut into pieces read in ``pool``.

    ``buffer`` holds the bytes from the start of the oldest piece not yet read (the rows array
    from just after its ``[``, until the first piece is kept). Pieces are proposed at a ``},{``
    at or after ``floor``; ``pending`` holds the pieces being read (where each ends in
    ``buffer``: its comma, or the array's ``]``), oldest first, at most two.
    """

    def __init__(self, key: str, pool: ThreadPoolExecutor, start: bytearray) -> None:
        self.key = key
        self.prefix = b"{" + orjson.dumps(key) + b":["
        self.pool = pool
        self.buffer = start
        self.start = 0  # where the next piece starts
        self.floor = STREAMED_PIECE_BYTES
        self.pending: deque[tuple[int, Future]] = deque()
        self.arrays: list[pa.Array] = []
        self.failures = 0  # failed cuts since the last piece kept
        self.closer: int | None = None  # the array's "]", once the answer is complete
        # Rows holding objects in lists go to the plain reader (see _objects_in_lists): once a
        # piece shows some, no more pieces are cut, and the bytes still held are kept.
        self.plain_rows = False

    @property
    def holds_every_row(self) -> bool:
        """Whether no piece was dropped: ``buffer`` is still the whole rows array and after."""
        return not self.arrays

    def add(self, chunk: bytes) -> None:
        self.buffer += chunk
        self._cut()

    def finish(self) -> pa.ChunkedArray | None:
        """The rows of every piece as one column; None when the answer is not the expected
        shape, a piece that cannot be extended fails, or the pieces type a field incompatibly."""
        self.closer = array_closer(self.buffer, self.key)
        if self.closer is None or self.plain_rows:
            return None
        try:
            while self.start < self.closer or self.pending:
                self._cut()
                if self.start < self.closer:
                    self._read(self.closer)  # the last piece
                while self.pending:
                    self._settle()
        except _Unreadable:
            return None
        return _merged(self.arrays) if self.arrays and not self.plain_rows else None

    def _cut(self) -> None:
        """Propose every piece the bytes so far allow (before the array's "]" once it is
        known), leaving at most one pending."""
        if self.plain_rows:
            return
        while True:
            while len(self.pending) >= 2:  # bounds the bytes held to about three pieces
                self._settle()  # which drops bytes: `end` is measured after it
            end = len(self.buffer) if self.closer is None else self.closer
            cut = cut_at(self.buffer, self.floor, end)
            if cut < 0:
                break
            self._read(cut)
        self.floor = max(self.floor, end - 2)  # a "},{" may straddle the next chunk

    def _read(self, end: int) -> None:
        """Read the piece from ``start`` to ``end`` (its comma, or the array's "]")."""
        piece = b"".join((self.prefix, memoryview(self.buffer)[self.start : end], b"]}"))
        read = self.pool.submit(_read_rows_array, (b"", piece, b""), self.key, True)
        self.pending.append((end, read))
        self.start = end + 1
        self.floor = max(self.floor, self.start + STREAMED_PIECE_BYTES)

    def _settle(self) -> None:
        """Wait for the oldest piece: keep its rows and drop its bytes, or extend it."""
        end, future = self.pending.popleft()
        try:
            array = future.result()
        except _ARROW_REFUSALS:
            array = None
        if array is not None and _objects_in_lists(array.type.value_type):
            self.plain_rows = True
            self._drop_pending()
            return
        if array is not None:
            self.arrays.append(array)
            self.failures = 0
            drop = end + 1
            del self.buffer[:drop]
            self.start -= drop
            self.floor -= drop
            if self.closer is not None:
                self.closer -= drop
            self.pending = deque((later - drop, read) for later, read in self.pending)
            return
        # A cut inside a row: the pieces after it were cut from the wrong place too.
        self._drop_pending()
        if end == self.closer:
            raise _Unreadable  # the piece already reaches the end of the rows
        self.failures += 1
        self.start = 0
        # The next "},{" after the failed cut; after a few failures, the end of the rows.
        self.floor = end + 1 if self.failures <= _EXTENSIONS else sys.maxsize

    def _drop_pending(self) -> None:
        for _, read in self.pending:
            read.cancel()
        wait([read for _, read in self.pending])
        self.pending.clear()


class _Unreadable(Exception):
    """A piece reaching the end of the rows does not parse."""


def csv_to_frame(
    text: str,
    *,
    tz: str = "UTC",
    columns: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from CSV text with the dtypes the JSON reader would give the same values.

    Cells are typed column by column: all ``true``/``false`` -> boolean, all integers -> Int64,
    all numbers -> Float64, else string; an empty cell is missing. ``titles`` maps header titles
    back to field names (Pendo's CSV may use display titles); ``columns``, ``field_types`` and
    ``attrs`` are as for :func:`rows_to_frame`. Empty text (no header) is an empty result.
    """
    if not text.strip():
        raw = pd.DataFrame()
    else:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.rename(columns=dict(titles or {}))
    data = {name: _infer_array([_csv_value(v) for v in raw[name].tolist()]) for name in raw.columns}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw)))
    return _finish(frame, tz=tz, columns=columns, field_types=field_types, attrs=attrs)


def metadata_field_types(schema: Mapping[str, Any], *, prefix: str = "metadata.") -> dict[str, str]:
    """Column -> type from a metadata schema (``{group: {field: {"Type": ...}}}``, reference 4.4).

    Fields without a type (``""``) are left out, so their values keep their inferred dtype.
    """
    types: dict[str, str] = {}
    for group, fields in schema.items():
        if not isinstance(fields, Mapping):
            continue
        for name, definition in fields.items():
            kind = definition.get("Type") if isinstance(definition, Mapping) else None
            if kind:
                types[f"{prefix}{group}.{name}"] = str(kind).lower()
    return types


def columns_implied_by(
    steps: Sequence[Mapping[str, Any]], *, source_columns: Sequence[str] = ()
) -> list[str]:
    """The columns a pipeline's rows will have, when its steps say so (else ``[]``).

    ``select``, ``group``, ``reduce`` and ``count`` fix the columns; ``eval`` and ``set`` add to
    them; ``filter``, ``sort``, ``limit``, ``skip`` and ``cat`` keep them; any other step makes
    them unknown again. ``source_columns``, when given, are the columns of the source's rows
    (otherwise unknown).
    """
    known: list[str] | None = None
    for step in steps:
        if isinstance(step, Mapping) and "source" in step:  # timeSeries may sit beside it
            known = list(source_columns) or None
            continue
        if not isinstance(step, Mapping) or len(step) != 1:
            return []
        ((name, spec),) = step.items()
        if name == "select" and isinstance(spec, Mapping):
            known = list(spec)
        elif name == "group" and isinstance(spec, Mapping):
            known = list(spec.get("group") or []) + _aggregator_names(spec.get("fields"))
        elif name == "reduce":
            known = _aggregator_names(spec)
        elif name == "count":
            known = ["count"]
        elif name in ("eval", "set") and isinstance(spec, Mapping) and known is not None:
            known += [k for k in spec if k not in known]
        elif name in ("filter", "sort", "limit", "skip", "cat", "identified", "segment"):
            continue
        else:
            known = None
    return known or []


# A field path an expression may name on its own (a copy of the field, not a computation).
_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:\.[\w$]+)*")
# Calls whose value is a time in epoch ms (reference 3.7), so the column they write is a datetime:
# startOfPeriod gives a period's start (a bucket), now and date instants, and dateAdd moves its
# first argument, keeping its kind when it is a field of known kind.
_TIME_CALL = re.compile(
    r"\s*(?P<function>startOfPeriod|dateAdd|now|date)\s*\("
    r"(?:\s*(?P<moved>[A-Za-z_$][\w$]*(?:\.[\w$]+)*)\s*,)?"
)
_TIME_KINDS = frozenset({"time", "epoch", "bucket"})
# Aggregators whose result is one of the values they saw, so it keeps the field's type.
_VALUE_KEEPING_AGGREGATORS = frozenset({"min", "max", "first"})


def field_types_implied_by(
    steps: Sequence[Mapping[str, Any]], field_types: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``field_types`` plus the types of the columns the source and the steps make.

    The period bucket of a grouped event source (``day`` for ``dayRange``) is ``"bucket"``.
    A ``select``/``eval`` of a bare field (``lastVisit: "metadata.auto.lastvisit"``) and a
    ``group``/``reduce`` field of ``min``, ``max`` or ``first`` of one keep that field's type:
    its schema type in ``field_types``, else ``"epoch"`` (an instant) or ``"bucket"`` by its name
    (:data:`EPOCH_MS_FIELDS`, :data:`BUCKET_MS_FIELDS`), so the renamed column is a datetime as
    the original would be. An expression that is a call of a function returning a time
    (reference 3.7) is typed whatever the column is named: ``startOfPeriod(...)`` is a
    ``"bucket"``, ``now()`` and ``date(...)`` are ``"epoch"``, and ``dateAdd(field, ...)`` keeps
    the kind of its field (``"epoch"`` when that is unknown).
    """
    base = dict(field_types or {})
    derived = {name: kind for name, kind in event_source_fields(steps).items() if kind == "bucket"}

    def type_of(expression: Any) -> str | None:
        call = _TIME_CALL.match(expression) if isinstance(expression, str) else None
        if call is not None:  # Pendo returns epoch ms
            if call["function"] == "startOfPeriod":
                return "bucket"
            moved = type_of(call["moved"]) if call["function"] == "dateAdd" else None
            return moved if moved in _TIME_KINDS else "epoch"
        if not isinstance(expression, str) or not _FIELD_PATH.fullmatch(expression.strip()):
            return None
        path = expression.strip()
        if path in derived or path in base:
            return derived.get(path) or base.get(path)
        name = path.rpartition(".")[2]
        if name in BUCKET_MS_FIELDS:
            return "bucket"
        return "epoch" if name in EPOCH_MS_FIELDS else None

    def aggregated(spec: Any) -> dict[str, str]:
        items = spec.items() if isinstance(spec, Mapping) else []
        if isinstance(spec, list):
            items = [pair for item in spec if isinstance(item, Mapping) for pair in item.items()]
        kinds = {}
        for name, aggregator in items:
            if isinstance(aggregator, Mapping) and len(aggregator) == 1:
                ((function, argument),) = aggregator.items()
                kind = type_of(argument) if function in _VALUE_KEEPING_AGGREGATORS else None
                if kind:
                    kinds[name] = kind
        return kinds

    for step in steps:
        if not isinstance(step, Mapping) or len(step) != 1:
            continue
        ((name, spec),) = step.items()
        if name == "select" and isinstance(spec, Mapping):
            derived = {out: kind for out, expr in spec.items() if (kind := type_of(expr))}
        elif name == "eval" and isinstance(spec, Mapping):
            kinds = {out: type_of(expr) for out, expr in spec.items()}  # all read before writing
            for out, kind in kinds.items():
                if kind:
                    derived[out] = kind
                else:
                    derived.pop(out, None)  # a computed value: its type is unknown
        elif name == "group" and isinstance(spec, Mapping):
            keys = [k for k in spec.get("group") or [] if isinstance(k, str)]
            derived = {k: kind for k in keys if (kind := type_of(k))}
            derived.update(aggregated(spec.get("fields")))
        elif name == "reduce":
            derived = aggregated(spec)
    return {**base, **derived}


# -- readers ---------------------------------------------------------------------------------


def _rows_of(document: Any, key: str | None) -> list:
    rows = document.get(key) if key is not None and isinstance(document, Mapping) else document
    if rows is None:
        return []  # Pendo has been seen to send "results": null for an empty result
    if not isinstance(rows, list):
        where = f"'{key}'" if key else "the answer"
        raise TypeError(f"expected a JSON array of rows in {where}, got {type(rows).__name__}")
    return rows


def _columnar_table(content: bytes, key: str | None) -> pa.Table | None:
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


def _flat_rows(merged: pa.ChunkedArray) -> pa.Table | None:
    """The rows of a list-of-objects column as a flat table (dotted column names); None when
    the column is not such a list (``"results": null`` or ``[]``, an array of numbers...)."""
    return _flat(_struct_rows(merged))


def _struct_rows(merged: pa.ChunkedArray) -> pa.Table | None:
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
    if any(_objects_in_lists(field.type) for field in rows.schema):
        return None
    return rows


def _objects_in_lists(kind: pa.DataType, in_list: bool = False) -> bool:
    """Whether a column holds objects inside lists. pyarrow gives every object of a list the
    keys of all of them (``[{}, {"a": 1}]`` reads as ``[{"a": None}, {"a": 1}]``), so such
    rows go to the plain reader, which keeps each object as it was written."""
    if pa.types.is_struct(kind):
        return in_list or any(_objects_in_lists(field.type, in_list) for field in kind)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _objects_in_lists(kind.value_type, True)
    return False


def _wrapped(view: memoryview, spans: list[tuple[int, int]], member: str) -> list[tuple]:
    """Each span of rows as the record ``{"<member>":[rows]}``, in three parts joined later."""
    prefix = b"{" + orjson.dumps(member) + b":["
    return [(prefix, view[start:end], b"]}") for start, end in spans]


def _read_pieces(pieces: list[tuple], member: str, *, alone: bool = True) -> pa.ChunkedArray | None:
    """The ``member`` arrays of the pieces, unified into one column; None if one does not parse.

    ``alone``: each piece must be a record holding nothing but ``member`` (a proposed cut that
    swallowed a later member of the answer shows as a second column).
    """
    try:
        # pyarrow releases the GIL while parsing: two pieces at a time use two cores, and keep
        # the scratch memory to two pieces.
        with ThreadPoolExecutor(max_workers=2) as pool:
            read = list(pool.map(lambda parts: _read_rows_array(parts, member, alone), pieces))
    except _ARROW_REFUSALS:
        return None  # not JSON text, a bad cut...: the caller tries otherwise
    arrays = [array for array in read if array is not None]
    return _merged(arrays) if len(arrays) == len(read) else None


# What pyarrow raises for text it cannot read as typed rows.
_ARROW_REFUSALS = (
    pa.ArrowInvalid,
    pa.ArrowNotImplementedError,
    pa.ArrowTypeError,
    pa.ArrowIndexError,  # seen merging lists of objects typed differently by two pieces
)


def _merged(arrays: list[pa.Array]) -> pa.ChunkedArray | None:
    """The rows arrays of the pieces as one column; None when they type a field incompatibly."""
    try:
        # Pieces may type a field differently (null vs int, int vs double, fields missing):
        # unify as the one-piece reader would; incompatible types raise and fall back.
        return pa.concat_tables(
            [pa.table({"r": array}) for array in arrays], promote_options="permissive"
        ).column("r")
    except _ARROW_REFUSALS:
        return None


def _read_rows_array(parts: tuple, key: str, alone: bool) -> pa.Array | None:
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


def _table_to_pandas(
    columns: dict[str, pa.ChunkedArray], typing: Callable[[str, pd.Series], pd.Series]
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
        _hand_back_freed_memory()
    return pd.DataFrame({name: data.pop(name) for name in order}, index=index, copy=False)


def _python_lists(chunks: list[pa.Array], kind: pa.DataType) -> np.ndarray:
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
    _hand_back_freed_memory()  # the column and the encoder's hash table, before the lists
    # Queues, each chunk's parts dropped once its lists are made. pyarrow-stubs do not know
    # dictionary_encode gives DictionaryArrays.
    coded: deque[pa.DictionaryArray] = deque(encoded.chunks)  # type: ignore[arg-type]
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


def _flatten_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[str]]:
    """Flatten each row to dotted keys, and the column order (first seen, grouped by parent)."""
    tree: dict[str, dict] = {}  # key -> subtree, in first-seen order
    leaves: set[str] = set()
    valued: set[str] = set()  # leaves that hold a value other than null somewhere
    flat_rows = []
    for row in rows:
        flat: dict[str, Any] = {}
        _flatten_into(row, "", flat, tree, leaves, valued)
        flat_rows.append(flat)
    order: list[str] = []
    _walk(tree, "", leaves, valued, order)
    return flat_rows, order


def _flatten_into(
    obj: Mapping, prefix: str, out: dict, tree: dict, leaves: set, valued: set
) -> None:
    for key, value in obj.items():
        name = prefix + key
        subtree = tree.get(key)
        if subtree is None:
            subtree = tree[key] = {}
        if isinstance(value, Mapping):
            _flatten_into(value, name + ".", out, subtree, leaves, valued)
        else:
            out[name] = value
            leaves.add(name)
            if value is not None:
                valued.add(name)


def _walk(tree: dict, prefix: str, leaves: set, valued: set, order: list) -> None:
    for key, subtree in tree.items():
        name = prefix + key
        # An object that is null in some rows is only its children's columns, as the columnar
        # reader gives it (a null struct): no extra all-null column of the parent's name.
        if name in leaves and (name in valued or not subtree):
            order.append(name)
        _walk(subtree, name + ".", leaves, valued, order)


def _infer_array(values: list) -> Any:
    """One column's values -> the nullable array the columnar reader would give them."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pd.array(values, dtype=object)
    if kinds == {bool}:
        return pd.array(values, dtype="boolean")
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values if v is not None):
        return pd.array(values, dtype="Int64")
    if kinds <= {int, float}:
        return pd.array(values, dtype="Float64")
    if kinds == {str}:
        return pd.array(values, dtype=TEXT_DTYPE)
    return pd.array(values, dtype=object)


_CSV_INT = re.compile(r"[-+]?\d+")


def _csv_value(cell: Any) -> Any:
    """A CSV cell as the JSON value it most likely was."""
    if not isinstance(cell, str):
        return None  # NaN from an empty cell
    lowered = cell.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _CSV_INT.fullmatch(cell):
        return int(cell)
    try:
        number = float(cell)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell


def _aggregator_names(spec: Any) -> list[str]:
    if isinstance(spec, Mapping):
        return list(spec)
    if isinstance(spec, list):
        return [name for item in spec if isinstance(item, Mapping) for name in item]
    return []


# -- typing and finishing ----------------------------------------------------------------------


class _Typing:
    """Gives columns their final types: their schema type (``field_types``), or datetimes for
    epoch-ms and bucket fields named so; notes the values that did not fit, by column."""

    def __init__(self, field_types: Mapping[str, str] | None, tz: str) -> None:
        self.kinds = dict(field_types or {})
        self.tz = tz
        self.done: set[str] = set()
        self.uncast: dict[str, dict[int, Any]] = {}

    def __call__(self, name: str, series: pd.Series) -> pd.Series:
        """``series``, the column ``name``, with its final type."""
        self.done.add(name)
        kind = self.kinds.get(name)
        if kind:
            series, failures = _cast(series, kind, self.tz)
            if failures:
                self.uncast[name] = failures
        elif (leaf := name.rpartition(".")[2]) in EPOCH_MS_FIELDS or leaf in BUCKET_MS_FIELDS:
            series = _epoch_to_datetime(series, self.tz, bucket=leaf in BUCKET_MS_FIELDS)
        return series


def _finish(
    frame: pd.DataFrame,
    *,
    tz: str,
    columns: Iterable[str],
    field_types: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    typing: _Typing | None = None,
) -> pd.DataFrame:
    """Add the implied columns, type the columns ``typing`` has not typed yet, set ``attrs``."""
    typing = typing or _Typing(field_types, tz)
    implied = list(dict.fromkeys(columns))
    for name in implied:
        if name not in frame.columns:
            frame[name] = pd.array([None] * len(frame), dtype=object)
    if implied:  # the request's own order first (a select's order), then whatever else came
        frame = frame[implied + [name for name in frame.columns if name not in set(implied)]]
    for name in frame.columns:
        if name not in typing.done:
            frame[name] = typing(name, frame[name])
    frame.attrs.update(attrs or {})
    uncast = {name: typing.uncast[name] for name in frame.columns if name in typing.uncast}
    if uncast:
        frame.attrs["uncast_values"] = uncast
        summary = ", ".join(f"{name} ({len(bad)})" for name, bad in uncast.items())
        warnings.warn(
            f"values that do not fit their schema type became NA: {summary}; "
            "the originals are in df.attrs['uncast_values']",
            CastWarning,
            stacklevel=3,
        )
    return frame


def _epoch_to_datetime(series: pd.Series, tz: str, *, bucket: bool = False) -> pd.Series:
    """Numbers that look like epoch ms -> datetimes (instants, or the calendar starts of
    buckets); anything else is left alone."""
    if not (pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series)):
        return series
    # Boolean masks, not copies of the numbers: a big column's conversion is its peak memory.
    if not series.notna().any():
        return series
    if ((series > -_PLAUSIBLE_EPOCH_MS) & (series < _PLAUSIBLE_EPOCH_MS)).any():
        return series
    return _ms_to_datetime(series, tz, bucket=bucket)


# Rows converted to datetimes at a time: pandas' conversion makes several arrays the size of its
# input, which for a whole big column would add megabytes to the peak memory of a frame.
_TIME_BLOCK = 1 << 16


def _ms_to_datetime(series: pd.Series, tz: str, *, bucket: bool = False) -> pd.Series:
    millis = series.to_numpy(dtype="float64", na_value=np.nan)
    convert = times.bucket_starts if bucket else times.instants
    if len(millis) <= _TIME_BLOCK:
        return pd.Series(convert(millis, tz), index=series.index, name=series.name)
    blocks = [convert(millis[i : i + _TIME_BLOCK], tz) for i in range(0, len(millis), _TIME_BLOCK)]
    del millis
    return pd.Series(blocks[0].append(blocks[1:]), index=series.index, name=series.name)


def _cast(series: pd.Series, kind: str, tz: str) -> tuple[pd.Series, dict[int, Any]]:
    """Cast to a schema type; values that do not fit become NA and are returned by row."""
    dtype = series.dtype
    if kind == "string" and dtype == TEXT_DTYPE:
        return series, {}
    if kind == "boolean" and isinstance(dtype, pd.BooleanDtype):
        return series, {}
    if kind in ("integer", "number") and isinstance(dtype, pd.Int64Dtype):
        return series, {}  # "number" keeps whole numbers whole
    if kind in ("float", "number") and isinstance(dtype, (pd.Int64Dtype, pd.Float64Dtype)):
        return series.astype("Float64"), {}
    if kind == "time" and isinstance(dtype, (pd.Int64Dtype, pd.Float64Dtype)):
        return _ms_to_datetime(series, tz), {}
    if kind == "bucket" and series.isna().all():  # no row shows it: still a bucket column
        return _ms_to_datetime(series, tz, bucket=True), {}
    if kind in ("epoch", "bucket"):  # named like such a field: converted as such a field is
        return _epoch_to_datetime(series, tz, bucket=kind == "bucket"), {}
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return series, {}  # a type this library does not know: keep what the values say
    # The converter's values by kind: datetimes, text, booleans or numbers (None where missing).
    converted: list[Any] = []
    failures: dict[int, Any] = {}
    for position, value in enumerate(series.tolist()):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            converted.append(None)
            continue
        try:
            converted.append(converter(value))
        except (TypeError, ValueError, OverflowError):
            converted.append(None)
            failures[series.index[position]] = value
    if kind == "time":
        # The unit and whole milliseconds of epoch-ms columns (an empty list would give seconds).
        stamps = pd.to_datetime(converted, utc=True).as_unit(TIME_UNIT).round("ms")
        return pd.Series(stamps.tz_convert(tz), index=series.index, name=series.name), failures
    target = {"string": TEXT_DTYPE, "boolean": "boolean", "integer": "Int64"}.get(kind, "Float64")
    return pd.Series(
        # pandas-stubs accept only literal dtype names; `target` is one of four dtypes.
        pd.array(converted, dtype=target),  # type: ignore[call-overload]
        index=series.index,
        name=series.name,
    ), failures


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(value)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(value)


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        value = float(value) if not _CSV_INT.fullmatch(value.strip()) else int(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _to_time(value: Any) -> pd.Timestamp:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, (int, float)):
        return pd.Timestamp(value, unit="ms", tz="UTC")
    if isinstance(value, str):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    raise TypeError(value)


_CONVERTERS = {
    "string": _to_string,
    "boolean": _to_boolean,
    "integer": _to_integer,
    "float": _to_float,
    "number": _to_float,
    "time": _to_time,
}
