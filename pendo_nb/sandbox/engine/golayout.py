"""Go reference-time layouts (``"2006-01-02 15:04:05"``) for ``formatTime`` (reference 3.7).

Go describes a format by writing the reference time Mon Jan 2 15:04:05 MST 2006 the way it should
look. :func:`compile_layout` splits a layout into literal text and field directives once, in the
order Go's ``time`` package recognises them (``January`` before ``Jan``, ``2006`` before ``2``,
``Jan``/``Mon`` only when not followed by a lowercase letter), and :func:`format_time` renders a
datetime with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Directive = Callable[[datetime], str]


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


def _offset(
    moment: datetime, colon: bool, seconds: bool, z_for_utc: bool, minutes: bool = True
) -> str:
    delta = moment.utcoffset()
    total = int(delta.total_seconds()) if delta is not None else 0
    if z_for_utc and total == 0:
        return "Z"
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hours, rest = divmod(total, 3600)
    mins, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}"
    separator = ":" if colon else ""
    if minutes:
        text += f"{separator}{mins:02d}"
    if seconds:
        text += f"{separator}{secs:02d}"
    return text


def _zone_name(moment: datetime) -> str:
    name = moment.tzname() or ""
    # Go prints a numeric offset when the zone has no alphabetic abbreviation.
    return name if name[:1].isalpha() else _offset(moment, False, False, False)


# Longest-first within each leading character, as Go's nextStdChunk checks them.
_TOKENS: list[tuple[str, Directive]] = [
    ("January", lambda m: _MONTHS[m.month - 1]),
    ("Jan", lambda m: _MONTHS[m.month - 1][:3]),
    ("Monday", lambda m: _DAYS[m.weekday()]),
    ("Mon", lambda m: _DAYS[m.weekday()][:3]),
    ("MST", _zone_name),
    ("2006", lambda m: f"{m.year:04d}"),
    ("2", lambda m: str(m.day)),
    ("01", lambda m: f"{m.month:02d}"),
    ("02", lambda m: f"{m.day:02d}"),
    ("03", lambda m: f"{_hour12(m):02d}"),
    ("04", lambda m: f"{m.minute:02d}"),
    ("05", lambda m: f"{m.second:02d}"),
    ("06", lambda m: f"{m.year % 100:02d}"),
    ("002", lambda m: f"{m.timetuple().tm_yday:03d}"),
    ("__2", lambda m: f"{m.timetuple().tm_yday:>3d}"),
    ("_2006", lambda m: f"_{m.year:04d}"),  # Go reads "_2006" as "_" then the year
    ("_2", lambda m: f"{m.day:>2d}"),
    ("15", lambda m: f"{m.hour:02d}"),
    ("1", lambda m: str(m.month)),
    ("3", lambda m: str(_hour12(m))),
    ("4", lambda m: str(m.minute)),
    ("5", lambda m: str(m.second)),
    ("PM", lambda m: "PM" if m.hour >= 12 else "AM"),
    ("pm", lambda m: "pm" if m.hour >= 12 else "am"),
    ("-07:00:00", lambda m: _offset(m, True, True, False)),
    ("-0700", lambda m: _offset(m, False, False, False)),
    ("-07:00", lambda m: _offset(m, True, False, False)),
    ("-07", lambda m: _offset(m, False, False, False, minutes=False)),
    ("Z07:00:00", lambda m: _offset(m, True, True, True)),
    ("Z0700", lambda m: _offset(m, False, False, True)),
    ("Z07:00", lambda m: _offset(m, True, False, True)),
    ("Z07", lambda m: _offset(m, False, False, True, minutes=False)),
]
_MONTHS: list[str] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS: list[str] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NEEDS_WORD_END = frozenset({"Jan", "Mon"})  # "Janet" or "Monkey" stay literal text


def _fraction(digits: int, trim_zeros: bool, separator: str) -> Directive:
    def render(moment: datetime) -> str:
        nanos = f"{moment.microsecond:06d}000"[:digits]
        if trim_zeros:
            nanos = nanos.rstrip("0")
            return separator + nanos if nanos else ""
        return separator + nanos

    return render


def compile_layout(layout: str) -> list[str | Directive]:
    """Split a Go layout into literal strings and directives (functions of a datetime)."""
    parts: list[str | Directive] = []
    literal: list[str] = []
    i, n = 0, len(layout)
    while i < n:
        directive, width = _match_at(layout, i)
        if directive is None:
            literal.append(layout[i])
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(directive)
        i += width
    if literal:
        parts.append("".join(literal))
    return parts


def _match_at(layout: str, i: int) -> tuple[Directive | None, int]:
    ch = layout[i]
    if ch in ".," and i + 1 < len(layout) and layout[i + 1] in "09":
        digit = layout[i + 1]
        j = i + 1
        while j < len(layout) and layout[j] == digit:
            j += 1
        if j >= len(layout) or not layout[j].isdigit():
            return _fraction(j - i - 1, digit == "9", ch), j - i
    for token, directive in _TOKENS:
        if layout.startswith(token, i):
            end = i + len(token)
            if token in _NEEDS_WORD_END and end < len(layout) and layout[end].islower():
                continue
            return directive, len(token)
    return None, 0


def format_time(layout: str, moment: datetime) -> str:
    """Render an aware datetime with a Go layout, e.g. ``"Mon Jan 2 2006 15:04 MST"``."""
    return "".join(
        part if isinstance(part, str) else part(moment) for part in compile_layout(layout)
    )
