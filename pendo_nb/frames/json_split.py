"""Split a big JSON array of rows into pieces, between rows, without parsing it.

pyarrow's JSON reader needs a whole record per block; an aggregation answer is one record
(``{"startTime": ..., "results": [...]}``), so reading it in one go needs scratch memory on the
order of the answer itself. Cutting the ``results`` array into pieces of whole rows lets each
piece be read on its own, with scratch memory bounded by the piece size.

The scan is vectorised with numpy over fixed-size windows of the bytes: it finds the quotes that
open or close strings (skipping escaped ones), and from them the brackets and commas that are
structure rather than text. UTF-8 continuation bytes are never ASCII, so bytes can be matched
directly. Anything unexpected returns ``None`` and the caller reads the answer whole.

That scan reads every byte in numpy passes, which cost as much as Arrow's whole parse. Compact
answers (Pendo's and the sandbox's) are first cut by :func:`proposed_pieces` instead, at a
``},{`` near each piece size, found with ``bytes.find`` without reading the text. Such a cut may
fall inside a string or a nested object, so those pieces are only proposals: the caller parses
each on its own, which refuses any bad cut, and comes back to :func:`row_pieces` if one fails.
"""

from __future__ import annotations

import numpy as np
import orjson

_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_OPENERS, _CLOSERS = (ord("{"), ord("[")), (ord("}"), ord("]"))
# What each byte does to the nesting depth; commas are marked apart (they are row separators).
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(_OPENERS)], _STEP[list(_CLOSERS)], _STEP[_COMMA] = 1, -1, 2
_WINDOW = 1 << 22  # bytes per numpy pass: bounds the scan's own scratch memory


def row_pieces(content: bytes, key: str | None, piece_bytes: int) -> list[tuple[int, int]] | None:
    """Byte spans ``[start, end)`` that together hold every row of the array, in order.

    The array is the value of the top-level member ``key`` of an object, or (``key=None``) the
    whole document. Each span holds whole rows separated by commas, about ``piece_bytes`` long.
    Returns ``None`` when the layout is not the expected one.
    """
    depth = 1 if key is None else 2  # the depth just inside the array
    opener = None
    closer = None
    separators: list[np.ndarray] = []  # commas between rows, inside the array
    quotes_before = 0  # parity of the string quotes seen so far
    depth_before = 0
    for offset in range(0, len(content), _WINDOW):
        window = np.frombuffer(content, np.uint8, min(_WINDOW, len(content) - offset), offset)
        # in_string[i]: byte i is inside a string (or is its closing quote), from the parity of
        # the string quotes up to it
        in_string = np.bitwise_xor.accumulate(_string_quotes(content, window, offset))
        in_string ^= quotes_before & 1
        steps = _STEP[window]
        marks = np.flatnonzero(steps)
        marks = marks[in_string[marks] == 0]
        chars = window[marks]
        depths = depth_before + np.cumsum(
            np.where(steps[marks] == 2, 0, steps[marks]), dtype=np.int64
        )
        positions = marks + offset
        if opener is None:
            opener = _find_opener(content, key, positions, chars, depths, depth)
        if opener is not None and closer is None:
            after = positions > opener
            ends = np.flatnonzero(after & (chars == ord("]")) & (depths == depth - 1))
            if ends.size:
                closer = int(positions[ends[0]])
                after &= positions < closer
            separators.append(positions[after & (chars == _COMMA) & (depths == depth)])
        quotes_before = int(in_string[-1])
        depth_before = int(depths[-1]) if depths.size else depth_before
    if opener is None or closer is None or quotes_before % 2 or depth_before != 0:
        return None
    commas = np.concatenate(separators) if separators else np.empty(0, np.int64)
    targets = np.arange(opener + piece_bytes, closer, piece_bytes)
    if commas.size:
        commas = np.unique(commas[np.minimum(np.searchsorted(commas, targets), commas.size - 1)])
    bounds = [opener, *commas.tolist(), closer]
    return [(start + 1, end) for start, end in zip(bounds, bounds[1:], strict=False)]


def proposed_pieces(
    content: bytes, key: str | None, piece_bytes: int
) -> list[tuple[int, int]] | None:
    """Spans like :func:`row_pieces` gives, cut at a ``},{`` after every ``piece_bytes``.

    Nothing checks that a cut is between rows: a piece cut inside a string or a nested object
    is not valid JSON once wrapped as ``{"<key>":[piece]}``, and the first bad cut always leaves
    such a piece (it starts between rows, so it opens what the cut leaves open). The caller
    parses every piece that way and uses them only if all parse. ``None`` when the array's ends
    are not where a compact answer has them, or text without ``},{`` leaves a piece too long.
    """
    bounds = _array_ends(content, key)
    if bounds is None:
        return None
    opener, closer = bounds
    cuts = [opener]
    while cuts[-1] + piece_bytes < closer:
        found = cut_at(content, cuts[-1] + piece_bytes, closer)
        if found < 0:
            break
        cuts.append(found)  # the comma: spans start after it, as after the opener
    cuts.append(closer)
    spans = [(start + 1, end) for start, end in zip(cuts, cuts[1:], strict=False)]
    if any(end - start > 2 * piece_bytes for start, end in spans):
        return None  # pretty-printed or one huge row: the exact scan bounds the pieces
    return spans


def cut_at(content: bytes | bytearray, start: int, end: int) -> int:
    """The comma of the first ``},{`` in ``content[start:end]``, where a compact array of rows
    may be cut (a proposal: the comma may be inside a row); -1 when there is none."""
    found = content.find(b"},{", start, end)
    return found + 1 if found >= 0 else -1


def array_opener(content: bytes | bytearray, key: str) -> int | None:
    """The ``[`` opening the array that is the top-level member ``key`` of the object that
    ``content`` starts (or starts with: the rest may not have arrived yet).

    ``None`` when the first ``"<key>"`` in the text is not followed by ``:[`` there, or is not
    a member of the top-level object (it is text, or a nested member).
    """
    quoted = orjson.dumps(key)
    name = content.find(quoted)
    if name < 0:
        return None
    colon = _skip_space(content, name + len(quoted), 1)
    opener = _skip_space(content, colon + 1, 1)
    if content[colon : colon + 1] != b":" or content[opener : opener + 1] != b"[":
        return None
    try:  # the name is a member of the top-level object, not text or a nested member
        head = orjson.loads(content[:name] + b'"":0}')
    except orjson.JSONDecodeError:
        return None
    return opener if isinstance(head, dict) else None


def array_closer(content: bytes | bytearray, key: str | None) -> int | None:
    """The ``]`` closing the rows array, when the text ends with it: the document is the array
    (``key=None``), or the array is the last member of the top-level object. Only the few bytes
    at the end are looked at."""
    last = _skip_space(content, len(content) - 1, -1)
    if key is None:
        return last if content[last : last + 1] == b"]" else None
    closer = _skip_space(content, last - 1, -1)
    if content[last : last + 1] != b"}" or content[closer : closer + 1] != b"]":
        return None
    return closer


def _array_ends(content: bytes, key: str | None) -> tuple[int, int] | None:
    """``[`` and ``]`` of the rows array: the document itself, or its member ``key`` when that
    is the last member of the top-level object (as in Pendo's ``{"startTime":..,"results":[..]}``).

    Only the few bytes at either end are looked at: stripping or slicing the answer would copy it.
    """
    closer = array_closer(content, key)
    if closer is None:
        return None
    if key is None:
        first = _skip_space(content, 0, 1)
        return (first, closer) if content[first : first + 1] == b"[" else None
    opener = array_opener(content, key)
    return (opener, closer) if opener is not None and opener < closer else None


def _skip_space(content: bytes | bytearray, position: int, step: int) -> int:
    """The first position from ``position`` on, going by ``step``, that is not JSON whitespace."""
    while 0 <= position < len(content) and content[position] in b" \t\r\n":
        position += step
    return position


def _string_quotes(content: bytes, window: np.ndarray, offset: int) -> np.ndarray:
    """1 where the window holds a quote that opens or closes a string, else 0 (uint8)."""
    quotes: np.ndarray = (window == _QUOTE).view(np.uint8)
    after_backslash = np.flatnonzero(quotes[1:] & (window[:-1] == _BACKSLASH)) + 1
    if quotes[0] and offset and content[offset - 1] == _BACKSLASH:
        after_backslash = np.concatenate(([0], after_backslash))
    for index in after_backslash:  # rare: only these need a closer look
        if _escaped(content, offset + int(index)):
            quotes[index] = 0
    return quotes


def _escaped(content: bytes, position: int) -> bool:
    """A quote is escaped when an odd number of backslashes precede it."""
    run = 0
    while position - run - 1 >= 0 and content[position - run - 1] == _BACKSLASH:
        run += 1
    return run % 2 == 1


def _find_opener(
    content: bytes,
    key: str | None,
    positions: np.ndarray,
    chars: np.ndarray,
    depths: np.ndarray,
    depth: int,
) -> int | None:
    """Where the array opens: the document's first ``[``, or the ``[`` after ``"key":``."""
    candidates = np.flatnonzero((chars == ord("[")) & (depths == depth))
    for index in candidates:
        position = int(positions[index])
        if key is None:
            return position if not content[:position].strip() else None
        head = content[max(0, position - len(key) - 16) : position].rstrip()
        if head.endswith(b":") and head[:-1].rstrip().endswith(f'"{key}"'.encode()):
            return position
    return None
