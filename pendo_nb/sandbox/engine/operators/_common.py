"""What several operators share: reading a value as ``filter`` does, and charging the values a step
writes to the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..run_state import RunState
from ..values import NUMBER_TYPES

# What eval/select/group/reduce charge to the run (RunState.store): lists, objects and long
# strings are what a request can make grow without bound, one row at a time. The hot loops skip
# the call for numbers, the commonest values.
_CONTAINER_TYPES = frozenset({list, dict})


_LONG_STRING = 64


def charge(value: Any, state: RunState, where: str) -> None:
    kind = type(value)
    if kind in _CONTAINER_TYPES or (kind is str and len(value) >= _LONG_STRING):
        state.store(value, where)


def as_condition(predicate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate read as ``filter`` reads it: true, or a number other than zero, holds."""

    def holds(row: dict[str, Any]) -> bool:
        value = predicate(row)
        return value is True or (type(value) in NUMBER_TYPES and value != 0)

    return holds
