"""A visitor or account id Pendo does not know: the id as typed, and how to find the right one.

The request's URL carries an id that is not URL-safe (an e-mail address, an id with spaces) as
``b64_<base64>``, so the 404 alone shows ``/visitor/b64_bm9ib2R5QGV4YW1wbGUuY29t``. The hint
gives the id as the user typed it, says ids are exact, and gives a query that finds near ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pendo_nb.errors import NotFoundError

__all__ = ["explain_missing_object"]

#: How much of an id the suggested search looks for.
_FRAGMENT_CHARS = 40


@contextmanager
def explain_missing_object(kind: str, object_id: str) -> Iterator[None]:
    """Re-raise a 404 for the ``kind`` (``"visitor"``/``"account"``) ``object_id`` with a hint
    naming the id readably and how to look ids up."""
    try:
        yield
    except NotFoundError as error:
        raise error.with_hint(_hint(kind, object_id)) from None


def _hint(kind: str, object_id: str) -> str:
    field = f"{kind}Id"
    source = f"{kind}s"
    widget = "VisitorLookup" if kind == "visitor" else "AccountLookup"
    if object_id != object_id.strip():
        exact = "it starts or ends with a space, and ids are exact"
    else:
        exact = "ids are exact: case, spaces and every character count"
    hint = f"no {kind} has the id {object_id!r} ({exact})."
    fragment = _fragment(object_id)
    if fragment:
        search = f'contains(toLowerCase({field}), "{fragment}")'
        hint += f" Ids that resemble it: pn.source.{source}().filter({search!r}).run();"
    else:
        hint += f" The ids: pn.source.{source}().select({field}={field!r}).run();"
    return hint + f" pendo_nb.widgets.{widget}() shows one by its id"


def _fragment(object_id: str) -> str:
    """The part of an id a search looks for: lower case, an e-mail's local part, no quotes."""
    text = object_id.strip().lower()
    local, at, _ = text.partition("@")
    if at and local:
        text = local
    return re.sub(r'["\\\x00-\x1f]', "", text)[:_FRAGMENT_CHARS]
