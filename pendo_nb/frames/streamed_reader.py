"""A JSON answer read as it arrives: its rows array cut into pieces that are read, and their
bytes dropped, while the rest is still arriving, so a big answer is never held whole.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import orjson
import pyarrow as pa

from pendo_nb.frames.columnar_reader import (
    ARROW_REFUSALS,
    flat_rows,
    hand_back_freed_memory,
    merged_rows,
    objects_in_lists,
    read_rows_array,
)
from pendo_nb.frames.json_reader import COLUMNAR_MIN_BYTES, ParsedRows, parse_json
from pendo_nb.frames.json_split import array_closer, array_opener, cut_at

__all__ = ["STREAMED_PIECE_BYTES", "WholeAnswerNeeded", "parse_json_chunks"]

# Pieces of an answer read as it arrives are smaller: their bytes, twice (the buffer, the copy
# being parsed), and the parser's scratch memory are all that is held besides the rows read.
# 2 MiB measured as low a peak as 1 MiB on the frames benchmark, and faster (fewer pieces to
# merge); 4 MiB raised the peak.
STREAMED_PIECE_BYTES = 2 * 1024 * 1024


class WholeAnswerNeeded(Exception):
    """The rows of an answer read as it arrived need the whole answer after all, and the bytes
    already read are gone: the caller asks for the answer again and reads it with
    :func:`~pendo_nb.frames.json_reader.parse_json`. Only rows the columnar reader cannot type
    piece by piece come to this (a field that is a number in some rows and a string in others).
    """


def parse_json_chunks(
    chunks: Iterable[bytes], *, key: str = "results", columnar: bool | None = None
) -> ParsedRows:
    """:func:`~pendo_nb.frames.json_reader.parse_json` of an answer arriving in chunks, holding
    a few pieces of it at a time.

    A compact answer whose rows are the last member (``{"startTime":...,"results":[...]}``, as
    Pendo sends them) is cut into pieces of about :data:`STREAMED_PIECE_BYTES` as the chunks
    arrive, each read (two at a time) and its bytes dropped once it is known to hold whole rows:
    it must parse on its own, wrapped as ``{"<key>":[piece]}``. A piece that does not (a cut in
    a string or a nested object) is extended to the next ``},{`` and read again; after a few
    such tries the rest is read as one piece. An answer of another shape, or smaller than
    :data:`~pendo_nb.frames.json_reader.COLUMNAR_MIN_BYTES` (unless ``columnar``), is
    collected and read by :func:`~pendo_nb.frames.json_reader.parse_json`, as is any answer
    whose pieces fail while none is kept yet.

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
    hand_back_freed_memory()  # the pieces' bytes and the parser's scratch memory
    rows = flat_rows(merged) if merged is not None else None
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
        self.pending: deque[tuple[int, Future[Any]]] = deque()
        self.arrays: list[pa.Array[Any]] = []
        self.failures = 0  # failed cuts since the last piece kept
        self.closer: int | None = None  # the array's "]", once the answer is complete
        # Rows holding objects in lists go to the plain reader (see objects_in_lists): once a
        # piece shows some, no more pieces are cut, and the bytes still held are kept.
        self.plain_rows = False

    @property
    def holds_every_row(self) -> bool:
        """Whether no piece was dropped: ``buffer`` is still the whole rows array and after."""
        return not self.arrays

    def add(self, chunk: bytes) -> None:
        self.buffer += chunk
        self._cut()

    def finish(self) -> pa.ChunkedArray[Any] | None:
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
        return merged_rows(self.arrays) if self.arrays and not self.plain_rows else None

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
        read = self.pool.submit(read_rows_array, (b"", piece, b""), self.key, True)
        self.pending.append((end, read))
        self.start = end + 1
        self.floor = max(self.floor, self.start + STREAMED_PIECE_BYTES)

    def _settle(self) -> None:
        """Wait for the oldest piece: keep its rows and drop its bytes, or extend it."""
        end, future = self.pending.popleft()
        try:
            array = future.result()
        except ARROW_REFUSALS:
            array = None
        if array is not None and objects_in_lists(array.type.value_type):
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
