"""Checks of arguments shared by several public functions, refused before any request."""

from __future__ import annotations

from typing import Any

from pendo_nb.errors import ValidationError


def positive_int(value: Any, name: str) -> int:
    """``value`` if it is a whole number >= 1 (``True`` is not), else a ``ValidationError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r}")
    return value
