"""The server's JSON writer: orjson, with numbers printed the way Pendo's Go backend prints them.

The engine computes numbers as floats (reference 3.7); Go's encoder prints an integral float64
without a fraction (``5``, not ``5.0``) below 1e21. Identical values always give identical bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

# Go switches to exponent notation at 1e21; orjson cannot write integers beyond 64 bits.
_LARGEST_INTEGRAL = float(2**63)


def _go_float(value: float) -> float | int:
    if value.is_integer() and -_LARGEST_INTEGRAL < value < _LARGEST_INTEGRAL:
        return int(value)
    return value


# Values that print the same in Go and orjson.
_AS_IS = frozenset({str, int, bool, type(None)})


def _go_numbers(value: Any) -> Any:
    """``value`` with every integral float (within int64) replaced by an int.

    An object is copied only when something in it changes: a large answer's rows rarely hold a
    float, and copying them all cost more than writing them out (mostly in the garbage
    collections their allocations set off).
    """
    kind = type(value)
    if kind is dict:
        out = value
        for key, item in value.items():
            if type(item) in _AS_IS:
                continue
            new = _go_numbers(item)
            if new is not item:
                if out is value:
                    out = dict(value)
                out[key] = new
        return out
    if kind is list or kind is tuple:
        if _AS_IS.issuperset(map(type, value)):  # a grouped list of ids or days
            return value
        return [_go_numbers(item) for item in value]
    if isinstance(value, float):  # numpy float64 and other float subclasses too
        return _go_float(float(value))
    return value


def dumps(value: Any) -> bytes:
    """Serialise a JSON-like value (dicts, lists, str, numbers, bools, None; numpy scalars too)."""
    return orjson.dumps(_go_numbers(value), option=orjson.OPT_SERIALIZE_NUMPY)
