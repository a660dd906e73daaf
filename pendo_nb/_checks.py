"""Checks of arguments shared by several public functions, refused before any request, and the
"did you mean" their messages (and the builder's) offer."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from pendo_nb.errors import ValidationError


def positive_int(value: Any, name: str) -> int:
    """``value`` if it is a whole number >= 1 (``True`` is not), else a ``ValidationError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r}")
    return value


def did_you_mean(
    name: str, known: Iterable[str], shown: Callable[[str], str] = lambda match: match
) -> str:
    """`` Did you mean 'x' or 'y'?`` for the close matches of ``name`` among ``known`` (or ``""``).

    Case is ignored when matching (``visitorID`` finds ``visitorId``); ``shown`` writes a match
    as the message names it (a field's whole path, say).
    """
    by_lower: dict[str, str] = {}
    for candidate in sorted(known):
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(shown(by_lower[match])) for match in matches) + "?"
