"""The functions of Pendo's expression language (reference 3.7), by name in :data:`FUNCTIONS`.

Each implementation takes the :class:`EvalContext` first, then the evaluated arguments, and
raises :class:`ArgumentError` for an argument of the wrong type or value (the compiler adds where
and the position). ``if`` is not here: it evaluates lazily, so the compiler handles it.

Null: a function whose required input is null returns null (as operators do), except the type
tests (``isNil(null)`` is true), ``list(...)`` (keeps nulls), ``identified(null)`` (false: no id is
not an identified visitor) and ``contains(list, null)`` (looks for a null element).

Choices where Pendo's documentation is silent, each also noted at the function:

- ``isNull(x)`` behaves as ``isNil(x)`` (true when null or missing): every Pendo sample uses
  ``!isNull(x)`` to mean "x is present" (reference 6.5).
- ``listInRange(list, min, max)`` returns the numeric elements within ``[min, max]``.
- ``hash(x)`` is the CRC-32 of the UTF-8 text of ``x`` (``toString(x)``), the same function the
  sandbox uses for ``metadata.auto.idhash``, so ``hash(visitorId)`` equals that field. It is stable
  across runs and machines, unlike Python's ``hash``.
- Parent/child accounts: Pendo stores a child account's id as ``"<parentId>::<childId>"``
  (support.pendo.io, "Configure for multi-level accounts"). ``parentAccountId`` gives the part
  before ``::`` (null when there is none); ``childAccountId`` the part after it (the whole id
  when there is none).
- ``expandAppIds`` reads ``ctx.apps``: ``web`` and ``extension`` match the app ``platform``,
  ``mobile`` means ``ios`` or ``android``, ``*`` every app.
- ``eventSubType(type)``: only one unattributed source names it (reference 3.7, L). The sandbox
  reads it as the last ``:``-separated part of an event type: ``"opened"`` for the emailEvents
  type ``"email:pendo:opened"``, the type itself when it has no ``:`` (``"click"``), null for null.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pendo_nb.sandbox.subscription.identifiers import idhash

from . import dates
from .context import EvalContext
from .golayout import format_time
from .values import NUMBER_TYPES, describe_type, hashable, values_equal


class ArgumentError(Exception):
    """An argument a function cannot use; the compiler turns it into an AggregationError."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Function:
    """One entry of the function table.

    ``literal_checks`` maps an argument index to a validator run at compile time when that
    argument is a constant (so ``dateAdd(t, 1, "fortnights")`` fails before any row is read).
    Every function is pure for one request (``now()`` is the request's fixed clock), so calls
    with constant arguments are evaluated once, at compile time.
    """

    name: str
    min_args: int
    max_args: int | None
    impl: Callable[..., Any]
    literal_checks: Mapping[int, Callable[[Any], object]] = field(default_factory=dict)


# ------------------------------------------------------------------------------- type checks


def _need_string(value: Any, what: str) -> str:
    if type(value) is not str:
        raise ArgumentError(f"{what} must be a string, got {describe_type(value)}")
    return value


def _need_number(value: Any, what: str) -> float:
    if type(value) not in NUMBER_TYPES:
        raise ArgumentError(f"{what} must be a number, got {describe_type(value)}")
    number: float = value
    return number


def _need_list(value: Any, what: str) -> list[Any]:
    if type(value) is not list:
        raise ArgumentError(f"{what} must be a list, got {describe_type(value)}")
    return value


def _need_whole(value: Any, what: str) -> int:
    number = _need_number(value, what)
    if not float(number).is_integer():
        raise ArgumentError(f"{what} must be a whole number, got {number:g}")
    return int(number)


# ------------------------------------------------------------------------------------ general


def _is_boolean(ctx: EvalContext, value: Any) -> bool:
    return value is True or value is False


def _is_number(ctx: EvalContext, value: Any) -> bool:
    return type(value) in NUMBER_TYPES


def _is_string(ctx: EvalContext, value: Any) -> bool:
    return type(value) is str


def _is_list(ctx: EvalContext, value: Any) -> bool:
    return type(value) is list


def _is_nil(ctx: EvalContext, value: Any) -> bool:
    return value is None


def _is_empty(ctx: EvalContext, value: Any) -> bool:
    return value is None or value == ""


# ------------------------------------------------------------------------------------ strings


def _contains(ctx: EvalContext, haystack: Any, needle: Any) -> Any:
    """Substring test on strings; exact element membership on lists."""
    if haystack is None:
        return None
    if type(haystack) is list:
        return any(values_equal(item, needle) for item in haystack)
    if type(haystack) is str:
        if needle is None:
            return None
        return _need_string(needle, "the substring") in haystack
    raise ArgumentError(
        f"the first argument must be a string or a list, got {describe_type(haystack)}"
    )


def _split(ctx: EvalContext, text: Any, separator: Any) -> Any:
    if text is None or separator is None:
        return None
    text = _need_string(text, "the text")
    separator = _need_string(separator, "the separator")
    if separator == "":
        return list(text)  # Go's strings.Split with "" splits into characters
    return text.split(separator)


def _starts_with(ctx: EvalContext, text: Any, prefix: Any) -> Any:
    if text is None or prefix is None:
        return None
    return _need_string(text, "the text").startswith(_need_string(prefix, "the prefix"))


def _to_lower_case(ctx: EvalContext, text: Any) -> Any:
    if text is None:
        return None
    return _need_string(text, "the argument").lower()


def to_text(value: Any) -> str:
    """The text form of a value: integral numbers without ``.0``, booleans as ``true``/``false``,
    lists and objects as compact JSON."""
    if type(value) is str:
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) in NUMBER_TYPES:
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return json.dumps(_integral_floats_as_ints(value), separators=(",", ":"), default=str)


def _integral_floats_as_ints(value: Any) -> Any:
    """A copy where ``1.0`` becomes ``1``, so lists print as Pendo's Go encoder prints them."""
    if type(value) is list:
        return [_integral_floats_as_ints(item) for item in value]
    if type(value) is dict:
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if type(value) in NUMBER_TYPES and float(value).is_integer():
        return int(value)
    return value


def _to_string(ctx: EvalContext, value: Any) -> Any:
    return None if value is None else to_text(value)


def _len(ctx: EvalContext, value: Any) -> Any:
    """Characters of a string, elements of a list, keys of an object."""
    if value is None:
        return None
    if type(value) in (str, list, dict):
        return float(len(value))
    raise ArgumentError(f"the argument must be a string or a list, got {describe_type(value)}")


# -------------------------------------------------------------------------------------- lists


def _list(ctx: EvalContext, *items: Any) -> list[Any]:
    return list(items)


def _list_in_range(ctx: EvalContext, items: Any, low: Any, high: Any) -> Any:
    """The numeric elements of ``items`` within ``[low, high]`` (inclusive), in order."""
    if items is None or low is None or high is None:
        return None
    items = _need_list(items, "the first argument")
    low, high = _need_number(low, "the minimum"), _need_number(high, "the maximum")
    return [item for item in items if type(item) in NUMBER_TYPES and low <= item <= high]


def _reverse(ctx: EvalContext, items: Any) -> Any:
    if items is None:
        return None
    return _need_list(items, "the argument")[::-1]


_TYPE_ORDER = {"null": 0, "boolean": 1, "number": 2, "string": 3, "list": 4, "object": 5}


def _sort_key(value: Any) -> tuple[Any, ...]:
    kind = describe_type(value)
    if kind in ("number", "string", "boolean"):
        return (_TYPE_ORDER[kind], value)
    return (_TYPE_ORDER.get(kind, 6), to_text(value))


def _sort_unique(ctx: EvalContext, items: Any) -> Any:
    """Distinct elements in ascending order (values of different types: null, booleans, numbers,
    strings, lists, objects)."""
    if items is None:
        return None
    unique: dict[Any, Any] = {}
    for item in _need_list(items, "the argument"):
        unique.setdefault(hashable(item), item)
    return sorted(unique.values(), key=_sort_key)


def _sum(ctx: EvalContext, items: Any) -> Any:
    """Sum of the numeric elements (others are ignored, reference 3.7)."""
    if items is None:
        return None
    return float(
        sum(item for item in _need_list(items, "the argument") if type(item) in NUMBER_TYPES)
    )


# -------------------------------------------------------------------------------------- dates


def _now(ctx: EvalContext) -> float:
    return float(ctx.now_ms)


def _date(ctx: EvalContext, *parts: Any) -> Any:
    """``date("2006-01-02T15:04:05.999")`` (or a prefix down to the year), or
    ``date(year, month, day, hour, minute, second, nanosecond)`` with trailing parts optional;
    a wall-clock time in the subscription time zone."""
    if any(part is None for part in parts):
        return None
    try:
        if type(parts[0]) is str:
            if len(parts) > 1:
                raise ArgumentError("date(text) takes a single string")
            return float(dates.parse_date(parts[0], ctx.timezone))
        names = (
            "the year",
            "the month",
            "the day",
            "the hour",
            "the minute",
            "the second",
            "the nanosecond",
        )
        whole = [_need_whole(part, name) for part, name in zip(parts, names, strict=False)]
        defaults = [1970, 1, 1, 0, 0, 0, 0]
        year, month, day, hour, minute, second, nanos = whole + defaults[len(whole) :]
        return float(
            dates.wall_clock_ms(ctx.timezone, year, month, day, hour, minute, second, nanos // 1000)
        )
    except dates.DateError as problem:
        raise ArgumentError(str(problem)) from None


def _check_period(name: Any) -> str:
    if type(name) is not str or name not in dates.PERIOD_UNITS:
        raise ArgumentError(
            f"unknown period {to_text(name)!r} (expected one of {', '.join(dates.PERIOD_UNITS)})"
        )
    return dates.PERIOD_UNITS[name]


def _start_of_period(ctx: EvalContext, period: Any, timestamp: Any) -> Any:
    unit = _check_period(period)
    if timestamp is None:
        return None
    try:
        return float(dates.start_of(_need_number(timestamp, "the time"), unit, ctx.timezone))
    except dates.DateError as problem:
        raise ArgumentError(str(problem)) from None


def _check_add_unit(name: Any) -> str:
    if type(name) is not str or name not in dates.ADD_UNITS:
        raise ArgumentError(
            f"unknown unit {to_text(name)!r} (expected one of {', '.join(dates.ADD_UNITS)})"
        )
    return dates.ADD_UNITS[name]


def _date_add(ctx: EvalContext, timestamp: Any, amount: Any, unit_name: Any) -> Any:
    """Move a time by ``amount`` hours (exact) or days/weeks/months/quarters/years (calendar,
    in the subscription time zone, Go's ``AddDate`` overflow rules)."""
    unit = _check_add_unit(unit_name)
    if timestamp is None or amount is None:
        return None
    timestamp = _need_number(timestamp, "the time")
    try:
        if unit == "hour":
            return float(timestamp + _need_number(amount, "the amount") * dates.HOUR_MS)
        return float(dates.add(timestamp, _need_whole(amount, "the amount"), unit, ctx.timezone))
    except dates.DateError as problem:
        raise ArgumentError(str(problem)) from None


_DISTANCE_UNITS = {**dates.PERIOD_UNITS, **dates.ADD_UNITS}


def _check_distance_unit(name: Any) -> str:
    if type(name) is not str or name not in _DISTANCE_UNITS:
        raise ArgumentError(
            f"unknown period {to_text(name)!r} (expected one of {', '.join(_DISTANCE_UNITS)})"
        )
    return _DISTANCE_UNITS[name]


def _date_dist(ctx: EvalContext, first: Any, second: Any, period: Any) -> Any:
    """Calendar periods from ``first`` to ``second`` (``dateDist(a, b, "days")``: days between
    their local dates; negative when ``second`` is earlier). Periods may be written as
    ``startOfPeriod`` names or ``dateAdd`` units."""
    unit = _check_distance_unit(period)
    if first is None or second is None:
        return None
    first, second = _need_number(first, "the first time"), _need_number(second, "the second time")
    try:
        return float(dates.distance(first, second, unit, ctx.timezone))
    except dates.DateError as problem:
        raise ArgumentError(str(problem)) from None


def _check_layout(layout: Any) -> None:
    _need_string(layout, "the layout")


def _format_time(ctx: EvalContext, layout: Any, timestamp: Any) -> Any:
    """``formatTime("2006-01-02 15:04", time)``: the time in the subscription time zone, written
    with a Go layout."""
    if layout is None or timestamp is None:
        return None
    _check_layout(layout)
    try:
        moment = dates.to_datetime(_need_number(timestamp, "the time"), ctx.timezone)
    except dates.DateError as problem:
        raise ArgumentError(str(problem)) from None
    return format_time(layout, moment)


# -------------------------------------------------------------------------------------- Pendo

ANONYMOUS_PREFIXES = ("_PENDO_T_", "PENDO_T")
"""Anonymous visitor ids start with one of these (reference 6.13: both spellings documented)."""

ACCOUNT_SEPARATOR = "::"
"""Between the parent and the child in a multi-level account id (``"parent::child"``)."""


def _identified(ctx: EvalContext, visitor_id: Any) -> bool:
    if visitor_id is None or visitor_id == "":
        return False
    return not to_text(visitor_id).startswith(ANONYMOUS_PREFIXES)


def identified_ids(ids: pd.Index) -> np.ndarray:
    """``identified(id)`` of many string ids at once (a column's distinct visitor ids)."""
    text = pd.Index(ids, dtype=object)
    return np.asarray((text != "") & ~text.str.startswith(ANONYMOUS_PREFIXES), dtype=bool)


def _hash(ctx: EvalContext, value: Any) -> Any:
    return None if value is None else float(idhash(to_text(value)))


def _event_sub_type(ctx: EvalContext, event_type: Any) -> Any:
    return None if event_type is None else to_text(event_type).rsplit(":", 1)[-1]


def _child_account_id(ctx: EvalContext, account_id: Any) -> Any:
    if account_id is None:
        return None
    text = to_text(account_id)
    return text.split(ACCOUNT_SEPARATOR, 1)[1] if ACCOUNT_SEPARATOR in text else text


def _parent_account_id(ctx: EvalContext, account_id: Any) -> Any:
    if account_id is None:
        return None
    text = to_text(account_id)
    return text.split(ACCOUNT_SEPARATOR, 1)[0] if ACCOUNT_SEPARATOR in text else None


APP_FILTERS = {
    "web": ("web",),
    "extension": ("extension",),
    "ios": ("ios",),
    "android": ("android",),
    "mobile": ("ios", "android"),
}
"""``expandAppIds`` filter words -> app ``platform`` values (``*`` is every app)."""


def _check_app_filter(text: Any) -> None:
    words = _need_string(text, "the app filter").split("|")
    for word in words:
        if word != "*" and word not in APP_FILTERS:
            raise ArgumentError(
                f"unknown app filter {word!r} (expected *, {', '.join(APP_FILTERS)}, joined by |)"
            )


def expand_app_ids(text: str, apps: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[Any]:
    """The ids of the apps matching an ``expandAppIds`` filter such as ``"web|ios"``, in the
    order of ``apps``."""
    _check_app_filter(text)
    words = text.split("|")
    if "*" in words:
        return [app["id"] for app in apps]
    platforms = {platform for word in words for platform in APP_FILTERS[word]}
    return [app["id"] for app in apps if app.get("platform") in platforms]


def _expand_app_ids(ctx: EvalContext, text: Any) -> Any:
    if text is None:
        return None
    return [
        float(app_id) if type(app_id) in NUMBER_TYPES else app_id
        for app_id in expand_app_ids(text, ctx.apps)
    ]


FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in [
        Function("isBoolean", 1, 1, _is_boolean),
        Function("isNumber", 1, 1, _is_number),
        Function("isString", 1, 1, _is_string),
        Function("isList", 1, 1, _is_list),
        Function("isNil", 1, 1, _is_nil),
        # Reference 6.5: documented as "exists and is not null" but used everywhere as isNil.
        Function("isNull", 1, 1, _is_nil),
        Function("isEmpty", 1, 1, _is_empty),
        Function("contains", 2, 2, _contains),
        Function("split", 2, 2, _split),
        Function("startsWith", 2, 2, _starts_with),
        Function("toLowerCase", 1, 1, _to_lower_case),
        Function("toString", 1, 1, _to_string),
        Function("len", 1, 1, _len),
        Function("list", 0, None, _list),
        Function("listInRange", 3, 3, _list_in_range),
        Function("reverse", 1, 1, _reverse),
        Function("sortUnique", 1, 1, _sort_unique),
        Function("sum", 1, 1, _sum),
        Function("now", 0, 0, _now),
        Function("date", 1, 7, _date),
        Function("startOfPeriod", 2, 2, _start_of_period, {0: _check_period}),
        Function("dateAdd", 3, 3, _date_add, {2: _check_add_unit}),
        Function("dateDist", 3, 3, _date_dist, {2: _check_distance_unit}),
        Function("formatTime", 2, 2, _format_time, {0: _check_layout}),
        Function("identified", 1, 1, _identified),
        Function("hash", 1, 1, _hash),
        Function("eventSubType", 1, 1, _event_sub_type),
        Function("childAccountId", 1, 1, _child_account_id),
        Function("parentAccountId", 1, 1, _parent_account_id),
        Function("expandAppIds", 1, 1, _expand_app_ids, {0: _check_app_filter}),
    ]
}
"""Every function of the expression language, by name."""
