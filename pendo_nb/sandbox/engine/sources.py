"""The ``source`` step: one function per Pendo source, each reading rows from the subscription.

Object sources (``visitors``, ``pages``, ``guides``...) hand over the subscription's own objects as
``rows.SharedRows``: a step that may change a row gets a new top-level dict, and nested objects stay
the subscription's (steps never change a nested object in place, see ``rows.write_path``, and
results are copied before they leave the engine). The grouped event sources
(``events``, ``pageEvents``, ``featureEvents``, ``trackEvents``) group the raw columnar events into
Pendo's rows (reference 5.6) with numpy and hand them on as a :class:`ColumnBatch`.

Choices where the reference is silent (each says why in place): ``events`` leaves out track events
(Pendo counts them there only when an app setting is on); the exclude list that the event
sources' ``blacklist`` parameter applies is the subscription's do-not-process flags (object sources
list everyone); the default app is the first of ``Subscription.apps``; ``hourRange`` works
without an object id on every event source (reference 6.4: Estuary runs such queries).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, Subscription

from .errors import AggregationError
from .expressions import compile_expression
from .grained_sources import RowFilter, grained_rows, needs_raw_events, needs_source
from .operators.grouping import GroupStep
from .paths import get_path
from .rows import ColumnBatch, Rows, SharedRows, fresh_rows
from .run_state import RunState, StepEnv
from .timeseries import PERIOD_FIELDS, resolve_time_series

_BLACKLIST_MODES = ("apply", "ignore", "only")


@dataclass(frozen=True)
class SourceCall:
    """What one source function gets: the parsed parameters and the resolved periods."""

    subscription: Subscription
    env: StepEnv
    name: str
    params: dict[str, Any]
    periods: list[tuple[int, int]] | None  # None when the step has no timeSeries
    period_field: str | None  # "day", "hour", ... for the bucket field of grouped events
    where: str
    grouped_by: PushedGroup | None = None  # the next step's group, done by the source itself

    @property
    def span(self) -> tuple[int, int]:
        """First start and last end of the periods."""
        assert self.periods is not None
        return self.periods[0][0], self.periods[-1][1]


SourceFunction = Callable[[SourceCall], Rows]


def compile_source(step: dict[str, Any], env: StepEnv, where: str) -> SourceReader:
    """Check a ``source`` step and return the function that reads its rows.

    Parameters
    ----------
    step : dict
        The whole step, ``{"source": {"<name>": params, "timeSeries": {...}}}``. ``timeSeries`` is
        also accepted beside ``source`` (Pendo's spawn example) or inside the params (as Estuary
        sends it for visitors), reference 3.2 and 6.12: inside ``source`` wins when both are given.
    env : StepEnv
        The subscription, clock and limits.
    where : str
        The step's position, e.g. ``pipeline[0].source``, for error messages.

    Returns
    -------
    SourceReader
        ``read(run) -> rows``.
    """
    spec = step.get("source")
    if not isinstance(spec, dict):
        raise AggregationError(f"{where}: must be an object naming one source")
    names = [key for key in spec if key != "timeSeries"]
    if len(names) != 1:
        raise AggregationError(
            f"{where}: name exactly one source, got {', '.join(map(repr, names)) or 'none'}"
        )
    name = names[0]
    if name not in SOURCES:
        raise AggregationError(f"{where}: unknown source {name!r}")
    function, needs_time_series = SOURCES[name]
    params = spec[name]
    if params is None:
        params = {}
    if not isinstance(params, dict) and name != "const":
        raise AggregationError(f"{where}.{name}: parameters must be an object or null")

    time_series = spec.get("timeSeries", step.get("timeSeries"))
    if time_series is None and isinstance(params, dict):
        time_series = params.get("timeSeries")
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if k != "timeSeries"}
    periods = period_field = None
    if time_series is not None:
        periods = resolve_time_series(
            time_series,
            env.ctx,
            where=f"{where}.timeSeries",
            max_periods=env.limits.max_periods,
        )
        period_field = PERIOD_FIELDS[time_series["period"]]
    elif needs_time_series:
        raise AggregationError(f"{where}.{name}: this source needs a timeSeries")

    call = SourceCall(env.subscription, env, name, params, periods, period_field, f"{where}.{name}")
    if isinstance(params, dict):  # shared parameters are checked now, before anything runs
        _app_ids(call)
        _blacklist(call)
        for key in set(params) & set(_ID_FILTERS):
            _id_filter(call, key.removesuffix("s"))

    return SourceReader(call, function, call.where)


@dataclass(frozen=True)
class SourceReader:
    """A compiled ``source`` step: ``reader(run)`` gives its rows."""

    call: SourceCall
    function: SourceFunction
    where: str

    def __call__(self, run: RunState) -> Rows:
        rows = self.function(self.call)
        run.check(len(rows), self.where)
        return rows

    def grouping(self, step: GroupStep) -> SourceReader | None:
        """This source doing the ``group`` step that follows it, or ``None`` when it cannot give
        exactly that step's rows itself.

        Only the grouped event sources over generated events can (see :class:`PushedGroup`):
        they then group the raw events straight into the step's rows, skipping the millions of
        intermediate Pendo rows a month of events makes.
        """
        call = self.call
        if (
            self.function not in _GROUPED_EVENT_SOURCES
            or call.subscription.grained is not None
            or call.grouped_by is not None
        ):
            return None
        pushed = PushedGroup.of(step, call)
        if pushed is None:
            return None
        return SourceReader(replace(call, grouped_by=pushed), self.function, step.where)


# ---------------------------------------------------------------------------------------------
# Parameters shared by several sources


def _app_ids(call: SourceCall) -> set[int] | None:
    """The app ids the ``appId`` parameter selects; ``None`` means every app.

    Without ``appId`` Pendo reads the default app only; an object-id filter (``pageId``...) picks
    the object's own app instead, so it lifts the default.
    """
    value = call.params.get("appId")
    if value is None and "eventClass" in call.params:
        return _apps_of_event_classes(call)
    if value is None:
        if any(key in call.params for key in _ID_FILTERS):
            return None
        return {call.subscription.apps[0]["id"]}
    values = value if isinstance(value, list) else [value]
    ids: set[int] = set()
    for item in values:
        if isinstance(item, str):  # "expandAppIds(\"*\")", or a number written as a string
            try:
                item = float(item)
            except ValueError:
                item = compile_expression(item, call.env.ctx, f"{call.where}.appId")({})
        for app_id in item if isinstance(item, list) else [item]:
            if (
                isinstance(app_id, bool)
                or not isinstance(app_id, (int, float))
                or not math.isfinite(app_id)
            ):
                raise AggregationError(f"{call.where}.appId: {app_id!r} is not an app id")
            ids.add(int(app_id))
    return ids


def _apps_of_event_classes(call: SourceCall) -> set[int]:
    """``eventClass: ["web", "ios"]`` (Pendo's ETL sample for ``events``): the apps of those
    platforms."""
    classes = call.params["eventClass"]
    classes = [classes] if isinstance(classes, str) else classes
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise AggregationError(f"{call.where}.eventClass: expected a list of platforms")
    return {app["id"] for app in call.subscription.apps if app.get("platform") in classes}


_ID_FILTERS = {
    "pageId": "pageId",
    "pageIds": "pageId",
    "featureId": "featureId",
    "featureIds": "featureId",
    "trackTypeId": "trackTypeId",
    "trackTypeIds": "trackTypeId",
    "guideId": "guideId",
    "guideStepId": "guideStepId",
    "pollId": "pollId",
}


def _id_filter(call: SourceCall, field: str) -> set[str] | None:
    """Ids given by ``<field>`` / ``<field>s`` (a string or a list of strings), or ``None``."""
    chosen: set[str] | None = None
    for key in (field, field + "s"):
        if key not in call.params:
            continue
        value = call.params[key]
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise AggregationError(f"{call.where}.{key}: expected an id or a list of ids")
        chosen = (chosen or set()) | set(values)
    return chosen


def _blacklist(call: SourceCall) -> str:
    mode: str = call.params.get("blacklist", "apply")
    if mode not in _BLACKLIST_MODES:
        raise AggregationError(
            f"{call.where}.blacklist: {mode!r} is not one of {', '.join(_BLACKLIST_MODES)}"
        )
    return mode


def _excluded(call: SourceCall, kind: str) -> set[str]:
    """Ids on the exclude list: the subscription's do-not-process flags."""
    return call.subscription.do_not_process.get(kind, set())


def _keep_by_blacklist(mode: str, flagged: bool) -> bool:
    return mode == "ignore" or (mode == "only") == flagged


# ---------------------------------------------------------------------------------------------
# Visitors and accounts


def _people(call: SourceCall, kind: str, *, flagged_only: bool = False) -> list[dict[str, Any]]:
    objects = call.subscription.visitors if kind == "visitor" else call.subscription.accounts
    flagged = _excluded(call, kind) if flagged_only else None
    since = call.params.get("since")
    if since is not None:
        since = _number_param(call, "since", since)
    identified_only = kind == "visitor" and call.params.get("identified") is True
    if flagged is None and since is None and not identified_only:
        return SharedRows(objects.values())
    is_identified = compile_expression("identified(visitorId)", call.env.ctx, call.where)
    rows = []
    for object_id, row in objects.items():
        if flagged is not None and object_id not in flagged:
            continue
        if since is not None and (get_path(row, "metadata.auto.lastupdated") or 0) < since:
            continue
        if identified_only and is_identified(row) is not True:
            continue
        rows.append(row)
    return SharedRows(rows)


def _number_param(call: SourceCall, key: str, value: Any) -> float:
    if isinstance(value, str):
        value = compile_expression(value, call.env.ctx, f"{call.where}.{key}")({})
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AggregationError(f"{call.where}.{key}: expected a number, got {value!r}")
    return float(value)


def visitors(call: SourceCall) -> list[dict[str, Any]]:
    """Every visitor, do-not-process ones included (they carry ``metadata.pendo.donotprocess``);
    ``since`` and ``identified: true`` narrow the list, ``appId`` is ignored."""
    return _people(call, "visitor")


def accounts(call: SourceCall) -> list[dict[str, Any]]:
    """Every account; ``appId`` is ignored, as Estuary observed (reference 3.2)."""
    return _people(call, "account")


def do_not_process_visitors(call: SourceCall) -> list[dict[str, Any]]:
    """Visitors flagged do-not-process."""
    return _people(call, "visitor", flagged_only=True)


def do_not_process_accounts(call: SourceCall) -> list[dict[str, Any]]:
    """Accounts flagged do-not-process."""
    return _people(call, "account", flagged_only=True)


# ---------------------------------------------------------------------------------------------
# Catalog objects


def _catalog(
    call: SourceCall, objects: list[dict[str, Any]], id_field: str | None
) -> list[dict[str, Any]]:
    apps = _app_ids(call)
    ids = _id_filter(call, id_field) if id_field else None
    rows = [
        obj
        for obj in objects
        if (apps is None or obj.get("appId") in apps) and (ids is None or obj.get("id") in ids)
    ]
    return SharedRows(rows)


def pages(call: SourceCall) -> list[dict[str, Any]]:
    """Tagged pages of the chosen apps (or those named by ``pageId``/``pageIds``)."""
    return _catalog(call, call.subscription.pages, "pageId")


def features(call: SourceCall) -> list[dict[str, Any]]:
    """Tagged features of the chosen apps (or those named by ``featureId``/``featureIds``)."""
    return _catalog(call, call.subscription.features, "featureId")


def track_types(call: SourceCall) -> list[dict[str, Any]]:
    """Track types of the chosen apps (or those named by ``trackTypeId``/``trackTypeIds``)."""
    return _catalog(call, call.subscription.track_types, "trackTypeId")


def guides(call: SourceCall) -> list[dict[str, Any]]:
    """Guides of the chosen apps (or those named by ``guideId``)."""
    return _catalog(call, call.subscription.guides, "guideId")


def groups(call: SourceCall) -> list[dict[str, Any]]:
    """Product areas; their ``items`` only with ``items: true``.

    ``groupType: "guideCategory"`` gives no rows: the sandbox has no guide categories.
    """
    group_type = call.params.get("groupType", "group")
    if group_type not in ("group", "guideCategory"):
        raise AggregationError(
            f"{call.where}.groupType: {group_type!r} is not group or guideCategory"
        )
    if group_type == "guideCategory":
        return []
    rows = fresh_rows(call.subscription.groups)
    if call.params.get("items") is not True:
        for row in rows:
            row.pop("items", None)
    return rows


def apps(call: SourceCall) -> list[dict[str, Any]]:
    """The subscription's apps (``id``, ``name``, ``platform``)."""
    return fresh_rows(call.subscription.apps)


def const(call: SourceCall) -> list[dict[str, Any]]:
    """The rows written in the request: ``{"const": [{...}, ...]}``."""
    rows = call.params
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise AggregationError(f"{call.where}: expected a list of objects")
    return fresh_rows(rows)


# ---------------------------------------------------------------------------------------------
# Grouped event sources (page loads, clicks, track events)

# Output field of the object id for each grouped source, and the subscription list it indexes.
_OBJECT_FIELDS = {
    "pageEvents": ("pageId", "pages"),
    "featureEvents": ("featureId", "features"),
    "trackEvents": ("trackTypeId", "track_types"),
}


def events(call: SourceCall) -> ColumnBatch:
    """All page loads and clicks, tagged or not, grouped; ``pageId`` is ``allevents[-<appId>]``.

    Track events are left out: Pendo counts them here only when an app setting is on (3.4).
    """
    return _grouped_events(call, kinds=(PAGE_LOAD, CLICK), tagged_only=False)


def page_events(call: SourceCall) -> ColumnBatch:
    """Tagged page loads grouped per page."""
    return _grouped_events(call, kinds=(PAGE_LOAD,), tagged_only=True)


def feature_events(call: SourceCall) -> ColumnBatch:
    """Tagged clicks grouped per feature."""
    return _grouped_events(call, kinds=(CLICK,), tagged_only=True)


def track_events(call: SourceCall) -> ColumnBatch:
    """Track events grouped per track type."""
    return _grouped_events(call, kinds=(TRACK,), tagged_only=True)


_GROUPED_EVENT_SOURCES = (events, page_events, feature_events, track_events)


def _grouped_events(call: SourceCall, *, kinds: tuple[int, ...], tagged_only: bool) -> ColumnBatch:
    """Pendo's grouped rows (reference 5.6): one per (visitor, account, app, bucket, object, remote
    IP, server, user agent) with ``numEvents``, ``numMinutes`` (distinct minutes with an event),
    ``firstTime`` and ``lastTime``."""
    sub = call.subscription
    if sub.grained is not None:
        return _grouped_from_store(call)
    table = sub.events
    start, end = call.span
    lo, hi = np.searchsorted(table.ts, [start, end], side="left")  # the table is sorted by ts
    ts = table.ts[lo:hi]
    columns = {
        "visitor": table.visitor[lo:hi],
        "account": table.account[lo:hi],
        "app": table.app[lo:hi],
        "object": table.object[lo:hi],
        "ip": table.ip[lo:hi],
        "server": table.server[lo:hi],
        "ua": table.user_agent[lo:hi],
    }
    kind = table.kind[lo:hi]
    keep = np.isin(kind, kinds)
    if tagged_only:
        keep &= columns["object"] >= 0
    app_ids = _app_ids(call)
    if app_ids is not None:
        wanted = [i for i, app in enumerate(sub.apps) if app["id"] in app_ids]
        keep &= np.isin(columns["app"], wanted)
    object_field, catalog_name = _OBJECT_FIELDS.get(call.name, (None, ""))
    if object_field is not None:
        ids = _id_filter(call, object_field)
        if ids is not None:
            catalog = getattr(sub, catalog_name)
            wanted = [i for i, obj in enumerate(catalog) if obj["id"] in ids]
            keep &= np.isin(columns["object"], wanted)
    keep &= _blacklist_mask(call, columns["visitor"], columns["account"])
    if object_field is None:
        # `events` rows have one pseudo page per app; a tagged click's row names its feature
        # (connectors' events schemas carry featureId), so clicks group per feature.
        columns["feature"] = np.where(
            (kind == CLICK) & (columns["object"] >= 0), columns["object"], -1
        )
        del columns["object"]

    starts = np.array([s for s, _ in call.periods or ()], dtype=np.int64)
    columns["bucket"] = np.searchsorted(starts, ts, side="right") - 1
    sizes = {
        "bucket": len(starts),
        "visitor": len(sub.visitor_ids),
        "account": len(sub.account_ids),
        "app": len(sub.apps),
        "object": len(getattr(sub, catalog_name)) if catalog_name else 0,
        "feature": len(sub.features),
        "ip": len(sub.remote_ips),
        "server": len(sub.servers),
        "ua": len(sub.user_agents),
    }
    kept = np.flatnonzero(keep)
    if call.grouped_by is not None:
        return _pushed_group_rows(call, call.grouped_by, columns, sizes, kept, ts, starts)
    columns["minute"] = (ts - start) // 60_000
    keys = _row_dims(call)
    minutes = (end - start) // 60_000  # the minute column is in [0, minutes)
    # Group keys with the minute as the least significant part: one sort puts each group's rows
    # together with its minutes in order, so distinct minutes are where the key changes.
    composite = _composite_key(
        [*(columns[k][kept] for k in keys), columns["minute"][kept]],
        [*(sizes[k] for k in keys), minutes],
    )
    order = np.argsort(composite)
    rows = kept[order]  # positions in the time slice, grouped, minutes ascending
    sorted_key = composite[order]
    group_part = sorted_key // (minutes + 1)  # the radix of the last key (see _composite_key)
    n = len(rows)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = group_part[1:] != group_part[:-1]
    new_minute = np.ones(n, dtype=bool)
    new_minute[1:] = sorted_key[1:] != sorted_key[:-1]
    first_index = np.flatnonzero(new_group)
    group_of_row = np.cumsum(new_group) - 1
    sorted_ts = ts[rows]
    first_rows = rows[first_index]
    frame = {
        field: _key_column(call, field, columns[dim][first_rows], starts)
        for field, dim in _row_key_fields(call).items()
    }
    frame["numEvents"] = np.diff(np.append(first_index, n))
    frame["numMinutes"] = np.bincount(group_of_row[new_minute], minlength=len(first_index))
    frame["firstTime"] = np.minimum.reduceat(sorted_ts, first_index) if n else sorted_ts
    frame["lastTime"] = np.maximum.reduceat(sorted_ts, first_index) if n else sorted_ts
    if call.name == "trackEvents":
        frame["properties"] = _track_properties(sub, columns["object"][first_rows],
                                                columns["account"][first_rows])  # fmt: skip
    else:
        # The page URL's query parameters (reference 4.5); the sandbox's tagged pages have none.
        frame["parameters"] = _same_object(len(first_index), {})
    return ColumnBatch(pd.DataFrame(frame))


def _row_dims(call: SourceCall) -> list[str]:
    """The raw event columns Pendo's grouped rows are keyed by, in the order the rows come in
    (sorted by these, the first most significant)."""
    object_dim = "object" if call.name in _OBJECT_FIELDS else "feature"
    return ["bucket", "visitor", "account", "app", object_dim, "ip", "server", "ua"]


def _row_key_fields(call: SourceCall) -> dict[str, str]:
    """The key fields of a grouped row, in the row's field order, each with its raw column."""
    assert call.period_field is not None
    fields = {"visitorId": "visitor", "accountId": "account", "appId": "app",
              call.period_field: "bucket"}  # fmt: skip
    if call.name in _OBJECT_FIELDS:
        fields[_OBJECT_FIELDS[call.name][0]] = "object"
    else:
        fields["pageId"] = "app"  # one pseudo page per app
        fields["featureId"] = "feature"
    return {**fields, "remoteIp": "ip", "server": "server", "userAgent": "ua"}


def _key_column(call: SourceCall, field: str, codes: np.ndarray, starts: np.ndarray) -> Any:
    """The values of key ``field`` of grouped rows from its raw column's ``codes``."""
    sub = call.subscription
    if field == call.period_field:
        return starts[codes]
    if field == "appId":
        return np.array([app["id"] for app in sub.apps], dtype=np.int64)[codes]
    if field == "pageId" and call.name not in _OBJECT_FIELDS:
        default_app = sub.apps[0]["id"]
        names = [
            "allevents" if a["id"] == default_app else f"allevents-{a['id']}" for a in sub.apps
        ]
        return _categorical(codes, names)
    labels, missing = {
        "visitorId": (sub.visitor_ids, None),
        "accountId": (sub.account_ids, ""),
        "featureId": ([f["id"] for f in sub.features], ""),
        "remoteIp": (sub.remote_ips, None),
        "server": (sub.servers, None),
        "userAgent": (sub.user_agents, None),
    }.get(field) or ([obj["id"] for obj in getattr(sub, _OBJECT_FIELDS[call.name][1])], None)
    return _categorical(codes, labels, missing=missing)


#: Aggregators a source can compute straight from raw events, by (aggregator, field): what
#: each gives for a group of rows equals the same over all their raw events.
_RAW_AGGREGATES = {("sum", "numEvents"): "count", ("min", "firstTime"): "first",
                   ("max", "lastTime"): "last"}  # fmt: skip


@dataclass(frozen=True)
class PushedGroup:
    """A ``group`` step right after a grouped event source, done by the source on raw events.

    Its keys are key fields of the rows, each its own raw column, and its outputs are among
    :data:`_RAW_AGGREGATES` (``numMinutes`` or a count of rows depend on the rows themselves).
    """

    keys: tuple[str, ...]
    dims: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]  # (output field, what it counts)

    @classmethod
    def of(cls, step: GroupStep, call: SourceCall) -> PushedGroup | None:
        if step.forced:  # forceKeys adds rows of its own
            return None
        key_dims = _row_key_fields(call)
        dims = tuple(key_dims.get(key, "") for key in step.keys)
        if "" in dims or len(set(dims)) != len(dims):  # not a key, or two keys of one column
            return None
        outputs = []
        for item in step.aggregators.items:
            counted = _RAW_AGGREGATES.get((item.kind, item.field_path or ""))
            if counted is None or "." in item.output or item.output in step.keys:
                return None
            outputs.append((item.output, counted))
        return cls(step.keys, dims, tuple(outputs))


def _pushed_group_rows(
    call: SourceCall,
    group: PushedGroup,
    columns: dict[str, np.ndarray],
    sizes: dict[str, int],
    kept: np.ndarray,
    ts: np.ndarray,
    starts: np.ndarray,
) -> ColumnBatch:
    """The rows of ``group`` over the kept raw events, in the order the step would give them.

    The source's rows come sorted by all their keys (:func:`_row_dims`), so a group first
    appears at the least of its members' keys up to the last key it is grouped by: the groups
    are put in that order. When its keys are the leading ones, that is the order of its keys.
    """
    row_dims = _row_dims(call)
    ordered_dims = [dim for dim in row_dims if dim in group.dims]
    composite = _composite_key(
        [columns[dim][kept] for dim in ordered_dims], [sizes[dim] for dim in ordered_dims]
    )
    # Hashing numbers the groups in order of appearance (much faster than sorting every event);
    # then only the groups are sorted.
    appearance, keys = pd.factorize(composite)
    leading = row_dims[: row_dims.index(ordered_dims[-1]) + 1]
    order_by = keys
    if leading != ordered_dims:  # keys skipped before the last one decide the order too
        prefix = _composite_key(
            [columns[dim][kept] for dim in leading], [sizes[dim] for dim in leading]
        )
        order_by = np.full(len(keys), np.iinfo(np.int64).max)
        np.minimum.at(order_by, appearance, prefix)
    rank = np.empty(len(keys), np.int64)
    rank[np.argsort(order_by)] = np.arange(len(keys))
    inverse = rank[appearance]
    seen_before = np.maximum.accumulate(np.concatenate(([-1], appearance[:-1])))
    first = np.empty(len(keys), np.int64)
    first[rank] = np.flatnonzero(appearance > seen_before)  # each group's first event, in turn
    first_rows = kept[first]  # the raw events are in time order: a group's first is its earliest
    last_rows = np.zeros(len(first), np.int64)
    np.maximum.at(last_rows, inverse, kept)
    frame: dict[str, Any] = {
        key: _key_column(call, key, columns[dim][first_rows], starts)
        for key, dim in zip(group.keys, group.dims, strict=True)
    }
    for output, counted in group.outputs:
        if counted == "count":
            frame[output] = np.bincount(inverse, minlength=len(first)).astype(np.float64)
        else:
            frame[output] = ts[first_rows] if counted == "first" else ts[last_rows]
    return ColumnBatch(pd.DataFrame(frame))


def _grouped_from_store(call: SourceCall) -> ColumnBatch:
    """The grouped rows of a subscription whose events are stored at a grain (an extract)."""
    sub = call.subscription
    assert sub.grained is not None and call.periods is not None and call.period_field
    needs_source(sub.grained, call.name, call.where)
    object_field = _OBJECT_FIELDS.get(call.name, (None, None))[0]
    keep = RowFilter(
        apps=_app_ids(call),
        object_field=object_field,
        object_ids=_id_filter(call, object_field) if object_field else None,
        blacklist=_blacklist(call),
        flagged_visitors=_excluded(call, "visitor"),
        flagged_accounts=_excluded(call, "account"),
    )
    frame = grained_rows(
        sub.grained, call.name, call.periods, call.period_field, keep,
        now_ms=sub.now_ms, timezone=sub.timezone, where=call.where,
    )  # fmt: skip
    return ColumnBatch(frame)


def _same_object(length: int, value: dict[str, Any]) -> np.ndarray:
    """An object column holding one shared ``value`` (steps copy nested objects before writing)."""
    column = np.empty(length, dtype=object)
    column.fill(value)
    return column


def _track_properties(sub: Subscription, track_type: np.ndarray, account: np.ndarray) -> np.ndarray:
    """Each track-event row's ``properties``: the track type's event properties, else ``{}``.

    The sandbox's only event property is ``plan`` (of server-side "Plan Upgraded" events): the
    plan of the row's account, which the backend sends with the event.
    """
    plans = [sub.accounts[a]["metadata"].get("agent", {}).get("plan", "") for a in sub.account_ids]
    by_account = np.empty(len(plans) + 1, dtype=object)  # the last one: no account (-1)
    by_account[:] = [{"plan": plan} for plan in plans] + [{"plan": ""}]
    has_properties = np.array([bool(t.get("eventPropertyNameList")) for t in sub.track_types])
    column = _same_object(len(track_type), {})
    chosen = has_properties[track_type]
    column[chosen] = by_account[account[chosen]]
    return column


def _composite_key(keys: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One int64 per row that orders like the tuple of ``keys`` (each in ``[-1, size)``).

    A mixed-radix number with the last key as its least significant digit, of radix
    ``sizes[-1] + 1``: ``composite // (sizes[-1] + 1)`` orders and groups like the other keys.
    Where the next digit would not fit in an int64, the combinations seen so far are renumbered
    first (in order, so the result still orders like the tuple); there are never more of them
    than rows.
    """
    composite = np.zeros(len(keys[0]), dtype=np.int64)
    bound = 1  # composite < bound
    for values, size in zip(keys, sizes, strict=True):
        radix = size + 1  # +1 makes room for the -1 of "no account"
        if bound > (2**62) // radix:  # would overflow: renumber the combinations seen so far
            composite = np.unique(composite, return_inverse=True)[1].astype(np.int64)
            bound = int(composite.max()) + 1 if len(composite) else 1
        composite = composite * radix + (values.astype(np.int64) + 1)
        bound *= radix
    return composite


def _categorical(
    codes: np.ndarray, labels: list[str], missing: str | None = None
) -> pd.Categorical:
    """Strings as a categorical column; code -1 becomes ``missing``.

    ``labels`` are distinct (the subscription's lookup lists are), so equal strings are one group.
    """
    if missing is not None:
        labels = [*labels, missing]
        codes = np.where(codes < 0, len(labels) - 1, codes)
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype=object))


def _blacklist_mask(call: SourceCall, visitor: np.ndarray, account: np.ndarray) -> np.ndarray:
    mode = _blacklist(call)
    if mode == "ignore":
        return np.ones(len(visitor), dtype=bool)
    sub = call.subscription
    flagged_visitors = _excluded(call, "visitor")
    flagged_accounts = _excluded(call, "account")
    visitor_flags = np.array([v in flagged_visitors for v in sub.visitor_ids], dtype=bool)
    account_flags = np.array([a in flagged_accounts for a in sub.account_ids] + [False], dtype=bool)
    flagged: np.ndarray = visitor_flags[visitor] | account_flags[account]  # -1 reads the pad
    return flagged if mode == "only" else ~flagged


# ---------------------------------------------------------------------------------------------
# Ungrouped page loads, clicks and track events, and email events

# singleEvents' `type` of each event kind.
_SINGLE_EVENT_TYPES = {PAGE_LOAD: "load", CLICK: "click", TRACK: "track"}


def single_events(call: SourceCall) -> ColumnBatch:
    """One row per raw event (the Path and Funnel reports read them), oldest first.

    Every row carries ``pageId``, ``featureId`` and ``trackTypeId``: the one its ``type``
    concerns is the object's id (``""`` when untagged), the other two are ``""``.
    """
    sub = call.subscription
    needs_raw_events(sub.grained, f"{call.where} (one row per event)")
    table = sub.events
    start, end = call.span
    lo, hi = np.searchsorted(table.ts, [start, end], side="left")
    part = slice(lo, hi)
    keep = _blacklist_mask(call, table.visitor[part], table.account[part])
    app_ids = _app_ids(call)
    if app_ids is not None:
        wanted = [i for i, app in enumerate(sub.apps) if app["id"] in app_ids]
        keep &= np.isin(table.app[part], wanted)
    rows = np.flatnonzero(keep) + lo
    kind, obj = table.kind[rows], table.object[rows]
    frame = {
        "visitorId": _categorical(table.visitor[rows], sub.visitor_ids),
        "accountId": _categorical(table.account[rows], sub.account_ids, missing=""),
        "appId": np.array([app["id"] for app in sub.apps], dtype=np.int64)[table.app[rows]],
        "browserTime": table.ts[rows],
        # The kinds are 0, 1, 2: each event's kind is its type's code.
        "type": _categorical(
            kind.astype(np.int32), [_SINGLE_EVENT_TYPES[k] for k in sorted(_SINGLE_EVENT_TYPES)]
        ),
    }
    for event_kind, (field, catalog) in {
        PAGE_LOAD: ("pageId", sub.pages),
        CLICK: ("featureId", sub.features),
        TRACK: ("trackTypeId", sub.track_types),
    }.items():
        codes = np.where(kind == event_kind, obj, -1)
        frame[field] = _categorical(codes, [o["id"] for o in catalog], missing="")
    frame["remoteIp"] = _categorical(table.ip[rows], sub.remote_ips)
    frame["server"] = _categorical(table.server[rows], sub.servers)
    frame["userAgent"] = _categorical(table.user_agent[rows], sub.user_agents)
    return ColumnBatch(pd.DataFrame(frame))


_EMAIL_TARGET_TYPES = ("campaign", "guide")
_EMAIL_EVENT_TYPES = (
    "sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "complaint", "subscribed",
)  # fmt: skip


def email_events(call: SourceCall) -> list[dict[str, Any]]:
    """No rows: the synthetic product sends no email. The parameters of reference 3.2 are
    checked, so a body that Pendo would refuse is refused here too."""
    for key, allowed in (("targetType", _EMAIL_TARGET_TYPES), ("eventType", _EMAIL_EVENT_TYPES)):
        value = call.params.get(key)
        if value is not None and value not in allowed:
            raise AggregationError(
                f"{call.where}.{key}: {value!r} is not one of {', '.join(allowed)}"
            )
    return []


# ---------------------------------------------------------------------------------------------
# Guide and poll events


def _in_range(rows: list[dict[str, Any]], call: SourceCall) -> list[dict[str, Any]]:
    """Rows (sorted by browserTime) inside the periods."""
    start, end = call.span
    times = [row["browserTime"] for row in rows]
    return rows[bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]


def _event_filter(call: SourceCall, id_fields: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    # Guide and poll events (and the summaries made of them) come from guideEvents/pollEvents.
    held = "pollEvents" if "pollId" in id_fields else "guideEvents"
    needs_source(call.subscription.grained, held, call.where)
    app_ids = _app_ids(call)
    filters = {field: _id_filter(call, field) for field in id_fields}
    wanted = {field: ids for field, ids in filters.items() if ids is not None}
    mode = _blacklist(call)
    flagged_visitors = _excluded(call, "visitor")

    def keep(row: dict[str, Any]) -> bool:
        return (
            (app_ids is None or row.get("appId") in app_ids)
            and all(row.get(field) in ids for field, ids in wanted.items())
            and _keep_by_blacklist(mode, row.get("visitorId") in flagged_visitors)
        )

    return keep


def guide_events(call: SourceCall) -> list[dict[str, Any]]:
    """One row per guide event in the range (``guideId``/``guideStepId`` filters)."""
    keep = _event_filter(call, ("guideId", "guideStepId"))
    return SharedRows(row for row in _in_range(call.subscription.guide_events, call) if keep(row))


def poll_events(call: SourceCall) -> list[dict[str, Any]]:
    """One row per poll response in the range (``guideId``/``pollId`` filters)."""
    keep = _event_filter(call, ("guideId", "pollId"))
    return SharedRows(row for row in _in_range(call.subscription.poll_events, call) if keep(row))


# guideEvents types -> the guidesSeen field holding the last time of that type.
_LAST_TIME_FIELDS = {
    "guideAdvanced": "lastAdvancedAutoAt",
    "guideDismissed": "lastDismissedAutoAt",
    "guideNotSeen": "lastNotSeenAt",
    "guideTimeout": "lastTimeoutAt",
}
_STATES = {
    "guideSeen": "active",
    "guideAdvanced": "advanced",
    "guideDismissed": "dismissed",
    "guideTimeout": "timeout",
    "guideSnoozed": "snoozed",
}


def _guides_seen_rows(call: SourceCall) -> list[dict[str, Any]]:
    """Per (guide, step, visitor) with at least one guideSeen: all-time first/last times."""
    keep = _event_filter(call, ("guideId", "guideStepId"))
    summaries: dict[tuple[Any, ...], dict[str, Any]] = {}
    for event in call.subscription.guide_events:  # sorted by browserTime: later events win
        if not keep(event):
            continue
        key = (event.get("guideId"), event.get("guideStepId"), event.get("visitorId"))
        row = summaries.get(key)
        if row is None:
            row = summaries[key] = {
                "guideId": key[0],
                "guideStepId": key[1],
                "visitorId": key[2],
                "firstSeenAt": None,
                "lastSeenAt": None,
                **dict.fromkeys(_LAST_TIME_FIELDS.values()),
                "seenCount": 0,
                "lastState": None,
            }
        kind: str = event.get("type", "")
        at = event.get("browserTime")
        if kind == "guideSeen":
            row["firstSeenAt"] = row["firstSeenAt"] if row["firstSeenAt"] is not None else at
            row["lastSeenAt"] = at
            row["seenCount"] += 1
        elif kind in _LAST_TIME_FIELDS:
            row[_LAST_TIME_FIELDS[kind]] = at
        row["lastState"] = _STATES.get(kind, row["lastState"])
    return [row for row in summaries.values() if row["seenCount"]]


def guides_seen(call: SourceCall) -> list[dict[str, Any]]:
    """Guide summaries whose last view falls in the range (reference 3.4)."""
    start, end = call.span
    return [r for r in _guides_seen_rows(call) if start <= r["lastSeenAt"] < end]


def guides_seen_ever(call: SourceCall) -> list[dict[str, Any]]:
    """Guide summaries over all time."""
    return _guides_seen_rows(call)


def _polls_seen_rows(call: SourceCall) -> list[dict[str, Any]]:
    """Each visitor's last response per (guide, poll). Pendo's attribute tables call the answer
    ``pollResponse`` while its own examples read ``response``: both are emitted (reference 6.6)."""
    keep = _event_filter(call, ("guideId", "pollId"))
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for event in call.subscription.poll_events:  # sorted by browserTime: the last one stays
        if keep(event):
            latest[(event.get("guideId"), event.get("pollId"), event.get("visitorId"))] = event
    return [
        {
            "guideId": guide_id,
            "pollId": poll_id,
            "visitorId": visitor_id,
            "accountId": event.get("accountId"),
            "time": event.get("browserTime"),
            "pollResponse": event.get("pollResponse"),
            "response": event.get("pollResponse"),
        }
        for (guide_id, poll_id, visitor_id), event in latest.items()
    ]


def polls_seen(call: SourceCall) -> list[dict[str, Any]]:
    """Last poll responses that fall in the range."""
    start, end = call.span
    return [row for row in _polls_seen_rows(call) if start <= row["time"] < end]


def polls_seen_ever(call: SourceCall) -> list[dict[str, Any]]:
    """Last poll responses over all time."""
    return _polls_seen_rows(call)


#: Source name -> (function, whether it needs a timeSeries).
SOURCES: dict[str, tuple[SourceFunction, bool]] = {
    "visitors": (visitors, False),
    "accounts": (accounts, False),
    "doNotProcessVisitors": (do_not_process_visitors, False),
    "doNotProcessAccounts": (do_not_process_accounts, False),
    "pages": (pages, False),
    "features": (features, False),
    "trackTypes": (track_types, False),
    "guides": (guides, False),
    "groups": (groups, False),
    "apps": (apps, False),
    "const": (const, False),
    "events": (events, True),
    "pageEvents": (page_events, True),
    "featureEvents": (feature_events, True),
    "trackEvents": (track_events, True),
    "singleEvents": (single_events, True),
    "emailEvents": (email_events, True),
    "guideEvents": (guide_events, True),
    "pollEvents": (poll_events, True),
    "guidesSeen": (guides_seen, True),
    "guidesSeenEver": (guides_seen_ever, False),
    "pollsSeen": (polls_seen, True),
    "pollsSeenEver": (polls_seen_ever, False),
}
