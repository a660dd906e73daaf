"""The real people and customers of a subscription, found wherever they appear in a text.

A :class:`KnownValues` holds real values (visitor and account ids, e-mail addresses, their local
parts and company domains, person and account names; in strict mode any metadata text) with
their kind, and finds them in any string: equal to one (whatever the case), or containing one
(an e-mail's local part, a name inside a longer text). Both the pseudonymizer (which replaces
what it finds) and the leak scan (which reports it) use it, so they agree on what counts as a
real value.

Matching rules, chosen to catch what a pipeline derives from a value (``toLowerCase``,
``split``, a concatenation) without rewriting ordinary words:

* equal, case-insensitively: any known value of at least :data:`MIN_EQUAL` characters;
* contained: values of at least :data:`MIN_CONTAINED` characters, only where the match is not
  glued to a letter or digit on either side (``ada.kim`` is found in ``ada.kim@x.example`` and
  in ``"by Ada Kim"``, visitor ``12345`` is not found in ``123456``). Shorter values (a two-letter
  name, the id ``42``) would match inside ordinary words and numbers, so they count only when a
  whole string equals them;
* free text learned in strict mode (kind ``text``) counts only when a whole string equals it:
  a department called "Engineering" must not rewrite a page called "Engineering dashboard";
* a person's name is learned when it has two words at least (``Ada Kim``): a first name alone
  (``Grace``) or a one-word display name (``Admin``, ``Test``) is an ordinary word elsewhere.
  Such values are still replaced in their own field (by the pseudonymizer's field rules);
* generic mailbox names (``admin@``, ``info@``...) are not learned as local parts: they are
  words (a role called ``admin``), not people; public mail providers (``gmail.com``...) are not
  learned as domains, while a company's own domain (``acme.com``) is: it names the customer.

Finding values inside a text costs a few hash lookups per word of the text, whatever the number
of known values: a match must start and end at a boundary, so only the spans between boundaries
(that start like a known value) are looked up.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

__all__ = [
    "EMAIL",
    "MIN_CONTAINED",
    "MIN_EQUAL",
    "KnownValues",
    "people_values",
    "strings_of_answer",
    "strings_of_json",
]

#: Shortest value that counts when a whole string equals it.
MIN_EQUAL = 2
#: Shortest value that counts inside a longer string.
MIN_CONTAINED = 4

EMAIL = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[A-Za-z]{2,}")
# Shared mailboxes: their local part is a word, not a person.
_GENERIC_MAILBOXES = frozenset(
    {
        "admin", "administrator", "billing", "contact", "dev", "help", "hello", "info", "it",
        "mail", "marketing", "no-reply", "noreply", "office", "ops", "root", "sales",
        "security", "support", "team", "test", "user", "webmaster",
    }
)  # fmt: skip
# Mail providers anyone uses: their name says nothing about whom a person works for.
_PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "aol.com", "example.com", "gmail.com", "gmx.de", "gmx.net", "googlemail.com",
        "hotmail.com", "icloud.com", "live.com", "mail.com", "me.com", "msn.com",
        "outlook.com", "proton.me", "protonmail.com", "qq.com", "web.de", "yahoo.com",
        "yandex.ru",
    }
)  # fmt: skip
# Fields of a visitor or account row whose text names a person.
NAME_FIELDS = frozenset(
    {"first", "last", "firstname", "lastname", "fullname", "full_name", "username"}
)
# The kinds whose values are searched inside longer strings (free text only counts when equal).
_CONTAINED_KINDS = frozenset(
    {"visitor", "account", "email", "local", "domain", "name", "account name"}
)


class KnownValues:
    """Real values by kind, found in any string (see the module docstring for the rules)."""

    def __init__(self) -> None:
        self._kinds: dict[str, tuple[str, str]] = {}  # casefolded value -> (kind, value)
        self._contained: set[str] = set()  # casefolded values searched inside texts
        self._heads: set[str] = set()  # their first MIN_CONTAINED characters
        self._longest = 0

    def __len__(self) -> int:
        return len(self._kinds)

    def add(self, value: Any, kind: str) -> None:
        """Know ``value`` as a real value of ``kind``; the first kind given for a value wins."""
        if not isinstance(value, str) or len(value.strip()) < MIN_EQUAL:
            return
        folded = value.casefold()
        if folded in self._kinds:
            return
        self._kinds[folded] = (kind, value)
        if kind in _CONTAINED_KINDS and len(folded) >= MIN_CONTAINED:
            self._contained.add(folded)
            self._heads.add(folded[:MIN_CONTAINED])
            self._longest = max(self._longest, len(folded))

    def kind_of(self, value: str) -> str | None:
        """The kind of a known value (any case), or None."""
        known = self._kinds.get(value.casefold())
        return known[0] if known else None

    def equal(self, text: str) -> tuple[str, str] | None:
        """``(kind, known value)`` when the whole ``text`` is a known value (any case)."""
        return self._kinds.get(text.casefold())

    def find(self, text: str) -> Iterator[tuple[int, int, str, str]]:
        """Each known value inside ``text``: ``(start, end, kind, known value)``, left to right,
        the longest where several start at the same place.

        A match starts and ends at a boundary (not glued to a letter or digit), so only the
        spans between boundaries are looked up, in a hash set: nothing is compiled, however
        many values are known (a regular expression over 400,000 values took 100 s to compile).
        """
        if len(text) < MIN_CONTAINED or not self._contained:
            return
        folded = text.casefold()
        if len(folded) != len(text):  # a letter folds to several (ß -> ss): keep such letters
            folded = "".join(c.casefold() if len(c.casefold()) == 1 else c for c in text)
        ends = [match.start() for match in _END.finditer(text)]
        done = 0
        for match in _START.finditer(text):
            start = match.start()
            if start < done or folded[start : start + MIN_CONTAINED] not in self._heads:
                continue
            first = bisect.bisect_left(ends, start + MIN_CONTAINED)
            last = bisect.bisect_right(ends, start + self._longest)
            for end in reversed(ends[first:last]):  # the longest first
                found = (
                    self._kinds.get(folded[start:end])
                    if folded[start:end] in self._contained
                    else None
                )
                if found is not None:
                    yield start, end, found[0], found[1]
                    done = end
                    break


# Where a known value may start: not right after a letter or digit; and end: not before one.
_START = re.compile(r"(?<![^\W_])(?=.)", re.DOTALL)
_END = re.compile(r"(?![^\W_])")


def people_values(
    visitors: Iterable[Any],
    accounts: Iterable[Any],
    *,
    text_fields: Callable[[str, str], bool] | None = None,
) -> Iterator[tuple[str, str]]:
    """``(value, kind)`` of every real id, e-mail, local part and name in visitor and account rows
    (as the ``visitors`` and ``accounts`` sources return them).

    ``text_fields(group, field)`` says which other metadata fields' strings are learned too, as
    kind ``text`` (strict mode).
    """
    for rows, owner in ((visitors, "visitor"), (accounts, "account")):
        for row in rows:
            if not isinstance(row, dict):
                continue
            yield from _ids(row.get(f"{owner}Id"), owner)
            metadata = row.get("metadata")
            for group, fields in (metadata or {}).items() if isinstance(metadata, dict) else ():
                for field, value in (fields or {}).items() if isinstance(fields, dict) else ():
                    yield from _metadata_values(owner, group, field, value, text_fields)


def _ids(value: Any, owner: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield from _email_parts(value) if EMAIL.fullmatch(value) else ((value, owner),)


def _email_parts(value: str) -> Iterator[tuple[str, str]]:
    yield value, "email"
    local, domain = value.rsplit("@", 1)
    if local.casefold() not in _GENERIC_MAILBOXES:
        yield local, "local"
    if domain.casefold() not in _PUBLIC_MAIL_DOMAINS:
        yield domain, "domain"  # a company's own domain names the customer


def _metadata_values(
    owner: str,
    group: str,
    field: str,
    value: Any,
    text_fields: Callable[[str, str], bool] | None,
) -> Iterator[tuple[str, str]]:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str) or not item:
            continue
        lowered = field.lower()
        if EMAIL.fullmatch(item):
            yield from _email_parts(item)
        elif lowered in ("id", "visitorid", "accountid", "accountids") and group == "auto":
            yield item, "account" if lowered.startswith("account") or owner == "account" else owner
        elif owner == "account" and lowered == "name":
            yield item, "account name"
        elif lowered == "name" or lowered in NAME_FIELDS:
            if len(item.split()) >= 2:  # a full name; "Ada" or "Admin" alone are words
                yield item, "name"
        elif text_fields is not None and text_fields(group, field):
            yield item, "text"


def strings_of_answer(content: bytes, content_type: str) -> Iterator[tuple[str, str]]:
    """Every string of an answer's body with the field it sits in: ``(field, text)``.

    JSON: every string value at any depth (list items too) and every object key, the field being
    the dotted path of keys (``metadata.agent.name``; ``(key)`` for a key itself). CSV: every
    cell, the field being its column's title. Other bodies yield nothing. This is the one reader
    the leak scan uses for answers, whatever holds them (a snapshot's answers; an extract's JSON
    text cells go through :func:`strings_of_json`).
    """
    if content_type.startswith("text/csv"):
        rows = csv.reader(io.StringIO(content.decode("utf-8", "replace")))
        titles = next(rows, [])
        yield from (("(title)", title) for title in titles)
        for row in rows:
            for index, cell in enumerate(row):
                yield (titles[index] if index < len(titles) else f"column {index}"), cell
        return
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError:
        return
    yield from strings_of_json(document)


def strings_of_json(value: Any, field: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON value with its dotted field path (under ``field``):
    ``(field, text)``, object keys as ``field.(key)``."""
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, list):
        for item in value:
            yield from strings_of_json(item, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{field}.(key)" if field else "(key)", key
            yield from strings_of_json(item, f"{field}.{key}" if field else key)
