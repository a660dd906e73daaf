"""Stable fake values for the people in a recording: visitor and account ids, e-mails, names.

While a session records with ``pseudonymize=True``, every answer is rewritten before the notebook
sees it and before it is stored, so the notebook's outputs and the snapshot hold the same fake
values, and the same real value always becomes the same fake one (joins and group-bys agree).
Fakes are keyed hashes with a secret made for the session; the fake -> real mapping stays in
memory, so an id the notebook passes back (``pn.visitor(fake_id)``) is sent as the real one, and
nothing in the file leads back to a person.

What is replaced, in JSON answers:

* ids: the values of ``visitorId``, ``accountId``, ``accountIds``, ``parentAccountId`` (and the
  auto metadata's lower-case copies), the ``id`` of a visitor or account object, and any field
  a ``select`` copied from one of those;
* e-mail addresses: any string value that is one;
* names: ``first``, ``last``, ``firstname``, ``lastname``, ``fullname``, ``username``
  anywhere, and ``name`` inside ``metadata`` (or selected from there);
* then any other string equal to an id already replaced (``metadata.auto.id``, a group key...);
* fields listed in ``mask``: any metadata field of that name becomes null;
* the ``sample`` values of metadata schemas (real values of any field) become null.

In CSV answers (report contents), the columns titled as visitor or account ids and every cell
holding an e-mail address.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

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
_NAME_KEYS = frozenset(
    {"first", "last", "firstname", "lastname", "fullname", "full_name", "username"}
)
_EMAIL = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[A-Za-z]{2,}")
_ANONYMOUS_PREFIX = "_PENDO_T_"
_FAKE_TOKEN = re.compile(
    r"(?:_PENDO_T_|visitor-|account-|person-|Name-)[0-9a-f]{10}(?:@example\.com)?"
)
_CSV_ID_TITLES = {
    "visitorid": "visitor",
    "visitor id": "visitor",
    "visitor": "visitor",
    "accountid": "account",
    "account id": "account",
    "account": "account",
}


class Pseudonymizer:
    """Rewrites answers to fake values, and requests back to real ones, for one session."""

    def __init__(self, mask: Iterable[str] = ()) -> None:
        self._secret = secrets.token_bytes(32)
        self._real: dict[str, str] = {}
        self._fake: dict[tuple[str, str], str] = {}
        self.mask = frozenset(mask)
        self.masked: Counter[str] = Counter()

    # -- values ------------------------------------------------------------------------------

    def fake(self, category: str, real: Any) -> Any:
        """The fake value of ``real`` in ``category`` (visitor, account, email, name)."""
        if not isinstance(real, str) or not real or real in self._real:
            return real  # not a value to hide, or one of our own fakes
        known = self._fake.get((category, real))
        if known is not None:
            return known
        digest = hmac.new(self._secret, f"{category}\0{real}".encode(), "sha256").hexdigest()[:10]
        if category == "visitor":
            prefix = _ANONYMOUS_PREFIX if real.startswith(_ANONYMOUS_PREFIX) else "visitor-"
            fake = prefix + digest
        elif category == "account":
            fake = "account-" + digest
        elif category == "email":
            fake = f"person-{digest}@example.com"
        else:
            fake = "Name-" + digest
        self._fake[(category, real)] = fake
        self._real[fake] = real
        return fake

    def real_text(self, text: str) -> str:
        """``text`` with every fake value of this session replaced by its real one."""
        return _FAKE_TOKEN.sub(lambda m: self._real.get(m.group(0), m.group(0)), text)

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
        """How many distinct values of each kind were replaced, and which fields were masked."""
        counts = Counter(category for category, _ in self._fake)
        return {
            "visitor ids": counts["visitor"],
            "account ids": counts["account"],
            "e-mail addresses": counts["email"],
            "names": counts["name"],
            "masked fields": sorted(self.masked),
        }

    # -- answers -----------------------------------------------------------------------------

    def answer(self, content: bytes, content_type: str, path: str, request: Any) -> bytes:
        """An answer's body with people replaced by fakes (other bodies unchanged)."""
        if content_type.startswith("text/csv"):
            return self._csv(content)
        try:
            document = orjson.loads(content)
        except orjson.JSONDecodeError:
            return content
        top = "visitor" if path.startswith("/visitor/") else None
        top = "account" if path.startswith("/account/") else top
        top = "schema" if path.startswith("/metadata/schema/") else top
        aliases = _selected_aliases(request, self.mask)
        rewritten = self._known_ids(self._json(document, (), top, aliases))
        return orjson.dumps(rewritten)

    def _known_ids(self, value: Any) -> Any:
        """Strings equal to an id replaced anywhere in the answer, replaced here too."""
        if isinstance(value, str):
            return self._fake.get(("visitor", value)) or self._fake.get(("account", value), value)
        if isinstance(value, list):
            return [self._known_ids(item) for item in value]
        if isinstance(value, dict):
            return {key: self._known_ids(item) for key, item in value.items()}
        return value

    def _json(
        self, value: Any, trail: tuple[str, ...], top: str | None, aliases: Mapping[str, str]
    ) -> Any:
        if isinstance(value, list):
            return [self._json(item, trail, top, aliases) for item in value]
        if isinstance(value, dict):
            return {key: self._field(key, item, trail, top, aliases) for key, item in value.items()}
        if isinstance(value, str) and _EMAIL.fullmatch(value):
            return self.fake("email", value)
        return value

    def _field(
        self,
        key: str,
        value: Any,
        trail: tuple[str, ...],
        top: str | None,
        aliases: Mapping[str, str],
    ) -> Any:
        in_metadata = "metadata" in trail
        if top == "schema" and key == "sample":
            return None
        category = _ID_KEYS.get(key)
        if category is None and key == "id" and top in ("visitor", "account") and len(trail) <= 1:
            category = top  # the id of the visitor/account object itself (or of a results row)
        if category is None and len(trail) <= 1:  # a result row's own fields (or the object's)
            category = aliases.get(key)
        if category is None and (key.lower() in _NAME_KEYS or (key == "name" and in_metadata)):
            category = "name"
        if (in_metadata and key in self.mask) or category == "masked":
            self.masked[aliases.get(f"{key} from", key)] += 1
            return None
        if category is not None:
            if isinstance(value, list):
                return [self.fake(category, item) for item in value]
            if isinstance(value, str):
                return self.fake("email" if _EMAIL.fullmatch(value) else category, value)
        return self._json(value, (*trail, key), top, aliases)

    def _csv(self, content: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        if not rows:
            return content
        categories = [_CSV_ID_TITLES.get(title.strip().lower()) for title in rows[0]]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow(
                [
                    self.fake(category, cell)
                    if category and cell
                    else (self.fake("email", cell) if _EMAIL.fullmatch(cell) else cell)
                    for category, cell in zip(categories + [None] * len(row), row, strict=False)
                ]
            )
        return out.getvalue().encode("utf-8")


def _selected_aliases(request: Any, mask: frozenset[str]) -> dict[str, str]:
    """Result fields that a ``select`` (or ``eval``) copied from an id, name or masked field, by
    kind (``"masked"`` for a masked one; ``"<field> from"`` then names the metadata field)."""
    pipeline = request.get("request", {}).get("pipeline") if isinstance(request, dict) else None
    aliases: dict[str, str] = {}
    for step in pipeline if isinstance(pipeline, list) else []:
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
                elif leaf.lower() in _NAME_KEYS or (
                    leaf == "name" and source.startswith("metadata.")
                ):
                    aliases[output] = "name"
    return aliases
