"""A report id Pendo does not know: find the report the user meant, for the error's hint.

The likeliest mistake is passing a report's *name* where its id goes (``pn.report("Admins")``);
the listing (one cached request) tells which id that name has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pendo_nb.errors import NotFoundError, PendoError
from pendo_nb.http.connection import PendoConnection

__all__ = ["explain_missing_report"]


@contextmanager
def explain_missing_report(client: PendoConnection, report_id: str) -> Iterator[None]:
    """Re-raise a 404 for ``report_id`` with a hint naming the id of a report so named."""
    try:
        yield
    except NotFoundError as error:
        raise error.with_hint(_hint(client, report_id)) from None


def _hint(client: PendoConnection, report_id: str) -> str:
    generic = "no public report has this id: pn.reports() lists them with their ids"
    try:
        listed = client.get_reports().json_array()
    except PendoError:
        return generic  # the hint must never hide the original 404
    wanted = report_id.strip().casefold()
    matches = [
        item
        for item in listed
        if isinstance(item, dict) and str(item.get("name", "")).strip().casefold() == wanted
    ]
    if not matches:
        return generic
    ids = [str(item.get("id")) for item in matches]
    name = matches[0].get("name")
    if len(ids) == 1:
        return f"{name!r} is a report's name, not its id: pn.report({ids[0]!r})"
    return f"{len(ids)} reports are named {name!r}; their ids: {', '.join(map(repr, ids))}"
