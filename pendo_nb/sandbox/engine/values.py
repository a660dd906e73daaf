"""What the engine's values are: JSON-like Python objects, with Pendo's typing rules.

Numbers are ``int`` or ``float`` (and numpy scalars, should a source emit them); ``bool`` is never
a number even though Python says so. Equality follows reference 3.7: numbers compare by value,
null equals only null, booleans only booleans, lists element by element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMBER_TYPES = frozenset(
    {
        int,
        float,
        np.int64,
        np.int32,
        np.int16,
        np.int8,
        np.uint32,
        np.uint16,
        np.uint8,
        np.float64,
        np.float32,
    }
)
"""Exact types treated as numbers (checked with ``type(v) in NUMBER_TYPES``, which is fast)."""


def is_number(value: Any) -> bool:
    """True for ints and floats, false for booleans."""
    return type(value) in NUMBER_TYPES


def describe_type(value: Any) -> str:
    """A short type name for error messages (``"null"``, ``"string"``, ``"number"`` ...)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if type(value) in NUMBER_TYPES:
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def values_equal(a: Any, b: Any) -> bool:
    """Pendo's ``==``: numbers by value, booleans only equal booleans, lists element-wise."""
    type_a, type_b = type(a), type(b)
    if type_a in NUMBER_TYPES:
        return type_b in NUMBER_TYPES and a == b
    if type_a is not type_b:
        return False
    if type_a is list:
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    equal: bool = a == b
    return equal


def hashable(value: Any) -> Any:
    """A hashable stand-in for a value (lists and objects become tuples), for distinct counts.

    Numbers are keyed by their float value so ``1`` and ``1.0`` count once; booleans keep their
    own key so ``true`` and ``1`` count twice.
    """
    kind = type(value)
    if kind in NUMBER_TYPES:
        return float(value)
    if kind is bool:
        return ("bool", value)
    if kind is list:
        return ("list", tuple(hashable(item) for item in value))
    if kind is dict:
        return ("object", tuple(sorted((key, hashable(item)) for key, item in value.items())))
    return value
