"""The manifest of a local extract: what the folder holds, and the check that it is whole.

An extract is a folder::

    manifest.json                               this manifest (format version 1)
    events/day=2026-10-01/part-0.parquet        event sources at the grain, one file per day
    pageEvents/ featureEvents/ trackEvents/     (hive style: DuckDB, pandas, Dask read the key)
    guideEvents/ pollEvents/                    guide and poll events, one file per day
    visitors/part-0.parquet  accounts/ ...      objects: their id and the object as JSON text

``manifest.json`` holds ``format`` and ``version``, ``grain``, ``timezone``, ``taken_at`` (the
moment the extract was taken: the local connection's ``now()``), ``days`` (each day's start and end
in epoch ms and when it was pulled), ``apps``, ``pseudonymized`` and ``files`` (rows, bytes and
SHA-256 of every file). It is rewritten atomically after each day, so an interrupted extract can
be resumed, and marked ``complete`` at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pendo_nb.errors import SnapshotError
from pendo_nb.frames.extract_files import file_digest

__all__ = [
    "DAY_SOURCES",
    "EVENT_SOURCES",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "OBJECT_SOURCES",
    "day_file",
    "read_manifest",
    "verify_files",
    "write_manifest",
]

FORMAT = "pendo_nb extract"
#: Raised when a change would make older readers misread the files; newer ones are refused.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Grouped event sources, stored at the grain.
EVENT_SOURCES = ("events", "pageEvents", "featureEvents", "trackEvents")
#: Sources with one file per day.
DAY_SOURCES = (*EVENT_SOURCES, "guideEvents", "pollEvents")
#: Object kinds, one file each: kind -> id field.
OBJECT_SOURCES = {
    "visitors": "visitorId",
    "accounts": "accountId",
    "doNotProcessVisitors": "visitorId",
    "doNotProcessAccounts": "accountId",
    "apps": "id",
    "pages": "id",
    "features": "id",
    "trackTypes": "id",
    "guides": "id",
    "groups": "id",
    "segments": "id",
    "reports": "id",
    "schema": "kind",
}


def day_file(source: str, day: str) -> str:
    """The file of ``source`` for ``day`` (``YYYY-MM-DD``), relative to the extract."""
    return f"{source}/day={day}/part-0.parquet"


def object_file(kind: str) -> str:
    """The file of an object kind, relative to the extract."""
    return f"{kind}/part-0.parquet"


def read_manifest(folder: Path, *, missing_ok: bool = False) -> dict[str, Any] | None:
    """The manifest of the extract in ``folder`` (``None`` if there is none and ``missing_ok``).

    Raises
    ------
    SnapshotError
        No manifest, one that is not JSON, not an extract's, or of a newer format.
    """
    path = folder / MANIFEST
    if not path.is_file():
        if missing_ok:
            return None
        raise SnapshotError(
            f"{folder} is not a local extract (no {MANIFEST}); make one with pn.extract(...)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"{path}: the manifest is unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{path} is not the manifest of a pendo_nb extract")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SnapshotError(
            f"{folder} is an extract of format version {version}, newer than this pendo_nb "
            f"reads ({FORMAT_VERSION}); upgrade pendo_nb"
        )
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Check that the extract is complete and every file is as the manifest says (size and
    SHA-256).

    Raises
    ------
    SnapshotError
        An unfinished extract, or a file missing, truncated or altered.
    """
    if not manifest.get("complete"):
        raise SnapshotError(
            f"{folder} is an unfinished extract (it was interrupted); run the same pn.extract "
            "call again to finish it"
        )
    for name, entry in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise SnapshotError(f"{folder}: {name} is missing; the extract is incomplete")
        size, digest = file_digest(path)
        if size != entry.get("bytes") or digest != entry.get("sha256"):
            raise SnapshotError(
                f"{folder}: {name} is truncated or altered (its checksum differs from the "
                "manifest's); extract the period again"
            )


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    handle, temporary = tempfile.mkstemp(prefix=".manifest.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            json.dump(manifest, sink, indent=1, sort_keys=True)
        os.replace(temporary, folder / MANIFEST)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
