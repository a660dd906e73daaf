"""Checks of step arguments that several steps share: objects, field names, whole numbers, and
fields a step may write.

Each raises :class:`AggregationError` naming ``where`` (the step's place in the pipeline).
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import AggregationError
from .paths import split_path
from .timeseries import PERIOD_FIELDS

#: Fields ``eval`` and ``set`` may not write: the period buckets of event rows (reference 3.9).
READ_ONLY_FIELDS = frozenset({*PERIOD_FIELDS.values(), "quarter"})


_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$-]*(?:\.[\w$-]+)*")


def expect_object(arg: Any, where: str, *, allow_empty: bool = False) -> dict[str, Any]:
    if not isinstance(arg, dict) or (not arg and not allow_empty):
        raise AggregationError(f"{where}: expected a non-empty object")
    return arg


def field_name(value: Any, where: str) -> str:
    """A dotted field path (``visitorId``, ``metadata.agent.email``)."""
    if not isinstance(value, str) or not _FIELD_PATH.fullmatch(value):
        raise AggregationError(f"{where}: {value!r} is not a field name")
    return value


def field_names(value: Any, where: str) -> list[str]:
    """A field name or a non-empty list of them."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise AggregationError(f"{where}: expected a field name or a list of field names")
    return [field_name(name, f"{where}[{i}]") for i, name in enumerate(names)]


def whole_number(value: Any, where: str, *, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < minimum
    ):
        raise AggregationError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


def no_unknown_keys(arg: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(arg) - allowed)
    if unknown:
        raise AggregationError(f"{where}: unknown field {unknown[0]!r}")


def writable_field(name: str, where: str) -> str:
    if split_path(name)[0] in READ_ONLY_FIELDS:
        raise AggregationError(f"{where}: field {name!r} is read-only")
    return name
