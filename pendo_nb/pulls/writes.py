"""Bulk metadata updates: checked before anything is sent, written chunk by chunk, or dry-run.

:func:`write_values` does the work of :func:`pendo_nb.update_values` (which documents it):

1. rows (a DataFrame or records) become ``(id, {field: value})`` with missing values dropped;
2. field names and value types are checked against the subscription's metadata schema, and
   times become epoch ms, so a typo fails before the first request;
3. a dry run reads the current values with an aggregation and says what would change; a real
   write first checks that the key may write (:func:`can_write`, ``GET /token/verify``), then
   sends ``chunk_size`` objects per request and reports an outcome per object.
"""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb._checks import positive_int
from pendo_nb.errors import (
    AuthenticationError,
    NotFoundError,
    PendoAPIError,
    PendoConnectionError,
    ValidationError,
    WriteAccessError,
)
from pendo_nb.frames.plain_reader import rows_to_frame
from pendo_nb.http.connection import PendoConnection, checked_kind
from pendo_nb.pulls.paging import expression_literal

__all__ = ["OUTCOMES", "can_write", "write_values"]

#: Outcomes in update_values results.
OUTCOMES = ("updated", "missing", "failed", "unchanged", "would-change", "would-create")
#: Ids per dry-run lookup aggregation (keeps the filter expression short).
_LOOKUP_BATCH = 200
# One object to write: its id and {field: value}.
_Record = tuple[str, dict[str, Any]]


def write_values(
    client: PendoConnection,
    kind: str,
    rows: Any,
    *,
    group: str = "custom",
    create: bool = False,
    dry_run: bool = False,
    chunk_size: int = 500,
    id_column: str | None = None,
) -> pd.DataFrame:
    """The outcome frame of :func:`pendo_nb.update_values`, written with ``client``."""
    kind = checked_kind(kind)
    positive_int(chunk_size, "chunk_size")
    id_key = f"{kind}Id"
    records = _records(rows, kind, group, id_column)
    field_types = _validated(records, client.metadata_schema(kind), kind, group)
    chunks = [records[i : i + chunk_size] for i in range(0, len(records), chunk_size)]
    attrs = {"host": client.host, "region": client.region, "kind": kind, "group": group}
    if dry_run:
        result = _dry_run(client, kind, group, chunks, field_types, create)
        types = {f"{side}.{f}": t for f, t in field_types.items() for side in ("old", "new")}
        return rows_to_frame(
            result,
            tz=client.tz,
            columns=(id_key, "chunk", "outcome", "changed_fields", "error"),
            field_types=types,
            attrs={**attrs, "dry_run": True},
        )
    _check_write_access(client)
    outcomes: list[dict[str, Any]] = []
    for number, chunk in enumerate(chunks):
        to_send = [(oid, values) for oid, values in chunk if values]
        outcomes += [
            {id_key: oid, "chunk": number, "outcome": "unchanged", "error": None}
            for oid, values in chunk
            if not values
        ]
        if to_send:
            outcomes += _write_chunk(client, kind, group, number, to_send, create)
    failed = sum(o["outcome"] == "failed" for o in outcomes)
    if failed:
        warnings.warn(
            f"{failed} of {len(outcomes)} objects failed; see the 'error' column", stacklevel=3
        )
    return rows_to_frame(
        outcomes,
        tz=client.tz,
        columns=(id_key, "chunk", "outcome", "error"),
        attrs={**attrs, "dry_run": False},
    )


# -- write access -------------------------------------------------------------------------


def can_write(client: PendoConnection) -> bool:
    """Whether ``client``'s key may write; see :func:`pendo_nb.can_write`.

    A client replaying a snapshot never writes.
    """
    return client.replaying is None and _write_refusal(client) is None


def _write_refusal(client: PendoConnection) -> AuthenticationError | None:
    """None when the key may write; otherwise ``GET /token/verify``'s refusal.

    Pendo answers that probe with 403 "Key is invalid" both for a read-only key and for an
    unknown one (reference 1.3; the sandbox too), so a refusal is followed by a read with the
    same key: a key that can read is valid and merely read-only, while a key that cannot read
    raises the read's ``AuthenticationError``. The read is the visitor metadata schema, which the
    client fetches once and keeps.
    """
    try:
        client.verify_key()
    except AuthenticationError as refusal:
        client.metadata_schema("visitor")  # raises AuthenticationError for an unknown key
        return refusal
    return None


def _check_write_access(client: PendoConnection) -> None:
    """Fail before any write when the key cannot write (or the client replays a snapshot)."""
    client.refuse_writes_if_replaying("update_values()")
    try:
        refusal = _write_refusal(client)
    except NotFoundError:
        return  # a server without the probe: the write itself will say so
    if refusal is not None:
        # The probe's body says "Key is invalid", which is wrong for a key that could read.
        raise refusal.with_hint(
            "this key can read but not write: use a key created with 'Allow Write Access'",
            body="",
            as_class=WriteAccessError,
        )


# -- rows, checked against the schema ---------------------------------------------------------


def _records(rows: Any, kind: str, group: str, id_column: str | None) -> list[_Record]:
    """(id, {field: value}) per object, missing values dropped, ``metadata.<group>.`` stripped."""
    id_key = f"{kind}Id"
    if isinstance(rows, pd.DataFrame):
        named = rows.index.name is not None and rows.index.name in (id_column, id_key, "id")
        frame = rows.reset_index() if named else rows
        items = frame.to_dict("records")
    elif isinstance(rows, Iterable) and not isinstance(rows, (str, bytes, Mapping)):
        items = list(rows)
    else:
        raise ValidationError(
            f"rows must be a DataFrame or a list of dicts, got {type(rows).__name__}"
        )
    candidates = [id_column] if id_column else [id_key, "id"]
    prefix = f"metadata.{group}."
    records: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"row {position} is of type {type(item).__name__}, not a mapping")
        id_name = next((name for name in candidates if name in item), None)
        if id_name is None:
            raise ValidationError(
                f"row {position} has no id column (expected {' or '.join(candidates)})"
            )
        object_id = item[id_name]
        if not isinstance(object_id, str) or not object_id:
            raise ValidationError(
                f"row {position}: the id must be a non-empty string, got {object_id!r}"
            )
        if object_id in seen:
            raise ValidationError(f"row {position}: {id_key} {object_id!r} appears more than once")
        seen.add(object_id)
        fields = item["values"] if isinstance(item.get("values"), Mapping) else item
        values = {}
        for label, value in fields.items():
            name = str(label)  # a column name (rows of a DataFrame) or a JSON key
            if name == id_name:
                continue
            name = name[len(prefix) :] if name.startswith(prefix) else name
            if not _missing(value):
                values[name] = value.item() if isinstance(value, np.generic) else value
        records.append((object_id, values))
    if not records:
        raise ValidationError("no rows to update")
    return records


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _validated(
    records: list[_Record], schema: Mapping[str, Any], kind: str, group: str
) -> dict[str, str]:
    """Check names and types against the schema; convert times to epoch ms in place.

    Returns field -> schema type for the fields used.
    """
    if group == "auto":
        raise ValidationError("'auto' fields are computed by Pendo and cannot be written")
    known = schema.get(group)
    if not isinstance(known, Mapping):
        raise ValidationError(
            f"{kind} metadata has no group {group!r} "
            f"(groups: {', '.join(sorted(schema)) or 'none'})"
        )
    used = sorted({name for _, values in records for name in values})
    unknown = [name for name in used if name not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValidationError(
            f"unknown {kind} {group} field(s): {', '.join(hints)}; "
            "create them in Pendo's Data Mappings first"
        )
    types = {name: str((known[name] or {}).get("Type") or "").lower() for name in used}
    problems = []
    for object_id, values in records:
        for name, value in values.items():
            try:
                values[name] = _sendable(_checked_value(value, types[name]))
            except (TypeError, ValueError):
                problems.append(f"{object_id!r}.{name}={value!r} is not {types[name]}")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValidationError(
            "values do not fit their field types: " + "; ".join(problems[:10]) + more
        )
    return types


def _sendable(value: Any) -> Any:
    """``value`` if JSON can carry it to Pendo; ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(value)  # beyond Pendo's 64-bit integers (orjson refuses it anyway)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(value)  # no JSON form: it would be sent as null and erase the field
    return value


def _number_from_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _boolean_from_text(text: str) -> Any:
    return {"true": True, "false": False}.get(text.lower(), text)


_FROM_TEXT = {
    "integer": _number_from_text,
    "float": _number_from_text,
    "number": _number_from_text,
    "boolean": _boolean_from_text,
}


def _checked_value(value: Any, kind: str) -> Any:
    """The value as it is sent for a field of schema type ``kind``; raises when it does not fit."""
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if isinstance(value, str) and kind in _FROM_TEXT:
        # Text that reads exactly as the field's type (a cell of pasted CSV, where one bad cell
        # turns its whole column into text) is that value; other text is refused below.
        value = _FROM_TEXT[kind](value.strip())
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value)
    if kind in ("float", "number"):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise TypeError(value)
        return value
    if kind == "time":
        if isinstance(value, bool):
            raise TypeError(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, (datetime, date, str)):
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            return int(stamp.value // 1_000_000)
        raise TypeError(value)
    if isinstance(value, (str, bool, int, float)):
        return value  # a field without a declared type takes any scalar
    raise TypeError(value)


def _write_chunk(
    client: PendoConnection,
    kind: str,
    group: str,
    number: int,
    chunk: list[_Record],
    create: bool,
) -> list[dict[str, Any]]:
    id_key = f"{kind}Id"
    body = [{id_key: oid, "values": values} for oid, values in chunk]
    try:
        answer = client.post_metadata_values(kind, group, body, create=create).json()
    except (AuthenticationError, WriteAccessError):
        raise
    except (PendoAPIError, PendoConnectionError) as exc:
        message = str(exc).splitlines()[0]
        return [
            {id_key: oid, "chunk": number, "outcome": "failed", "error": message}
            for oid, _ in chunk
        ]
    missing = set(answer.get("missing") or []) if isinstance(answer, dict) else set()
    errors: dict[str | None, str] = {}  # by object id (None: an error that names no object)
    for entry in (answer.get("errors") or []) if isinstance(answer, dict) else []:
        if isinstance(entry, str):
            errors[entry] = "failed"
        elif isinstance(entry, dict):
            oid = entry.get(id_key) or entry.get("id")
            errors[oid] = str(entry.get("error") or entry.get("message") or "failed")
    outcomes = []
    for oid, _ in chunk:
        if oid in errors:
            outcome, error = "failed", errors[oid]
        elif oid in missing:
            outcome, error = "missing", None
        else:
            outcome, error = "updated", None
        outcomes.append({id_key: oid, "chunk": number, "outcome": outcome, "error": error})
    return outcomes


def _dry_run(
    client: PendoConnection,
    kind: str,
    group: str,
    chunks: list[list[_Record]],
    field_types: dict[str, str],
    create: bool,
) -> list[dict[str, Any]]:
    id_key = f"{kind}Id"
    ids = [oid for chunk in chunks for oid, _ in chunk]
    current: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), _LOOKUP_BATCH):
        batch = ids[i : i + _LOOKUP_BATCH]
        listed = ", ".join(expression_literal(oid) for oid in batch)
        select = {id_key: id_key, **{f: f"metadata.{group}.{f}" for f in field_types}}
        pipeline = [
            {"source": {f"{kind}s": None}},
            {"filter": f"contains(list({listed}), {id_key})"},
            {"select": select},
        ]
        for row in client.post_aggregation(pipeline, refresh=True).json().get("results") or []:
            current[row.get(id_key)] = row
    result = []
    for number, chunk in enumerate(chunks):
        for oid, values in chunk:
            row = current.get(oid)
            old = {f: row.get(f) for f in values} if row is not None else {}
            changed = [f for f, v in values.items() if row is None or old.get(f) != v]
            if row is None:
                outcome = "would-create" if create else "missing"
            else:
                outcome = "would-change" if changed else "unchanged"
            result.append(
                {
                    id_key: oid,
                    "chunk": number,
                    "outcome": outcome,
                    "changed_fields": changed,
                    "error": None,
                    "old": old,
                    "new": dict(values),
                }
            )
    return result
