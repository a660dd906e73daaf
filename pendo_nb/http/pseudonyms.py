"""Stable fake values for the people and customers in a recording.

While a session records with ``pseudonymize=True``, every answer is rewritten before the notebook
sees it and before it is stored, so the notebook's outputs and the snapshot hold the same fake
values, and the same real value always becomes the same fake one (joins and group-bys agree).
Fakes are keyed hashes with a secret made for the session; the fake -> real mapping stays in
memory, so an id the notebook passes back (``pn.visitor(fake_id)``) is sent as the real one, and
nothing in the file leads back to a person.

What is replaced, in two passes over each answer:

1. By field name, in JSON answers: ids (``visitorId``, ``accountId``, ``accountIds``,
   ``parentAccountId`` and the auto metadata's lower-case copies, the ``id`` of a visitor or
   account object, and any field a ``select`` copied from one of those); e-mail addresses (any
   string that is one); names (``first``, ``last``, ``firstname``, ``lastname``, ``fullname``,
   ``username`` anywhere, ``name`` inside ``metadata`` or selected from there: an account's name
   becomes ``Account-…``, a person's ``Name-…``); fields listed in ``mask`` become null; the
   ``sample`` values of metadata schemas become null. In CSV answers, the columns titled as
   visitor or account ids.
2. Known values, in every string of every answer (JSON and CSV, any field, any depth, list items,
   object keys): the real ids, e-mail addresses, their local parts, person and account names of
   the subscription (learned up front from the ``visitors`` and ``accounts`` sources, see
   :meth:`Pseudonymizer.learn`, and from every answer) found equal to a string, in another case,
   or inside it (:mod:`pendo_nb.http.known_values` has the rules). Each is replaced by its own
   stable fake, so ``toLowerCase(visitorId)``, ``split(visitorId, "@")`` or a name inside a
   longer text carry fakes, never the real value.

``strict=True`` (``pseudonymize="strict"``) also replaces, by ``Text-…`` fakes, every string that
comes from visitor or account metadata (under a ``metadata`` object, or a result field whose
pipeline step reads metadata, poll responses or ids: ``eval``, ``select``, group keys and
aggregators), free-text poll responses, and any string equal to a metadata value learned up
front, except the fields listed in ``keep`` and known-safe kinds: browser, operating system,
server and user-agent fields, pick-list answer ids, and catalog names (of the pages, features,
guides and track types the session fetched).
"""

from __future__ import annotations

import csv
import hmac
import io
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from pendo_nb.http.known_values import EMAIL, NAME_FIELDS, KnownValues, people_values

__all__ = ["Pseudonymizer"]

# Pendo writes the auto metadata's copies of the ids in lower case (metadata.auto.accountid).
_ID_KEYS = {
    "visitorId": "visitor",
    "visitorIds": "visitor",
    "visitorid": "visitor",
    "accountId": "account",
    "accountIds": "account",
    "accountid": "account",
    "accountids": "account",
    "parentAccountId": "account",
}
_ANONYMOUS_PREFIX = "_PENDO_T_"
_FAKE_PREFIXES = {
    "visitor": "visitor-",
    "account": "account-",
    "local": "person-",
    "domain": "domain-",
    "name": "Name-",
    "account name": "Account-",
    "text": "Text-",
}
# Every fake this module makes: one of its prefixes, the digest, and an e-mail's or a domain's end.
_FAKE_TOKEN = re.compile(
    "(?:" + "|".join(map(re.escape, (_ANONYMOUS_PREFIX, *_FAKE_PREFIXES.values()))) + ")"
    r"[0-9a-f]{10}(?:@example\.com|\.example)?",
    re.IGNORECASE,
)
_CSV_ID_TITLES = {
    "visitorid": "visitor",
    "visitor id": "visitor",
    "visitor": "visitor",
    "accountid": "account",
    "account id": "account",
    "account": "account",
}
# Strict mode keeps these: what a browser, a system or a server is called names nobody.
_SAFE_FIELDS = frozenset(
    {
        "lastbrowsername", "lastbrowserversion", "lastoperatingsystem", "lastservername",
        "lastuseragent", "browsername", "browserversion", "operatingsystem", "useragent",
        "server", "servername",
    }
)  # fmt: skip
_CATALOG_PATHS = frozenset({"/page", "/feature", "/guide", "/tracktype"})
# What a pipeline step reads that makes its outputs personal in strict mode.
_PERSONAL_SOURCE = re.compile(r"\bmetadata\b|\bpollResponse\b|\bvisitorId\b|\baccountIds?\b")
_LABELS = {
    "visitor": "visitor ids",
    "account": "account ids",
    "email": "e-mail addresses",
    "local": "e-mail local parts",
    "domain": "e-mail domains",
    "name": "names",
    "account name": "account names",
    "text": "texts",
}
_NUMBER_OR_DATE = re.compile(
    r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|\d{4}-\d\d-\d\d(?:[ T][\d:.]+(?:Z|[+-][\d:]+)?)?",
    re.IGNORECASE,
)
_REPORT_RESULTS = re.compile(r"^/report/([^/]+)/results\.(?:json|csv)$")
_CACHE_LIMIT = 100_000


class Pseudonymizer:
    """Rewrites answers to fake values, and requests back to real ones, for one session.

    Parameters
    ----------
    mask : iterable of str
        Metadata fields (by name) whose values become null.
    strict : bool
        Also replace every metadata text, poll text and what is computed from them.
    keep : iterable of str
        Fields (by name or dotted path) that strict mode leaves as they are.
    """

    def __init__(
        self, mask: Iterable[str] = (), *, strict: bool = False, keep: Iterable[str] = ()
    ) -> None:
        self._secret = secrets.token_bytes(32)
        self._real: dict[str, tuple[str, str]] = {}  # casefolded fake -> (real, fake)
        self._fake: dict[tuple[str, str], str] = {}
        self.mask = frozenset(mask)
        self.strict = strict
        self.keep = frozenset(keep)
        self.known = KnownValues()
        self.learned = False
        self.masked: Counter[str] = Counter()
        # (field, "replaced" | "masked" | "kept") -> how many values
        self.fields: Counter[tuple[str, str]] = Counter()
        self._safe_texts: set[str] = set()  # casefolded catalog names
        self._report_pipelines: dict[str, Any] = {}
        self._replaced_texts: dict[str, str] = {}
        self._cached_for = -1
        self._learning = threading.Lock()

    # -- learning ----------------------------------------------------------------------------

    def learn_once(self, rows: Callable[[], tuple[list[Any], list[Any]]]) -> None:
        """:meth:`learn` from ``rows()`` (the visitors and accounts rows), the first time only:
        parallel requests (windows) wait for one another here rather than fetch twice."""
        with self._learning:
            if not self.learned:
                self.learn(*rows())

    def learn(self, visitors: Iterable[Any], accounts: Iterable[Any]) -> None:
        """Know every real id, e-mail and name of these ``visitors`` / ``accounts`` source rows
        (every metadata text too, in strict mode, except kept and safe fields)."""

        def is_text_field(group: str, field: str) -> bool:
            return not self._kept(field, f"metadata.{group}.{field}") and group != "auto"

        for value, kind in people_values(
            visitors, accounts, text_fields=is_text_field if self.strict else None
        ):
            self.known.add(value, kind)
        self.learned = True

    # -- values ------------------------------------------------------------------------------

    def fake(self, category: str, real: Any) -> Any:
        """The fake value of ``real`` in ``category`` (visitor, account, email, local, name,
        account name, text); a value already known keeps the kind it was learned with."""
        if not isinstance(real, str) or not real or real.casefold() in self._real:
            return real  # not a value to hide, or one of our own fakes
        known = self.known.equal(real)
        if known is not None and (known[0] != "text" or category == "text"):
            category, real = known  # the same fake for every case of one real value
        elif category == "visitor" and EMAIL.fullmatch(real):
            category = "email"
        fake = self._fake.get((category, real))
        if fake is not None:
            return fake
        digest = hmac.new(self._secret, f"{category}\0{real}".encode(), "sha256").hexdigest()[:10]
        if category == "email":
            fake = f"person-{digest}@example.com"
        elif category == "domain":
            fake = f"domain-{digest}.example"
        elif category == "visitor" and real.startswith(_ANONYMOUS_PREFIX):
            fake = _ANONYMOUS_PREFIX + digest
        else:
            fake = _FAKE_PREFIXES[category] + digest
        self._fake[(category, real)] = fake
        self._real[fake.casefold()] = (real, fake)
        self.known.add(real, category)
        return fake

    def real_text(self, text: str) -> str:
        """``text`` with every fake value of this session replaced by its real one.

        A fake passed back in another case (``toLowerCase`` of a name) becomes the real value in
        that case: the value the server computes from the real one.
        """

        def real(match: re.Match[str]) -> str:
            token = match.group(0)
            known = self._real.get(token.casefold())
            if known is None:
                return token
            value, fake = known
            if token != fake and token == token.lower():
                return value.lower()
            if token != fake and token == token.upper():
                return value.upper()
            return value

        return _FAKE_TOKEN.sub(real, text)

    def real_value(self, value: Any) -> Any:
        """A JSON value with the fake values in its strings (keys too) replaced by real ones."""
        if isinstance(value, str):
            return self.real_text(value)
        if isinstance(value, list):
            return [self.real_value(item) for item in value]
        if isinstance(value, dict):
            return {self.real_text(k): self.real_value(v) for k, v in value.items()}
        return value

    def summary(self) -> dict[str, Any]:
        """How many distinct values of each kind were replaced, which fields were masked, and
        per field how many values were replaced, masked or kept."""
        counts = Counter(category for category, _ in self._fake)
        per_field: dict[str, dict[str, int]] = {}
        for (field, action), count in sorted(self.fields.items()):
            per_field.setdefault(field, {"replaced": 0, "masked": 0, "kept": 0})[action] = count
        return {
            "mode": "strict" if self.strict else "known values",
            **{label: counts[kind] for kind, label in _LABELS.items()},
            "masked fields": sorted(self.masked),
            "kept fields": sorted(self.keep),
            "fields": per_field,
        }

    # -- answers -----------------------------------------------------------------------------

    def answer(self, content: bytes, content_type: str, path: str, request: Any) -> bytes:
        """An answer's body with people replaced by fakes (other bodies unchanged)."""
        report = _REPORT_RESULTS.match(path)
        if report is not None:  # a report's results: read with its pipeline, seen in /report
            request = {"request": {"pipeline": self._report_pipelines.get(report.group(1))}}
        tainted = _personal_outputs(request)
        if content_type.startswith("text/csv"):
            return self._csv(content, tainted)
        try:
            document = orjson.loads(content)
        except orjson.JSONDecodeError:  # an error's text, or any other body: still checked
            return self._replaced(content.decode("utf-8", "replace"), free_text=False).encode()
        if path in _CATALOG_PATHS:
            self._remember_catalog(document)
        if path == "/report":
            self._remember_reports(document)
        top = "visitor" if path.startswith("/visitor/") else None
        top = "account" if path.startswith("/account/") else top
        top = "schema" if path.startswith("/metadata/schema/") else top
        aliases = _selected_aliases(request, self.mask)
        owner = "account" if top == "account" or _source_of(request) == "accounts" else "visitor"
        by_name = self._json(document, (), top, aliases, owner)
        results = path == "/aggregation" or report is not None
        return orjson.dumps(self._texts(by_name, (), tainted, results=results))

    def scrubbed(self, value: Any) -> Any:
        """A request as kept in the file (its path, query or body), with any real value the
        notebook typed in it (a filter on a real e-mail) replaced by its fake. Requests are
        matched by a hash of what was sent, so a replay still finds its answer."""
        if isinstance(value, str):
            return self._replaced(value, free_text=False) if value else value
        if isinstance(value, list):
            return [self.scrubbed(item) for item in value]
        if isinstance(value, dict):
            return {self.scrubbed(key): self.scrubbed(item) for key, item in value.items()}
        return value

    def _remember_catalog(self, document: Any) -> None:
        for item in document if isinstance(document, list) else ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                self._safe_texts.add(item["name"].casefold())

    def _remember_reports(self, document: Any) -> None:
        for report in document if isinstance(document, list) else ():
            pipeline = (report.get("aggregation") or {}) if isinstance(report, dict) else {}
            if isinstance(pipeline, dict) and "pipeline" in pipeline:
                self._report_pipelines[str(report.get("id"))] = pipeline["pipeline"]

    # pass 1: by field name

    def _json(
        self,
        value: Any,
        trail: tuple[str, ...],
        top: str | None,
        aliases: Mapping[str, str],
        owner: str,
    ) -> Any:
        if isinstance(value, list):
            return [self._json(item, trail, top, aliases, owner) for item in value]
        if isinstance(value, dict):
            if "accountId" in value and "visitorId" not in value and "metadata" in value:
                owner = "account"  # an account row, or an account an expand brought in
            elif "visitorId" in value and "metadata" in value:
                owner = "visitor"
            return {
                key: self._field(key, item, trail, top, aliases, owner)
                for key, item in value.items()
            }
        if isinstance(value, str) and EMAIL.fullmatch(value):
            self._count(trail, "replaced")
            return self.fake("email", value)
        return value

    def _field(
        self,
        key: str,
        value: Any,
        trail: tuple[str, ...],
        top: str | None,
        aliases: Mapping[str, str],
        owner: str,
    ) -> Any:
        in_metadata = "metadata" in trail
        if top == "schema" and key == "sample":
            return None
        if key == "pipeline":
            return value  # a report's definition: field names, not values (pass 2 reads it)
        category = _ID_KEYS.get(key)
        if category is None and key == "id" and top in ("visitor", "account") and len(trail) <= 1:
            category = top  # the id of the visitor/account object itself (or of a results row)
        if category is None and len(trail) <= 1:  # a result row's own fields (or the object's)
            category = aliases.get(key)
        is_name = key.lower() in NAME_FIELDS and not _in_time_range(trail)
        if category is None and (is_name or (key == "name" and in_metadata)):
            category = "account name" if owner == "account" and key == "name" else "name"
        if category == "name" and owner == "account" and key == "name":
            category = "account name"
        if (in_metadata and key in self.mask) or category == "masked":
            self.masked[aliases.get(f"{key} from", key)] += 1
            self._count((*trail, key), "masked")
            return None
        if category is not None and isinstance(value, list | str) and value:
            self._count((*trail, key), "replaced", len(value) if isinstance(value, list) else 1)
            if isinstance(value, list):
                return [self.fake(category, item) for item in value]
            return self.fake(category, value)
        return self._json(value, (*trail, key), top, aliases, owner)

    # pass 2: every string, against the known values (and strict mode's rules)

    def _texts(
        self, value: Any, trail: tuple[str, ...], tainted: frozenset[str], *, results: bool
    ) -> Any:
        if isinstance(value, str):
            return self._text(value, trail, tainted, results=results)
        if isinstance(value, list):
            return [self._texts(item, trail, tainted, results=results) for item in value]
        if isinstance(value, dict):
            return {
                self._text(key, (*trail, "(key)"), tainted, results=results): self._texts(
                    item, (*trail, key), tainted, results=results
                )
                for key, item in value.items()
            }
        return value

    def _text(
        self, text: str, trail: tuple[str, ...], tainted: frozenset[str], *, results: bool
    ) -> str:
        if not text or _FAKE_TOKEN.fullmatch(text):
            return text
        row_trail = _row_trail(trail)
        personal = trail[-1:] != ("(key)",) and (
            "metadata" in trail
            or (bool(row_trail) and row_trail[0] in tainted)
            or trail[-1:] == ("pollResponse",)
        )
        if personal and self.strict and not self._kept(trail[-1], ".".join(row_trail)):
            if not _safe_value(text):  # the whole text, even where a known value is inside it
                self._count(trail, "replaced")
                return str(self.fake("text", text))
        replaced = self._replace_known(text, free_text=results)
        if replaced != text:
            self._count(trail, "replaced")
            return replaced
        if personal:
            self._count(trail, "kept")
        return text

    def _replace_known(self, text: str, *, free_text: bool) -> str:
        """``text`` with every known value in it replaced by its fake."""
        if self._cached_for != len(self.known) or len(self._replaced_texts) > _CACHE_LIMIT:
            self._replaced_texts.clear()
            self._cached_for = len(self.known)
        cache_key = f"{free_text:d}{text}"
        cached = self._replaced_texts.get(cache_key)
        if cached is not None:
            return cached
        replaced = self._replaced(text, free_text=free_text)
        self._replaced_texts[cache_key] = replaced
        return replaced

    def _replaced(self, text: str, *, free_text: bool) -> str:
        whole = self.known.equal(text)
        if whole is not None and (whole[0] != "text" or self._free_text_applies(text, free_text)):
            return str(self.fake(whole[0], whole[1]))
        fakes: list[tuple[int, int]] | None = None  # where fakes are, once a value is found
        pieces, last = [], 0
        for start, end, kind, value in self.known.find(text):
            if fakes is None:
                fakes = [match.span() for match in _FAKE_TOKEN.finditer(text)]
            if start < last or any(s < end and start < e for s, e in fakes):
                continue  # inside a fake, or overlapping a value already replaced
            pieces += [text[last:start], self.fake(kind, value)]
            last = end
        return "".join(pieces) + text[last:] if pieces else text

    def _free_text_applies(self, text: str, free_text: bool) -> bool:
        """Whether a string equal to a metadata text learned in strict mode is replaced: in
        results of aggregations and reports, unless it is a catalog name."""
        return free_text and text.casefold() not in self._safe_texts

    def _kept(self, leaf: str, field: str) -> bool:
        return leaf in self.keep or field in self.keep or leaf.lower() in _SAFE_FIELDS

    def _count(self, trail: tuple[str, ...], action: str, count: int = 1) -> None:
        self.fields[".".join(_row_trail(trail)) or "(value)", action] += count

    def _csv(self, content: bytes, tainted: frozenset[str]) -> bytes:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        if not rows:
            return content
        titles = rows[0]
        categories = [_CSV_ID_TITLES.get(title.strip().lower()) for title in titles]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [self._text(title, ("(title)",), frozenset(), results=True) for title in titles]
        )
        for row in rows[1:]:
            cells = []
            for index, cell in enumerate(row):
                title = titles[index] if index < len(titles) else f"column {index}"
                category = categories[index] if index < len(categories) else None
                if category and cell:
                    self._count((title,), "replaced")
                    cells.append(self.fake(category, cell))
                elif EMAIL.fullmatch(cell):
                    self._count((title,), "replaced")
                    cells.append(self.fake("email", cell))
                else:
                    cells.append(self._text(cell, (title,), tainted, results=True))
            writer.writerow(cells)
        return out.getvalue().encode("utf-8")


def _row_trail(trail: tuple[str, ...]) -> tuple[str, ...]:
    """The path of a field inside a result row (aggregations wrap rows in ``results``)."""
    return trail[1:] if trail[:1] == ("results",) else trail


def _safe_value(text: str) -> bool:
    """A value strict mode keeps whatever its field: a number, a boolean or a date written as
    text (a CSV cell), a pick-list answer's id."""
    return bool(_NUMBER_OR_DATE.fullmatch(text.strip()))


def _in_time_range(trail: tuple[str, ...]) -> bool:
    """Whether a field sits in a time series or date range (whose ``first`` is a time)."""
    return any(key.lower().endswith(("timeseries", "daterange", "dateranges")) for key in trail)


def _pipeline(request: Any) -> list[Any]:
    pipeline = request.get("request", {}).get("pipeline") if isinstance(request, dict) else None
    return pipeline if isinstance(pipeline, list) else []


def _source_of(request: Any) -> str | None:
    """The source a pipeline reads (``visitors``, ``accounts``...), or None."""
    first = next(iter(_pipeline(request)), None)
    source = first.get("source") if isinstance(first, dict) else None
    return next((key for key in source if key != "timeSeries"), None) if source else None


def _personal_outputs(request: Any) -> frozenset[str]:
    """Result fields a pipeline computes from metadata, poll responses or ids (strict mode).

    Any step's argument that names one (directly, or a field computed from one earlier) makes
    the field it defines personal: ``select`` and ``eval`` outputs, group keys, aggregator
    outputs. Over-marking is safe: only strings are replaced, never numbers or booleans.
    """
    tainted: set[str] = set()

    def mentions(value: Any) -> bool:
        if isinstance(value, str):
            names = re.findall(r"[A-Za-z_][\w]*", value)
            return bool(_PERSONAL_SOURCE.search(value)) or any(name in tainted for name in names)
        if isinstance(value, list):
            return any(mentions(item) for item in value)
        if isinstance(value, dict):
            return any(mentions(item) for item in value.values())
        return False

    def visit(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str) and mentions(item):  # a group key
                    tainted.add(item.split(".", 1)[0])
                visit(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                if mentions(item):
                    tainted.add(key)
                visit(item)

    for step in _pipeline(request)[1:]:
        visit(step)
    return frozenset(tainted)


def _selected_aliases(request: Any, mask: frozenset[str]) -> dict[str, str]:
    """Result fields that a ``select`` (or ``eval``) copied from an id, name or masked field, by
    kind (``"masked"`` for a masked one; ``"<field> from"`` then names the metadata field)."""
    aliases: dict[str, str] = {}
    of_accounts = _source_of(request) == "accounts"
    for step in _pipeline(request):
        for operator in ("select", "eval"):
            spec = step.get(operator) if isinstance(step, dict) else None
            for output, source in spec.items() if isinstance(spec, dict) else ():
                if not isinstance(source, str):
                    continue
                leaf = source.rsplit(".", 1)[-1]
                if source.startswith("metadata.") and leaf in mask:
                    aliases[output], aliases[f"{output} from"] = "masked", leaf
                elif leaf in _ID_KEYS:
                    aliases[output] = _ID_KEYS[leaf]
                elif leaf == "name" and source.startswith("metadata."):
                    aliases[output] = "account name" if of_accounts else "name"
                elif leaf.lower() in NAME_FIELDS:
                    aliases[output] = "name"
    return aliases
