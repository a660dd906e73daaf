"""Every function of the expression language (reference 3.7).

Epoch values were worked out by hand and checked with GNU ``date -u -d <ISO> +%s%3N``. The main
clock is 2026-11-01T12:00:00Z, which is 07:00 EST in New York: that Sunday is the day daylight
saving time ends there (clocks fall back at 06:00Z), so the New York day is 25 hours long.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from pendo_nb.sandbox.engine.context import EvalContext
from pendo_nb.sandbox.engine.errors import AggregationError
from pendo_nb.sandbox.engine.expressions import compile_expression
from pendo_nb.sandbox.engine.functions import FUNCTIONS, _identified, identified_ids

NOW = 1_793_534_400_000  # 2026-11-01T12:00:00Z = 07:00 EST
NOV_1_NY = 1_793_505_600_000  # 2026-11-01T00:00 EDT (04:00Z)
NOV_1_UTC = 1_793_491_200_000  # 2026-11-01T00:00Z
NOV_1_23H_NY = 1_793_592_000_000  # 2026-11-01T23:00 EST (2026-11-02T04:00Z), 24 h after NOV_1_NY
NOV_2_NY = 1_793_595_600_000  # 2026-11-02T00:00 EST (05:00Z), 25 h after NOV_1_NY
NOV_8_NY = 1_794_114_000_000  # 2026-11-08T00:00 EST
NOV_4_NOON_UTC = 1_793_793_600_000  # Wednesday 2026-11-04T12:00Z
OCT_31_NOON_UTC = 1_793_448_000_000  # Saturday 2026-10-31T12:00Z
OCT_1_NY = 1_790_827_200_000  # 2026-10-01T00:00 EDT
OCT_1_UTC = 1_790_812_800_000  # 2026-10-01T00:00Z = Sep 30 20:00 EDT
AUG_1_NY = 1_785_556_800_000  # 2026-08-01T00:00 EDT
DEC_1_NY = 1_796_101_200_000  # 2026-12-01T00:00 EST
JAN_1_2026_NY = 1_767_243_600_000  # 2026-01-01T00:00 EST
JAN_1_2027_NY = 1_798_779_600_000  # 2027-01-01T00:00 EST
NOV_1_2027_NY = 1_825_041_600_000  # 2027-11-01T00:00 EDT
MAR_8_NY = 1_772_946_000_000  # 2026-03-08T00:00 EST (DST starts at 02:00 that day)
MAR_8_NOON_UTC = 1_772_971_200_000
MAR_9_NY = 1_773_028_800_000  # 2026-03-09T00:00 EDT, 23 h after MAR_8_NY
JAN_31_2024_NY = 1_706_677_200_000  # 2024-01-31T00:00 EST
MAR_2_2024_NY = 1_709_355_600_000  # 2024-03-02T00:00 EST
AFTERNOON_MS = 1_793_550_645_123  # 2026-11-01T16:30:45.123Z = 11:30:45.123 EST
HOUR = 3_600_000

WEB, IOS, ANDROID, EXTENSION = -323232, 111, 222, 333
APPS = (
    {"id": WEB, "name": "Web", "platform": "web"},
    {"id": IOS, "name": "iOS", "platform": "ios"},
    {"id": ANDROID, "name": "Android", "platform": "android"},
    {"id": EXTENSION, "name": "Extension", "platform": "extension"},
)
NEW_YORK = EvalContext(now_ms=NOW, timezone=ZoneInfo("America/New_York"), apps=APPS)
UTC = EvalContext(now_ms=NOW, timezone=ZoneInfo("UTC"), apps=APPS)
ROW = {"visitorId": "v1", "text": "Hello", "items": [3, 1, 3, 2], "empty": "", "nothing": None}


def run(text: str, ctx: EvalContext = NEW_YORK, row: dict | None = None):
    return compile_expression(text, ctx)(ROW if row is None else row)


def error_of(text: str, ctx: EvalContext = NEW_YORK, row: dict | None = None) -> str:
    with pytest.raises(AggregationError) as caught:
        compile_expression(text, ctx)(ROW if row is None else row)
    return caught.value.message


def test_the_table_holds_every_documented_function():
    documented = {
        "isBoolean", "isNumber", "isString", "isList", "isNil", "isNull", "isEmpty",
        "contains", "split", "startsWith", "toLowerCase", "toString", "len",
        "list", "listInRange", "reverse", "sortUnique", "sum",
        "now", "date", "startOfPeriod", "dateAdd", "dateDist", "formatTime",
        "identified", "hash", "childAccountId", "parentAccountId", "expandAppIds",
    }  # fmt: skip
    assert documented <= set(FUNCTIONS)


# ---------------------------------------------------------------------------------- general


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("isBoolean(true)", True),
        ("isBoolean(1)", False),
        ("isBoolean(null)", False),
        ("isNumber(1.5)", True),
        ('isNumber("1")', False),
        ("isNumber(true)", False),
        ('isString("")', True),
        ("isString(text)", True),
        ("isString(1)", False),
        ("isList([])", True),
        ("isList(items)", True),
        ('isList("a")', False),
        ("isNil(null)", True),
        ("isNil(missing)", True),
        ("isNil(nothing)", True),
        ("isNil(0)", False),
        ('isNil("")', False),
        ("isNull(missing)", True),  # reference 6.5: isNull behaves as isNil
        ("isNull(visitorId)", False),
        ("!isNull(visitorId)", True),
        ("isEmpty(empty)", True),
        ("isEmpty(missing)", True),
        ('isEmpty(" ")', False),
        ("isEmpty(0)", False),
        ("isEmpty([])", False),
    ],
)
def test_type_tests(text, expected):
    assert run(text) is expected


# ----------------------------------------------------------------------------------- strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('contains(text, "ell")', True),
        ('contains(text, "hello")', False),  # case-sensitive
        ('contains(["a", "b"], "b")', True),
        ("contains(items, 2)", True),
        ("contains(items, 5)", False),
        ('contains(["1"], 1)', False),  # exact: a string is not a number
        ("contains([1, null], null)", True),
        ('contains(missing, "a")', None),
        ("contains(text, null)", None),
        ('split("a,b,,c", ",")', ["a", "b", "", "c"]),
        ('split("abc", "")', ["a", "b", "c"]),
        ('split("abc", "-")', ["abc"]),
        ('split(missing, ",")', None),
        ('startsWith("_PENDO_T_x", "_PENDO")', True),
        ('startsWith(text, "ello")', False),
        ('startsWith(missing, "a")', None),
        ('toLowerCase("MiXeD Ünïcode")', "mixed ünïcode"),
        ("toLowerCase(missing)", None),
        ("toString(5)", "5"),
        ("toString(2.5)", "2.5"),
        ("toString(-0.25)", "-0.25"),
        ("toString(1793534400000)", "1793534400000"),
        ("toString(true)", "true"),
        ('toString("x")', "x"),
        ("toString(null)", None),
        ('toString(list(1, "a", null))', '[1,"a",null]'),
        ('len("héllo")', 5),
        ("len(items)", 4),
        ("len([])", 0),
        ("len(missing)", None),
    ],
)
def test_string_functions(text, expected):
    assert run(text) == expected
    assert (run(text) is None) == (expected is None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('contains(5, "a")', "contains(): the first argument must be a string or a list"),
        ("contains(text, 1)", "contains(): the substring must be a string, got number"),
        ('split(1, ",")', "split(): the text must be a string, got number"),
        ("toLowerCase(1)", "toLowerCase(): the argument must be a string, got number"),
        ("len(5)", "len(): the argument must be a string or a list, got number"),
    ],
)
def test_string_functions_refuse_wrong_types(text, message):
    assert message in error_of(text)


# ------------------------------------------------------------------------------------- lists


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('list(1, "a", null)', [1, "a", None]),
        ("list()", []),
        ('listInRange(list(1, 5, 7.5, 10, 11, "7", null), 5, 10)', [5, 7.5, 10]),
        ("listInRange(items, 2, 3)", [3, 3, 2]),
        ("listInRange(missing, 1, 2)", None),
        ("reverse(items)", [2, 3, 1, 3]),
        ("reverse([])", []),
        ("sortUnique(items)", [1, 2, 3]),
        ('sortUnique(["b", "a", "b"])', ["a", "b"]),
        ('sortUnique(list(2, "a", 1, "a", 2.0))', [1, 2, "a"]),
        ("sum(items)", 9),
        ('sum(list(1, 2.5, "3", null, true))', 3.5),  # non-numbers are ignored
        ("sum([])", 0),
        ("sum(missing)", None),
    ],
)
def test_list_functions(text, expected):
    assert run(text) == expected


def test_list_functions_refuse_non_lists():
    assert "reverse(): the argument must be a list, got string" in error_of("reverse(text)")
    assert "sum(): the argument must be a list, got number" in error_of("sum(5)")
    assert "listInRange(): the minimum must be a number" in error_of('listInRange(items, "a", 2)')


# ------------------------------------------------------------------------------------- dates


def test_now_is_the_context_clock():
    assert run("now()") == NOW
    assert run("now() - 30 * 1000 * 60 * 60 * 24") == NOW - 30 * 86_400_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('date("2026-11-01")', NOV_1_NY),
        ('date("2026")', JAN_1_2026_NY),
        ('date("2026-10")', OCT_1_NY),
        ('date("2026-11-01T12:30")', 1_793_554_200_000),  # 12:30 EST = 17:30Z
        ('date("2026-11-01T11:30:45.123")', AFTERNOON_MS),
        ('date("2026-11-01T11:30:45.1237")', AFTERNOON_MS),  # below 1 ms: truncated
        ("date(2026, 11, 1)", NOV_1_NY),
        ("date(2026, 11)", NOV_1_NY),
        ("date(2026, 11, 1, 7)", NOW),
        ("date(2026, 11, 1, 11, 30, 45, 123000000)", AFTERNOON_MS),
        ("date(2026, 13, 1)", JAN_1_2027_NY),  # months roll over as in Go's time.Date
        ("date(2026, 10, 32)", NOV_1_NY),
        ("date(missing)", None),
    ],
)
def test_date_in_the_subscription_time_zone(text, expected):
    assert run(text) == expected


def test_date_in_utc():
    assert run('date("2026-11-01")', UTC) == NOV_1_UTC
    assert run("date(2026, 11, 1, 12)", UTC) == NOW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('date("2026-02-30")', "'2026-02-30' is not a valid date"),
        ('date("11/01/2026")', "cannot read '11/01/2026' as a date"),
        ('date("2026-11-01 12:00")', "cannot read"),
        ("date(2026.5)", "the year must be a whole number, got 2026.5"),
        ('date(2026, "11")', "the month must be a number, got string"),
        ('date("2026", 1)', "date(text) takes a single string"),
    ],
)
def test_date_refuses_malformed_input(text, message):
    assert message in error_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('startOfPeriod("daily", now())', NOV_1_NY),
        ('startOfPeriod("dayRange", now())', NOV_1_NY),  # Pendo's NPS example spelling
        (f'startOfPeriod("daily", {NOV_1_23H_NY})', NOV_1_NY),  # 23:00 EST is still Nov 1
        (f'startOfPeriod("daily", {NOV_2_NY})', NOV_2_NY),
        (f'startOfPeriod("daily", {MAR_8_NOON_UTC})', MAR_8_NY),
        (f'startOfPeriod("weekly", {NOV_4_NOON_UTC})', NOV_1_NY),  # weeks start on Sunday
        (f'startOfPeriod("weekRange", {OCT_31_NOON_UTC})', 1_792_900_800_000),  # Sun Oct 25
        (f'startOfPeriod("monthly", {NOV_4_NOON_UTC})', NOV_1_NY),
        (f'startOfPeriod("monthRange", {DEC_1_NY - 1})', NOV_1_NY),
        (f'startOfPeriod("monthly", {DEC_1_NY})', DEC_1_NY),
        (f'startOfPeriod("hourly", {AFTERNOON_MS})', 1_793_548_800_000),  # 16:00Z
        # 01:30 happens twice on Nov 1 in New York: 05:30Z (EDT) and 06:30Z (EST).
        (f'startOfPeriod("hourly", {NOV_1_NY + 90 * 60_000})', NOV_1_NY + HOUR),
        (f'startOfPeriod("hourly", {NOV_1_NY + 150 * 60_000})', NOV_1_NY + 2 * HOUR),
        ('startOfPeriod("daily", missing)', None),
    ],
)
def test_start_of_period(text, expected):
    assert run(text) == expected


def test_hours_start_on_the_local_hour_in_half_hour_zones():
    kolkata = EvalContext(now_ms=NOW, timezone=ZoneInfo("Asia/Kolkata"))
    # 12:00Z is 17:30 IST; the hour began at 17:00 IST = 11:30Z.
    assert run('startOfPeriod("hourly", now())', kolkata) == NOW - HOUR // 2


def test_start_of_period_in_utc():
    assert run('startOfPeriod("daily", now())', UTC) == NOV_1_UTC
    assert run(f'startOfPeriod("monthly", {NOV_1_UTC - 1})', UTC) == OCT_1_UTC
    assert run(f'startOfPeriod("monthly", {NOV_1_NY - 1})', UTC) == NOV_1_UTC


def test_start_of_period_refuses_an_unknown_period_at_compile_time():
    with pytest.raises(AggregationError) as caught:
        compile_expression('startOfPeriod("fortnightly", now())', NEW_YORK, "eval.day")
    assert caught.value.message.startswith(
        "eval.day: startOfPeriod(): unknown period 'fortnightly' (expected one of hourly, "
        "hourRange, daily, dayRange"
    )
    assert "at position 14" in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'dateAdd({NOV_1_NY}, 1, "days")', NOV_2_NY),  # the 25-hour day: local midnight
        (f'dateAdd({NOV_1_NY}, 24, "hours")', NOV_1_23H_NY),  # hours are exact spans
        (f'dateAdd({MAR_8_NY}, 1, "days")', MAR_9_NY),  # the 23-hour day
        (f'dateAdd({NOV_1_NY}, 1, "weeks")', NOV_8_NY),
        (f'dateAdd({NOV_1_NY}, 1, "months")', DEC_1_NY),
        (f'dateAdd({NOV_1_NY}, -1, "months")', OCT_1_NY),
        (f'dateAdd({NOV_1_NY}, -1, "quarters")', AUG_1_NY),
        (f'dateAdd({NOV_1_NY}, 1, "years")', NOV_1_2027_NY),
        (f'dateAdd({JAN_31_2024_NY}, 1, "months")', MAR_2_2024_NY),  # Go: Feb 31 -> Mar 2
        ('dateAdd(now(), 1.5, "hours")', NOW + 1.5 * HOUR),
        # Oct 25 07:00 is EDT (11:00Z): the week back holds the 25-hour day.
        ('dateAdd(now(), -7, "days")', NOW - 7 * 24 * HOUR - HOUR),
        ('dateAdd(missing, 1, "days")', None),
        ('dateAdd(now(), missing, "days")', None),
    ],
)
def test_date_add(text, expected):
    assert run(text) == expected


def test_date_add_refuses_bad_units_and_fractions():
    assert "dateAdd(): unknown unit 'fortnights'" in error_of('dateAdd(now(), 1, "fortnights")')
    assert "dateAdd(): unknown unit 'day'" in error_of('dateAdd(now(), 1, "day")')
    assert "the amount must be a whole number, got 1.5" in error_of('dateAdd(now(), 1.5, "days")')
    assert "the time must be a number, got string" in error_of('dateAdd("x", 1, "days")')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'dateDist({NOV_1_NY}, {NOV_1_23H_NY}, "days")', 0),  # still Nov 1 locally
        (f'dateDist({NOV_1_NY}, {NOV_2_NY}, "days")', 1),
        (f'dateDist({NOV_2_NY}, {NOV_1_NY}, "daily")', -1),
        (f'dateDist({NOV_1_NY}, {NOV_1_23H_NY}, "hours")', 24),
        (f'dateDist({OCT_31_NOON_UTC}, now(), "weeks")', 1),  # Saturday to Sunday
        (f'dateDist(now(), {NOV_4_NOON_UTC}, "weekly")', 0),
        (f'dateDist(now(), {DEC_1_NY}, "months")', 1),
        (f'dateDist({OCT_1_UTC}, now(), "months")', 2),  # Sep 30 local -> Nov 1
        (f'dateDist(now(), {JAN_1_2027_NY}, "quarters")', 1),
        (f'dateDist(now(), {JAN_1_2027_NY}, "years")', 1),
        ('dateDist(missing, now(), "days")', None),
    ],
)
def test_date_dist(text, expected):
    assert run(text) == expected


def test_date_dist_counts_calendar_days_in_utc_differently():
    # 2026-11-01T04:00Z and 2026-11-02T04:00Z are one UTC day apart but the same New York day.
    assert run(f'dateDist({NOV_1_NY}, {NOV_1_23H_NY}, "days")', UTC) == 1


@pytest.mark.parametrize(
    ("layout", "moment", "expected"),
    [
        ("2006-01-02 15:04:05", NOW, "2026-11-01 07:00:00"),
        ("Mon Jan 2 15:04:05 MST 2006", NOW, "Sun Nov 1 07:00:00 EST 2026"),
        ("Monday, January _2 06 3:04PM", NOW, "Sunday, November  1 26 7:00AM"),
        ("03 pm", NOW, "07 am"),
        ("1/2/06", NOW, "11/1/26"),
        ("002 __2", NOW, "305 305"),
        ("-0700 -07 -07:00 Z0700", NOW, "-0500 -05 -05:00 -0500"),
        ("15:04 MST -07:00", NOV_1_NY, "00:00 EDT -04:00"),  # before the clocks fell back
        ("2006-01-02T15:04:05.000Z07:00", AFTERNOON_MS, "2026-11-01T11:30:45.123-05:00"),
        ("05.999", AFTERNOON_MS - 3, "45.12"),  # .999 trims trailing zeros
        ("05.999", AFTERNOON_MS - 123, "45"),
        ("05,00", AFTERNOON_MS, "45,12"),
        ("Janet Monkey", NOW, "Janet Monkey"),  # Jan/Mon followed by lowercase stay literal
        ("week of Jan 2", NOW, "week of Nov 1"),
        ("report_2006_01", NOW, "report_2026_11"),
    ],
)
def test_format_time_go_layouts_in_new_york(layout, moment, expected):
    assert run(f'formatTime("{layout}", {moment})') == expected


def test_format_time_in_utc():
    assert run('formatTime("2006-01-02T15:04:05Z07:00 MST", now())', UTC) == (
        "2026-11-01T12:00:00Z UTC"
    )
    assert run('formatTime("3PM", now())', UTC) == "12PM"


def test_format_time_nulls_and_errors():
    assert run('formatTime("2006", missing)') is None
    assert "formatTime(): the layout must be a string, got number" in error_of(
        "formatTime(5, now())"
    )


# ------------------------------------------------------------------------------------- Pendo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('identified("v1")', True),
        ('identified("_PENDO_T_abc123")', False),
        ('identified("PENDO_Tabc123")', False),  # reference 6.13: both prefixes are documented
        ('identified("")', False),
        ("identified(missing)", False),
        ("!identified(visitorId)", False),
    ],
)
def test_identified(text, expected):
    assert run(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The CRC-32 check values: "" -> 0, "a" -> 0xe8b7be43, "123456789" -> 0xcbf43926.
        ('hash("")', 0),
        ('hash("a")', 0xE8B7BE43),
        ('hash("123456789")', 0xCBF43926),
        ("hash(123456789)", 0xCBF43926),  # numbers hash as their text
        ("hash(missing)", None),
    ],
)
def test_hash_is_crc32_of_the_text(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('childAccountId("acme::emea")', "emea"),
        ('parentAccountId("acme::emea")', "acme"),
        ('childAccountId("solo")', "solo"),
        ('parentAccountId("solo")', None),
        ('parentAccountId("a::b::c")', "a"),
        ('childAccountId("a::b::c")', "b::c"),
        ("childAccountId(missing)", None),
    ],
)
def test_parent_and_child_account_ids(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('expandAppIds("*")', [WEB, IOS, ANDROID, EXTENSION]),
        ('expandAppIds("web")', [WEB]),
        ('expandAppIds("mobile")', [IOS, ANDROID]),
        ('expandAppIds("android")', [ANDROID]),
        ('expandAppIds("web|ios")', [WEB, IOS]),
        ('expandAppIds("extension|web")', [WEB, EXTENSION]),  # in the order of the apps
        ('contains(expandAppIds("mobile"), 222)', True),
    ],
)
def test_expand_app_ids(text, expected):
    assert run(text) == expected


def test_expand_app_ids_refuses_unknown_filters():
    message = error_of('expandAppIds("web|desktop")')
    assert "expandAppIds(): unknown app filter 'desktop'" in message
    assert "at position 13" in message  # the argument, caught at compile time
    assert "unknown app filter 'tv'" in error_of("expandAppIds(kind)", row={"kind": "tv"})


def test_identified_of_many_ids_agrees_with_the_function():
    ids = ["v1", "", "_PENDO_T_abc", "PENDO_Tx", "pendo_t_lower", "x_PENDO_T_", "PENDO_T",
           " _PENDO_T_", "12"]  # fmt: skip
    one_by_one = [_identified(None, visitor_id) for visitor_id in ids]
    assert identified_ids(pd.Index(ids)).tolist() == one_by_one
    assert one_by_one == [True, False, False, False, True, True, False, True, True]
