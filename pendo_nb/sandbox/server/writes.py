"""Bulk metadata writes: ``POST /api/v1/metadata/{kind}/{group}/value`` (reference 2.8).

Values are checked against the field's schema type; a record with a value of the wrong type fails
as a whole (it is listed in ``errors``), an unknown id is ``missing`` unless ``create`` is set. An
unknown field name creates the field with an unset type, as Pendo documents for this endpoint.
Writes change the subscription in place; the caller holds ``subscription.lock.writing()``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pendo_nb.sandbox.subscription.identifiers import idhash
from pendo_nb.sandbox.subscription.model import Subscription
from pendo_nb.sandbox.subscription.schema import field_definition

WRITABLE_GROUPS = ("agent", "custom")
ID_KEYS = {"visitor": "visitorId", "account": "accountId"}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Layouts Pendo accepts for time values besides epoch numbers (reference 2.8), as strptime formats.
_TIME_LAYOUTS = ("%m/%d/%Y %I:%M%p", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y/%m/%d")
_EPOCH_SECONDS_BELOW = 100_000_000_000  # smaller epoch numbers are seconds (year 5138 in ms)


class WriteRejected(ValueError):
    """The whole request is refused (HTTP ``status``, 400 unless said otherwise)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _validate_request(kind: str, group: str, body: Any) -> str:
    if kind not in ID_KEYS:
        raise WriteRejected(f"unknown metadata kind {kind!r}: use 'visitor' or 'account'", 404)
    if group not in WRITABLE_GROUPS:
        raise WriteRejected(
            f"metadata group {group!r} is not writable here: "
            f"use one of {', '.join(WRITABLE_GROUPS)}"
        )
    if not isinstance(body, list):
        raise WriteRejected(
            f"request body must be a JSON array of {{{ID_KEYS[kind]!r}, 'values'}} objects"
        )
    id_key = ID_KEYS[kind]
    for i, record in enumerate(body):
        where = f"element {i}"
        if not isinstance(record, dict):
            raise WriteRejected(f"{where}: expected an object with {id_key!r} and 'values'")
        object_id = record.get(id_key)
        if not isinstance(object_id, str) or not object_id:
            raise WriteRejected(f"{where}: {id_key!r} must be a non-empty string")
        values = record.get("values")
        if not isinstance(values, dict):
            raise WriteRejected(f"{where}: 'values' must be an object of field name -> value")
        for name in values:
            if not _FIELD_NAME.match(name):
                raise WriteRejected(
                    f"{where}: field name {name!r} must start with a letter or underscore and "
                    "contain only letters, digits and underscores"
                )
    return id_key


def _parse_time(text: str) -> datetime | None:
    """``text`` as ISO 8601 or one of ``_TIME_LAYOUTS``; ``None`` when none fits."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for layout in _TIME_LAYOUTS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def _to_time_ms(value: Any, subscription: Subscription) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1000) if abs(value) < _EPOCH_SECONDS_BELOW else int(value)
    moment = _parse_time(value.strip()) if isinstance(value, str) else None
    if moment is not None:
        if moment.tzinfo is None:  # times without a zone are in the subscription's zone
            moment = moment.replace(tzinfo=subscription.timezone)
        return int(moment.timestamp() * 1000)
    raise ValueError("expected epoch seconds/milliseconds or a date such as 2026-11-01T12:00:00Z")


def _convert(value: Any, type_: str, subscription: Subscription) -> Any:
    """``value`` as stored for a field of schema ``type_``; ``ValueError`` if it does not fit."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if value is None or type_ == "":
        return value
    if type_ == "string":
        if isinstance(value, str):
            return value
        raise ValueError("expected a string")
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError("expected true or false")
    if type_ == "integer":
        if is_number and float(value).is_integer():
            return int(value)
        raise ValueError("expected an integer")
    if type_ in ("float", "number"):
        if is_number:
            return value
        raise ValueError("expected a number")
    if type_ == "time":
        return _to_time_ms(value, subscription)
    if type_ == "list":
        if isinstance(value, list):
            return value
        raise ValueError("expected a list")
    raise ValueError(f"fields of type {type_!r} cannot be written")


def _new_row(kind: str, object_id: str, now_ms: int) -> dict[str, Any]:
    auto = {"id": object_id, "idhash": idhash(object_id), "lastupdated": now_ms}
    if kind == "visitor":
        auto.update(accountid="", accountids=[])
        pendo = {"donotprocess": False, "blacklistguides": False, "designerenabled": False}
    else:
        pendo = {"donotprocess": False}
    return {
        ID_KEYS[kind]: object_id,
        "metadata": {"auto": auto, "agent": {}, "custom": {}, "pendo": pendo},
    }


def update_values(
    subscription: Subscription, kind: str, group: str, body: Any, *, create: bool = False
) -> dict[str, Any]:
    """Apply a bulk metadata update and return Pendo's summary.

    Parameters
    ----------
    subscription : Subscription
        Changed in place (hold ``subscription.lock.writing()``).
    kind : {"visitor", "account"}
    group : {"agent", "custom"}
    body : list
        ``[{"visitorId" | "accountId": id, "values": {field: value}}, ...]``.
    create : bool
        Create visitors/accounts that do not exist instead of reporting them ``missing``.

    Returns
    -------
    dict
        ``{"total", "updated", "failed", "missing", "kind"}``, plus ``errors`` (one
        ``{"id", "field", "error"}`` per failed record) when a value did not fit its field.

    Raises
    ------
    WriteRejected
        For a malformed request (nothing is written).
    """
    id_key = _validate_request(kind, group, body)
    rows = subscription.visitors if kind == "visitor" else subscription.accounts
    ids = subscription.visitor_ids if kind == "visitor" else subscription.account_ids
    fields = subscription.schema[kind].setdefault(group, {})
    updated, missing, errors = 0, [], []
    for record in body:
        object_id = record[id_key]
        if object_id not in rows and not create:
            missing.append(object_id)
            continue
        converted, error = {}, None
        for name, value in record["values"].items():
            type_ = fields[name]["Type"] if name in fields else ""
            try:
                converted[name] = _convert(value, type_, subscription)
            except ValueError as exc:
                error = {
                    "id": object_id,
                    "field": name,
                    "error": f"{name} is a field of type {type_}: {exc}",
                }
                break
        if error:
            errors.append(error)
            continue
        if object_id not in rows:
            rows[object_id] = _new_row(kind, object_id, subscription.now_ms)
            ids.append(object_id)
        metadata = rows[object_id]["metadata"]
        values = metadata.setdefault(group, {})
        for name, value in converted.items():
            # Reference 6.8: the bulk write's documentation creates unknown custom fields (type
            # set later in the UI); the single-value PUT's 404 for them is another endpoint's.
            if name not in fields:
                fields[name] = field_definition("", name)
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        metadata["auto"]["lastupdated"] = subscription.now_ms
        updated += 1
    result = {
        "total": len(body),
        "updated": updated,
        "failed": len(missing) + len(errors),
        "missing": missing,
        "kind": kind,
    }
    if errors:
        result["errors"] = errors
    return result


# Pendo-group flags that have their own single-value PUT (reference 2.9): both take true/false.
PENDO_FLAGS = ("donotprocess", "blacklistguides")


def _object_metadata(subscription: Subscription, kind: str, object_id: str) -> dict[str, Any]:
    if kind not in ID_KEYS:
        raise WriteRejected(f"unknown metadata kind {kind!r}: use 'visitor' or 'account'", 404)
    rows = subscription.visitors if kind == "visitor" else subscription.accounts
    if object_id not in rows:
        raise WriteRejected(f"Error while getting {kind}, no such entity found", 404)
    metadata: dict[str, Any] = rows[object_id]["metadata"]
    return metadata


def _field_type(subscription: Subscription, kind: str, group: str, name: str) -> str:
    """The schema type of an existing field; 404 for a field the schema does not have."""
    if group == "pendo" and name in PENDO_FLAGS:
        return "boolean"
    fields = subscription.schema[kind].get(group, {})
    if name not in fields:
        # Reference 6.8: the bulk write's docs create unknown fields, the single-value PUT's
        # answer 404. Section 5 does not settle it; each endpoint follows its own documentation.
        raise WriteRejected(
            f"no field {group}.{name} for {kind}s: "
            "Check to make sure the custom field exists in Data Mappings",
            404,
        )
    type_: str = fields[name]["Type"]
    return type_


def get_value(subscription: Subscription, kind: str, group: str, object_id: str, name: str) -> Any:
    """``GET /metadata/{kind}/{group}/value/{id}/{field}``: the value (``None`` when unset)."""
    metadata = _object_metadata(subscription, kind, object_id)
    _field_type(subscription, kind, group, name)
    return metadata.get(group, {}).get(name)


def set_value(
    subscription: Subscription, kind: str, group: str, object_id: str, name: str, value: Any
) -> Any:
    """``PUT /metadata/{kind}/{group}/value/{id}/{field}`` with the raw JSON value as the body.

    Sets one existing field of one existing visitor or account (404 for either unknown); the
    ``pendo`` group takes the ``donotprocess`` and ``blacklistguides`` flags. Returns the value
    as stored. The caller holds ``subscription.lock.writing()``.
    """
    metadata = _object_metadata(subscription, kind, object_id)
    if group not in (*WRITABLE_GROUPS, "pendo"):
        raise WriteRejected(
            f"metadata group {group!r} is not writable here: use agent, custom or pendo"
        )
    if group == "pendo" and name not in PENDO_FLAGS:
        raise WriteRejected(f"pendo.{name} is not writable: use {' or '.join(PENDO_FLAGS)}")
    type_ = _field_type(subscription, kind, group, name)
    try:
        converted = _convert(value, type_, subscription)
    except ValueError as exc:
        raise WriteRejected(f"{name} is a field of type {type_}: {exc}") from None
    values = metadata.setdefault(group, {})
    if converted is None:
        values.pop(name, None)
    else:
        values[name] = converted
    if group == "pendo" and name == "donotprocess":
        flagged = subscription.do_not_process.setdefault(kind, set())
        (flagged.add if converted else flagged.discard)(object_id)
    metadata["auto"]["lastupdated"] = subscription.now_ms
    return converted
