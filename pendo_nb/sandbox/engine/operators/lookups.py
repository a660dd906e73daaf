"""Steps that look rows up in the subscription: ``bulkExpand``, ``expand``, ``itemSeen`` and
``segment``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, Subscription

from ..errors import AggregationError
from ..expressions import compile_expression
from ..grained_sources import needs_raw_events
from ..paths import id_at
from ..rows import Rows, as_records, iter_records, write_path
from ..run_state import RunState, StepEnv, StepFunction
from ..step_arguments import expect_object, field_name, no_unknown_keys, writable_field
from ._common import as_condition

# Lookup kinds of bulkExpand/expand -> the Subscription attribute holding their objects.
_PEOPLE = {"visitor": "visitors", "account": "accounts"}


_CATALOGS = {"page": "pages", "feature": "features", "trackType": "track_types", "guide": "guides"}


def compile_bulk_expand(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"bulkExpand": {"out": {"visitor": "visitorId"}}}`` (or ``"account"``): attach the
    visitor's/account's metadata groups under ``out`` (``out.agent.email``); null if unknown."""
    return _compile_lookup_step(arg, env, where, tuple(_PEOPLE))


def compile_expand(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"expand": {"pageInfo": {"page": "pageId"}}}``: attach the page/feature/trackType/guide
    object whose id is in the field; null when there is none.

    ``visitor`` and ``account`` keys (reference 3.5 has them from [SKILL] only, L, with no output
    shape) attach what ``bulkExpand`` attaches, the metadata groups, so ``out.agent.email`` reads
    the same after either step.
    """
    return _compile_lookup_step(arg, env, where, (*_CATALOGS, *_PEOPLE))


def _compile_lookup_step(
    arg: Any, env: StepEnv, where: str, kinds: tuple[str, ...]
) -> StepFunction:
    """The step of ``bulkExpand`` and ``expand``: write each lookup's find under its output."""
    lookups = _lookups(arg, kinds, where)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        finders = {kind: _finder(sub, kind) for kind, _ in lookups.values()}
        for row in records:
            for out, (kind, field) in lookups.items():
                write_path(row, out, finders[kind](id_at(row, field)))
        return list(records)

    return run


def _lookups(arg: Any, kinds: tuple[str, ...], where: str) -> dict[str, tuple[str, str]]:
    spec = expect_object(arg, where)
    lookups = {}
    for out, target in spec.items():
        writable_field(field_name(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(target, dict) or len(target) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"<kind>": "<idField>"}}')
        kind, field = next(iter(target.items()))
        if kind not in kinds:
            raise AggregationError(f"{where}.{out}: {kind!r} is not one of {', '.join(kinds)}")
        lookups[out] = (kind, field_name(field, f"{where}.{out}.{kind}"))
    return lookups


def _finder(sub: Subscription, kind: str) -> Callable[[Any], Any]:
    """``id -> what a lookup of this kind attaches`` (``None`` for an unknown id): a visitor's or
    account's metadata groups, or a catalog object."""
    if kind in _PEOPLE:
        objects = getattr(sub, _PEOPLE[kind])

        def metadata(object_id: Any) -> Any:
            found = objects.get(object_id)
            return found.get("metadata") if isinstance(found, dict) else None

        return metadata
    return {obj["id"]: obj for obj in getattr(sub, _CATALOGS[kind])}.get


_ITEM_KINDS = {"pageId": (PAGE_LOAD, "pages"), "featureId": (CLICK, "features"),
               "trackTypeId": (TRACK, "track_types")}  # fmt: skip


def compile_item_seen(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"itemSeen": {"out": {"pageId": "<id>"}}}``: ``out.count`` and ``out.lastUsed`` (ms, null
    if never) of the row visitor's all-time use of that page/feature/track type."""
    spec = expect_object(arg, where)
    targets = {}
    for out, target in spec.items():
        writable_field(field_name(out, f"{where}.{out}"), f"{where}.{out}")
        if not isinstance(target, dict) or len(target) != 1:
            raise AggregationError(f'{where}.{out}: expected {{"pageId": "<id>"}}')
        kind, object_id = next(iter(target.items()))
        if kind not in _ITEM_KINDS or not isinstance(object_id, str):
            raise AggregationError(
                f"{where}.{out}: expected one of {', '.join(_ITEM_KINDS)} with an id string"
            )
        targets[out] = (kind, object_id)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        records = as_records(rows)
        visitor_index = {visitor_id: i for i, visitor_id in enumerate(sub.visitor_ids)}
        for out, (kind, object_id) in targets.items():
            counts, last_used = _item_use(sub, kind, object_id)
            for row in records:
                i = visitor_index.get(id_at(row, "visitorId"))
                seen = i is not None and counts[i] > 0
                write_path(row, out, {"count": int(counts[i]) if seen else 0,
                                    "lastUsed": int(last_used[i]) if seen else None})  # fmt: skip
        return list(records)

    return run


def _item_use(sub: Subscription, kind: str, object_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Per visitor index: how many events hit the object, and the last one's time."""
    event_kind, catalog = _ITEM_KINDS[kind]
    needs_raw_events(sub.grained, "itemSeen (when each visitor last used an item)")
    positions = [i for i, obj in enumerate(getattr(sub, catalog)) if obj["id"] == object_id]
    table = sub.events
    hits = (table.kind == event_kind) & np.isin(table.object, positions)
    visitors = table.visitor[hits]
    counts = np.bincount(visitors, minlength=len(sub.visitor_ids))
    last_used = np.zeros(len(sub.visitor_ids), dtype=np.int64)
    np.maximum.at(last_used, visitors, table.ts[hits])
    return counts, last_used


def compile_segment(arg: Any, env: StepEnv, where: str) -> StepFunction:
    """``{"segment": {"id": "<segmentId>"}}``: keep rows whose ``visitorId`` (visitor segment) or
    ``accountId`` (account segment) belongs to the segment.

    The inline form ``{"segment": {"source": {"visitors": null}, "filter": "<expr>"}}`` (reference
    3.5 has it from [SKILL] only, L) defines the segment in place, read the way the sandbox's own
    segments are defined: the visitors (or, with ``{"accounts": null}``, the accounts) for which
    the filter holds, matched on ``visitorId`` (``accountId``). Other sources, source parameters
    and time series are refused: what they would mean for a segment is not known. Membership
    reads the filter as the ``filter`` step does (true or a non-zero number).
    """
    spec = expect_object(arg, where)
    if "id" in spec:
        no_unknown_keys(spec, {"id"}, where)
        segment = next((s for s in env.subscription.segments if s.get("id") == spec["id"]), None)
        if segment is None:
            raise AggregationError(f"{where}.id: unknown segment {spec['id']!r}")
        kind, text = segment["kind"], segment["filter"]
        text_where = f"segment {spec['id']!r} filter"
    elif "source" in spec:
        no_unknown_keys(spec, {"source", "filter"}, where)
        kind = _inline_segment_kind(spec["source"], f"{where}.source")
        if "filter" not in spec:
            raise AggregationError(f"{where}.filter: required, an expression over the {kind}s")
        text, text_where = spec["filter"], f"{where}.filter"
    else:
        raise AggregationError(
            f'{where}: expected {{"id": "<segmentId>"}} or '
            f'{{"source": {{"visitors": null}}, "filter": "<expression>"}}'
        )
    field = "visitorId" if kind == "visitor" else "accountId"
    is_member = as_condition(compile_expression(text, env.ctx, text_where).evaluate)
    sub = env.subscription

    def run(rows: Rows, state: RunState) -> Rows:
        objects = sub.visitors if kind == "visitor" else sub.accounts
        members = {object_id for object_id, obj in objects.items() if is_member(obj)}
        return [row for row in iter_records(rows) if id_at(row, field) in members]

    return run


def _inline_segment_kind(source: Any, where: str) -> str:
    """``"visitor"`` or ``"account"`` for an inline segment's ``{"visitors": null}`` source."""
    if isinstance(source, dict) and len(source) == 1:
        name, parameters = next(iter(source.items()))
        if name in ("visitors", "accounts") and parameters in (None, {}):
            return str(name).removesuffix("s")
    raise AggregationError(
        f'{where}: an inline segment is drawn from {{"visitors": null}} or {{"accounts": null}}'
    )
