"""The column types the documentation gives: the row fields of the event sources, the period
bucket of grouped rows, the field names that hold times, and which source a pipeline reads.

:mod:`pendo_nb.frames.casts` types columns from a ``{column: type}`` mapping; this module holds
the mappings that need no server (reference 4.5). Those the server declares (metadata schemas,
report field definitions) are read by :mod:`pendo_nb.pulls.schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BUCKET_FIELDS",
    "BUCKET_MS_FIELDS",
    "EPOCH_MS_FIELDS",
    "EVENT_SOURCE_FIELDS",
    "GROUPED_SOURCES",
    "PERIOD_BUCKET",
    "event_source_fields",
    "expanded_kinds",
    "source_kind",
    "time_series_of",
]

#: The period bucket field of grouped event rows, by timeSeries period (reference 3.8). The
#: iterative periods (``daily``...) are left out: no source says which field their rows carry.
BUCKET_FIELDS = {"hourRange": "hour", "dayRange": "day", "weekRange": "week", "monthRange": "month"}
#: Stands for the bucket field in :data:`EVENT_SOURCE_FIELDS`; the source's timeSeries names it.
PERIOD_BUCKET = "<period bucket>"

#: Field names (the last part of a dotted column) that hold instants in epoch milliseconds.
EPOCH_MS_FIELDS = frozenset(
    {
        "firstvisit", "lastvisit", "lastupdated",
        "browserTime", "guideTimestamp", "ts", "lastTs", "time", "startTime",
        "createdAt", "lastUpdatedAt", "firstTime", "lastTime", "lastRunAt", "lastSuccessRunAt",
        "firstSeenAt", "lastSeenAt", "lastAdvancedAutoAt", "lastDismissedAutoAt",
        "lastNotSeenAt", "lastTimeoutAt", "publishedAt", "resetAt", "windowStart",
    }
)  # fmt: skip

#: Field names of period buckets: the start of a period, in epoch ms (reference 3.8).
BUCKET_MS_FIELDS = frozenset({*BUCKET_FIELDS.values(), "quarter"})

# Grouped rows: these fields, the source's object id, then the rest (the sandbox's order).
_GROUPED_FIRST = {
    "visitorId": "string",
    "accountId": "string",
    "appId": "integer",
    PERIOD_BUCKET: "bucket",  # the period's calendar start (see frames.times.bucket_starts)
}
_GROUPED_LAST = {
    "remoteIp": "string",
    "server": "string",
    "userAgent": "string",
    "numEvents": "integer",
    "numMinutes": "integer",
    "firstTime": "time",
    "lastTime": "time",
}
# Who, where and when of every guide and poll event.
_GUIDE_CONTEXT = {
    "visitorId": "string",
    "accountId": "string",
    "accountIds": None,  # a list
    "appId": "integer",
    "browserTime": "time",
    "guideTimestamp": "time",
    "guideId": "string",
    "guideStepId": "string",
    "country": "string",
    "region": "string",
    "latitude": "float",
    "longitude": "float",
    "remoteIp": "string",
    "serverName": "string",
    "userAgent": "string",
    "language": "string",
    "url": "string",
    "eventId": "string",
    "type": "string",
}

#: Source -> the fields of its rows (in the order the sandbox writes them) and their types
#: (``bucket``: a period bucket; ``None``: lists, or values of mixed types; they stay
#: ``object``). Used for empty results, where no row shows the columns. Basis: reference 4.5
#: (H and M fields), the field lists of public connectors' schemas, and the sandbox's rows, which
#: carry those same fields. Left out:
#: the fields 4.5 rates L (``tabId``, ``rageClickCount``...): one unofficial list names them, the
#: sandbox does not write them; and the grouped rows' ``parameters`` (page URL parameters) and
#: ``properties`` (track-event properties) objects. Those two are flattened like every nested
#: object (``parameters.utm_source``, ``properties.plan``), not kept as one column of dicts:
#: their keys are the customer's own names, which analysts filter and group by, and a dotted
#: column per key is how every other nested field reaches a DataFrame. Their children are only
#: known from the rows, so they cannot be listed here (an empty ``{}`` gives no column). Poll
#: responses are guideEvents rows too (with ``pollId``/``pollResponse``); pollEvents rows carry
#: the guide context plus ``loadTime`` (the asking step's), ``pollId`` and ``pollResponse``.
EVENT_SOURCE_FIELDS: dict[str, dict[str, str | None]] = {
    # pageId "allevents[-app]"; featureId names a tagged click's feature ("" otherwise)
    "events": {**_GROUPED_FIRST, "pageId": "string", "featureId": "string", **_GROUPED_LAST},
    "pageEvents": {**_GROUPED_FIRST, "pageId": "string", **_GROUPED_LAST},
    "featureEvents": {**_GROUPED_FIRST, "featureId": "string", **_GROUPED_LAST},
    "trackEvents": {**_GROUPED_FIRST, "trackTypeId": "string", **_GROUPED_LAST},
    "guideEvents": {
        **_GUIDE_CONTEXT,
        "guideSeenReason": "string",
        "loadTime": "integer",
        "elementPath": "string",
        "uiElementId": "string",
        "uiElementType": "string",
        "uiElementText": "string",
        "uiElementActions": None,  # a list of {"action": ...}
        "destinationStepId": "string",
        "pollId": "string",
        "pollResponse": None,  # a string or a number, by poll type
    },
    "pollEvents": {
        **_GUIDE_CONTEXT,
        "loadTime": "integer",
        "pollId": "string",
        "pollResponse": None,
    },
    "singleEvents": {
        "visitorId": "string",
        "accountId": "string",
        "appId": "integer",
        "browserTime": "time",
        "type": "string",
        "pageId": "string",
        "featureId": "string",
        "trackTypeId": "string",
        "remoteIp": "string",
        "server": "string",
        "userAgent": "string",
    },
    "emailEvents": {
        "accountIds": None,  # a list
        "browserTime": "time",
        "eventId": "string",
        "type": "string",
        "oldVisitorId": "string",
        "visitorId": "string",
    },
}
#: The grouped event sources: rows keyed by a unique combination that includes the period bucket.
GROUPED_SOURCES = frozenset(
    name for name, fields in EVENT_SOURCE_FIELDS.items() if PERIOD_BUCKET in fields
)


def source_kind(steps: Sequence[Mapping[str, Any]]) -> str | None:
    """``visitor``/``account`` when the pipeline reads the visitors/accounts source."""
    source = steps[0].get("source") if steps and isinstance(steps[0], Mapping) else None
    if isinstance(source, Mapping):
        if "visitors" in source:
            return "visitor"
        if "accounts" in source:
            return "account"
    return None


def expanded_kinds(steps: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Output field -> ``visitor``/``account`` for each ``expand``/``bulkExpand`` of visitors or
    accounts: the rows get that kind's metadata groups under the field (``account.custom...``),
    typed by that kind's schema as ``metadata.*`` is."""
    kinds: dict[str, str] = {}
    for step in steps:
        spec = (
            next(iter(step.values()), None)
            if isinstance(step, Mapping) and len(step) == 1
            else None
        )
        if not isinstance(spec, Mapping) or not ({"expand", "bulkExpand"} & set(step)):
            continue
        for out, target in spec.items():
            if isinstance(target, Mapping) and len(target) == 1:
                kind = next(iter(target))
                if kind in ("visitor", "account"):
                    kinds[out] = kind
    return kinds


def time_series_of(step: object) -> Mapping[str, Any] | None:
    """The timeSeries of a source step wherever Pendo accepts it (reference 3.2): inside
    ``source``, beside it, or inside the source's parameters; ``None`` when it has none (or
    ``step`` is not a step)."""
    if not isinstance(step, Mapping):
        return None
    source = step["source"]
    series: Mapping[str, Any] | None = None
    if "timeSeries" in source:
        series = source["timeSeries"]
    elif "timeSeries" in step:
        series = step["timeSeries"]
    else:
        for params in source.values():
            if isinstance(params, Mapping) and "timeSeries" in params:
                series = params["timeSeries"]
                break
    return series


def event_source_fields(steps: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """Column -> type of the rows of the pipeline's event source (see :data:`EVENT_SOURCE_FIELDS`).

    The grouped sources' period bucket is named by the timeSeries period (``day`` for
    ``dayRange``) and left out when the period is not one of :data:`BUCKET_FIELDS`. Empty when
    the pipeline does not start with one of these sources.
    """
    step = steps[0] if steps and isinstance(steps[0], Mapping) else None
    source = step.get("source") if step is not None else None
    if not isinstance(source, Mapping):
        return {}
    names = [name for name in source if name != "timeSeries"]
    fields = EVENT_SOURCE_FIELDS.get(names[0]) if len(names) == 1 else None
    if fields is None:
        return {}
    series = time_series_of(step)
    period = series.get("period") if isinstance(series, Mapping) else None
    bucket = BUCKET_FIELDS.get(period) if isinstance(period, str) else None
    columns: dict[str, str | None] = {}
    for name, kind in fields.items():
        if name != PERIOD_BUCKET:
            columns[name] = kind
        elif bucket is not None:
            columns[bucket] = kind
    return columns
