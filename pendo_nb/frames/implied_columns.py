"""What is known of an answer's columns before its rows are read: the names a pipeline's steps
imply (so an empty result keeps its shape), and the types its source, its steps and the metadata
schema give them (which :mod:`pendo_nb.frames.casts` applies).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pendo_nb.frames.field_types import BUCKET_MS_FIELDS, EPOCH_MS_FIELDS, event_source_fields

__all__ = ["columns_implied_by", "field_types_implied_by", "metadata_field_types"]


def metadata_field_types(schema: Mapping[str, Any], *, prefix: str = "metadata.") -> dict[str, str]:
    """Column -> type from a metadata schema (``{group: {field: {"Type": ...}}}``, reference 4.4).

    Fields without a type (``""``) are left out, so their values keep their inferred dtype.
    """
    types: dict[str, str] = {}
    for group, fields in schema.items():
        if not isinstance(fields, Mapping):
            continue
        for name, definition in fields.items():
            kind = definition.get("Type") if isinstance(definition, Mapping) else None
            if kind:
                types[f"{prefix}{group}.{name}"] = str(kind).lower()
    return types


def columns_implied_by(
    steps: Sequence[Mapping[str, Any]], *, source_columns: Sequence[str] = ()
) -> list[str]:
    """The columns a pipeline's rows will have, when its steps say so (else ``[]``).

    ``select``, ``group``, ``reduce`` and ``count`` fix the columns; ``eval`` and ``set`` add to
    them; ``filter``, ``sort``, ``limit``, ``skip`` and ``cat`` keep them; any other step makes
    them unknown again. ``source_columns``, when given, are the columns of the source's rows
    (otherwise unknown).
    """
    known: list[str] | None = None
    for step in steps:
        if isinstance(step, Mapping) and "source" in step:  # timeSeries may sit beside it
            known = list(source_columns) or None
            continue
        if not isinstance(step, Mapping) or len(step) != 1:
            return []
        ((name, spec),) = step.items()
        if name == "select" and isinstance(spec, Mapping):
            known = list(spec)
        elif name == "group" and isinstance(spec, Mapping):
            known = list(spec.get("group") or []) + _aggregator_names(spec.get("fields"))
        elif name == "reduce":
            known = _aggregator_names(spec)
        elif name == "count":
            known = ["count"]
        elif name in ("eval", "set") and isinstance(spec, Mapping) and known is not None:
            known += [k for k in spec if k not in known]
        elif name in ("filter", "sort", "limit", "skip", "cat", "identified", "segment"):
            continue
        else:
            known = None
    return known or []


# A field path an expression may name on its own (a copy of the field, not a computation).
_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:\.[\w$]+)*")
# Calls whose value is a time in epoch ms (reference 3.7), so the column they write is a datetime:
# startOfPeriod gives a period's start (a bucket), now and date instants, and dateAdd moves its
# first argument, keeping its kind when it is a field of known kind.
_TIME_CALL = re.compile(
    r"\s*(?P<function>startOfPeriod|dateAdd|now|date)\s*\("
    r"(?:\s*(?P<moved>[A-Za-z_$][\w$]*(?:\.[\w$]+)*)\s*,)?"
)
_TIME_KINDS = frozenset({"time", "epoch", "bucket"})
# Aggregators whose result is one of the values they saw, so it keeps the field's type.
_VALUE_KEEPING_AGGREGATORS = frozenset({"min", "max", "first"})


def field_types_implied_by(
    steps: Sequence[Mapping[str, Any]], field_types: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``field_types`` plus the types of the columns the source and the steps make.

    The period bucket of a grouped event source (``day`` for ``dayRange``) is ``"bucket"``.
    A ``select``/``eval`` of a bare field (``lastVisit: "metadata.auto.lastvisit"``) and a
    ``group``/``reduce`` field of ``min``, ``max`` or ``first`` of one keep that field's type:
    its schema type in ``field_types``, else ``"epoch"`` (an instant) or ``"bucket"`` by its name
    (:data:`~pendo_nb.frames.field_types.EPOCH_MS_FIELDS`,
    :data:`~pendo_nb.frames.field_types.BUCKET_MS_FIELDS`), so the renamed column is a datetime as
    the original would be. An expression that is a call of a function returning a time
    (reference 3.7) is typed whatever the column is named: ``startOfPeriod(...)`` is a
    ``"bucket"``, ``now()`` and ``date(...)`` are ``"epoch"``, and ``dateAdd(field, ...)`` keeps
    the kind of its field (``"epoch"`` when that is unknown).
    """
    base = dict(field_types or {})
    derived = {name: kind for name, kind in event_source_fields(steps).items() if kind == "bucket"}

    def type_of(expression: Any) -> str | None:
        call = _TIME_CALL.match(expression) if isinstance(expression, str) else None
        if call is not None:  # Pendo returns epoch ms
            if call["function"] == "startOfPeriod":
                return "bucket"
            moved = type_of(call["moved"]) if call["function"] == "dateAdd" else None
            return moved if moved in _TIME_KINDS else "epoch"
        if not isinstance(expression, str) or not _FIELD_PATH.fullmatch(expression.strip()):
            return None
        path = expression.strip()
        if path in derived or path in base:
            return derived.get(path) or base.get(path)
        name = path.rpartition(".")[2]
        if name in BUCKET_MS_FIELDS:
            return "bucket"
        return "epoch" if name in EPOCH_MS_FIELDS else None

    def aggregated(spec: Any) -> dict[str, str]:
        items = spec.items() if isinstance(spec, Mapping) else []
        if isinstance(spec, list):
            items = [pair for item in spec if isinstance(item, Mapping) for pair in item.items()]
        kinds = {}
        for name, aggregator in items:
            if isinstance(aggregator, Mapping) and len(aggregator) == 1:
                ((function, argument),) = aggregator.items()
                kind = type_of(argument) if function in _VALUE_KEEPING_AGGREGATORS else None
                if kind:
                    kinds[name] = kind
        return kinds

    for step in steps:
        if not isinstance(step, Mapping) or len(step) != 1:
            continue
        ((name, spec),) = step.items()
        if name == "select" and isinstance(spec, Mapping):
            derived = {out: kind for out, expr in spec.items() if (kind := type_of(expr))}
        elif name == "eval" and isinstance(spec, Mapping):
            kinds = {out: type_of(expr) for out, expr in spec.items()}  # all read before writing
            for out, kind in kinds.items():
                if kind:
                    derived[out] = kind
                else:
                    derived.pop(out, None)  # a computed value: its type is unknown
        elif name == "group" and isinstance(spec, Mapping):
            keys = [k for k in spec.get("group") or [] if isinstance(k, str)]
            derived = {k: kind for k in keys if (kind := type_of(k))}
            derived.update(aggregated(spec.get("fields")))
        elif name == "reduce":
            derived = aggregated(spec)
    return {**base, **derived}


def _aggregator_names(spec: Any) -> list[str]:
    if isinstance(spec, Mapping):
        return list(spec)
    if isinstance(spec, list):
        return [name for item in spec if isinstance(item, Mapping) for name in item]
    return []
