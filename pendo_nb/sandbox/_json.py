"""The server's JSON writer: orjson, with numbers printed the way Pendo's Go backend prints them.

The engine computes numbers as floats (reference 3.7); Go's encoder prints an integral float64
without a fraction (``5``, not ``5.0``) below 1e21. Identical values always give identical bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

# Go switches to exponent notation at 1e21; orjson cannot write integers beyond 64 bits.
_LARGEST_INTEGRAL = float(2**63)


def _go_numbers(value: Any) -> Any:
    """``value`` with every integral float (within int64) replaced by an int; containers copied."""
    if isinstance(value, float):
        if value.is_integer() and -_LARGEST_INTEGRAL < value < _LARGEST_INTEGRAL:
            return int(value)
        return value
    if isinstance(value, dict):
        return {key: _go_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_go_numbers(item) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """Serialise a JSON-like value (dicts, lists, str, numbers, bools, None; numpy scalars too)."""
    return orjson.dumps(_go_numbers(value), option=orjson.OPT_SERIALIZE_NUMPY)
