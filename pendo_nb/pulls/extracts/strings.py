"""Every string a local extract holds, for the leak scan (``pn.scan_for_leaks`` of a folder).

The extract's reader beside :func:`pendo_nb.http.leak_scan.snapshot_strings`: it yields the same
``(where, request, field, text)`` tuples, so :func:`~pendo_nb.http.leak_scan.find_leaks` counts
real values in either. It lives here, not in ``http``, because reading Parquet needs pyarrow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson

from pendo_nb.frames.extract_files import parquet_texts
from pendo_nb.http.known_values import strings_of_answer, strings_of_json
from pendo_nb.pulls.extracts.manifest import MANIFEST, read_manifest, verify_files

__all__ = ["extract_strings"]

#: The column holding a whole object (or row) as JSON text: its fields are named without it.
_WHOLE_OBJECT = "json"


def extract_strings(folder: str | os.PathLike[str]) -> Iterator[tuple[str, str, str, str]]:
    """Every string of the extract in ``folder``: ``(where, request, field, text)``.

    The extract is checked first as for ``pn.connect(local=...)`` (untrusted input: names,
    sizes, links, checksums, footers). ``where`` is ``manifest.json`` or a file
    (``visitors/part-0.parquet``), ``request`` the source it holds (``visitors``, ``events``).
    Text cells holding JSON (whole objects, ``parameters``...) are read string by string with
    their dotted field paths (``metadata.agent.email``); other text cells are one string each,
    the field being the column.

    Raises
    ------
    SnapshotError
        Not a whole, readable extract.
    """
    root = Path(folder)
    manifest = read_manifest(root)
    assert manifest is not None  # read_manifest raises for a folder without one
    verify_files(root, manifest)
    for field, text in strings_of_answer(orjson.dumps(manifest), "application/json"):
        yield MANIFEST, "", field, text
    for name in sorted(manifest["files"]):
        source = name.split("/", 1)[0]
        for column, text in parquet_texts(root / name):
            for field, string in _cell_strings(column, text):
                yield name, source, field, string


def _cell_strings(column: str, text: str) -> Iterator[tuple[str, str]]:
    if text[:1] in ("{", "["):
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # text that only looks like JSON: one string
        else:
            yield from strings_of_json(document, "" if column == _WHOLE_OBJECT else column)
            return
    yield column, text
