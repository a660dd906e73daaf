"""Small checks shared by the builder modules: JSON values, names, integers, canonical bytes."""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping

import orjson

from pendo_nb.errors import PipelineError

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def json_value(value: object, where: str) -> JSON:
    """Return a deep copy of ``value`` as plain JSON (tuples become lists).

    Copying on the way in (and again on the way out, in ``to_json``) is what keeps a pipeline
    immutable even though it holds dicts and lists.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PipelineError(f"{where}: {value!r} cannot be sent as JSON")
        return value
    if isinstance(value, list | tuple):
        return [json_value(item, where) for item in value]
    if isinstance(value, Mapping):
        copied = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PipelineError(f"{where}: object keys must be strings, got {key!r}")
            copied[key] = json_value(item, where)
        return copied
    raise PipelineError(f"{where}: {type(value).__name__} value {value!r} is not JSON")


def canonical_bytes(value: JSON) -> bytes:
    """Serialise with sorted keys, so equal bodies give equal bytes (and share cache entries)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def output_name(value: object, where: str) -> str:
    """An output field name: any non-empty string (Pendo allows dots and spaces in them)."""
    if not isinstance(value, str) or not value:
        raise PipelineError(f"{where}: output field names must be non-empty strings, got {value!r}")
    return value


def integer(value: object, where: str, *, minimum: int | None = None) -> int:
    """An ``int`` (not a bool), at least ``minimum`` when given."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON readers may hand us 10.0
    if not isinstance(value, int) or isinstance(value, bool):
        raise PipelineError(f"{where}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise PipelineError(f"{where}: must be at least {minimum}, got {value}")
    return value


def single_key(value: object, where: str) -> tuple[str, object]:
    """The one ``(key, value)`` of a one-key object such as ``{"sum": "numEvents"}``."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise PipelineError(f"{where}: expected an object with exactly one key, got {value!r}")
    ((key, item),) = value.items()
    return key, item


def python_name(name: str) -> bool:
    """True when ``name`` can be written as a Python keyword argument."""
    return name.isidentifier() and not keyword.iskeyword(name)


def snake_case(name: str) -> str:
    """``pageEvents`` -> ``page_events`` (Pendo's names as Python names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel_case(name: str) -> str:
    """``page_events`` -> ``pageEvents``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
