"""Finding real people and customers in a file meant to be shared.

:func:`find_leaks` counts every known real value (:class:`~pendo_nb.http.known_values.KnownValues`
of a live subscription) in the strings a file holds. The strings come from one reader per kind of
file: :func:`snapshot_strings` for a snapshot (its manifest and every answer, through
:func:`~pendo_nb.http.known_values.strings_of_answer`), and for an extract folder
:func:`pendo_nb.pulls.extracts.strings.extract_strings` (in ``pulls``: reading Parquet needs
pyarrow), yielding the same ``(where, request, field, text)`` tuples.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from pendo_nb.http.known_values import KnownValues, strings_of_answer
from pendo_nb.http.snapshot import MANIFEST, read_snapshot

__all__ = ["KIND_LABELS", "describe_request", "find_leaks", "snapshot_strings"]

#: How each kind of known value is named in a leak report.
KIND_LABELS = {
    "visitor": "visitor id",
    "account": "account id",
    "email": "e-mail address",
    "local": "e-mail local part",
    "domain": "e-mail domain",
    "name": "person name",
    "account name": "account name",
    "text": "metadata text",
}


def snapshot_strings(path: str | os.PathLike[str]) -> Iterator[tuple[str, str, str, str]]:
    """Every string of a snapshot: ``(where, request, field, text)``.

    ``where`` is ``snapshot.json`` for the manifest (the requests as sent, the summary), else
    the answer's method and path; ``request`` says which aggregation or query it answers.
    """
    snapshot = read_snapshot(path)
    manifest = orjson.dumps(snapshot.manifest)
    for field, text in strings_of_answer(manifest, "application/json"):
        yield MANIFEST, "", field, text
    for answer in snapshot.answers.values():
        where = f"{answer.method} {answer.path}"
        request = describe_request(answer.request, answer.params)
        for field, text in strings_of_answer(answer.content, answer.content_type):
            yield where, request, field, text


def find_leaks(
    strings: Iterable[tuple[str, str, str, str]], known: KnownValues
) -> Counter[tuple[str, str, str, str, str]]:
    """How many times each known value occurs, by ``(where, request, field, kind, value)``:
    a string equal to one (any case) or containing one counts."""
    found: Counter[tuple[str, str, str, str, str]] = Counter()
    for where, request, field, text in strings:
        whole = known.equal(text)
        if whole is not None:
            found[where, request, field, KIND_LABELS[whole[0]], whole[1]] += 1
            continue
        for _, _, kind, value in known.find(text):
            found[where, request, field, KIND_LABELS[kind], value] += 1
    return found


def describe_request(request: Any, params: dict[str, Any]) -> str:
    """A short description of a request: an aggregation's source and step operators."""
    pipeline = request.get("request", {}).get("pipeline") if isinstance(request, dict) else None
    if isinstance(pipeline, list) and pipeline:
        operators = [next(iter(step), "?") for step in pipeline if isinstance(step, dict)]
        source = pipeline[0].get("source") if isinstance(pipeline[0], dict) else None
        if isinstance(source, dict):
            operators[0] = next((k for k in source if k != "timeSeries"), "source")
        return " → ".join(operators)
    if params:
        return ", ".join(f"{key}={value}" for key, value in params.items())
    return ""
