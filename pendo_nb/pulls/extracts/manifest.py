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
SHA-256 of every file, and the size of its data unpacked as its footer declares). It is
rewritten atomically after each day, so an interrupted extract can be resumed, and marked
``complete`` at the end.

An extract may come from someone else, so it is read as untrusted input
(:mod:`pendo_nb.http.untrusted_files`): the manifest with a size cap, then the folder checked
against it before any Parquet file is opened (names, counts, sizes within the overall limit, no
links, nothing undeclared), then each file's checksum, then each footer's rows and unpacked size
against the manifest, before any data is read.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import orjson

from pendo_nb.errors import SnapshotError
from pendo_nb.frames.extract_files import file_digest, parquet_footer
from pendo_nb.http.untrusted_files import (
    FileLimits,
    SizeBudget,
    check_folder,
    file_limits,
    read_declared,
)

__all__ = [
    "DAY_SOURCES",
    "EVENT_SOURCES",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
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
#: Largest manifest read (a year of hourly files takes well under 1 MB).
MAX_MANIFEST_BYTES = 16 << 20
# Parsed JSON takes up to ~20 times its text; an honest manifest's objects are ~100 bytes of
# text each (a SHA-256 alone is 64), so a text with far more objects and lists is refused unparsed.
_TEXT_BYTES_PER_CONTAINER = 16
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


def read_manifest(
    folder: Path, *, missing_ok: bool = False, limits: FileLimits | None = None
) -> dict[str, Any] | None:
    """The manifest of the extract in ``folder`` (``None`` if there is none and ``missing_ok``).

    It is read only if it is a regular file (not a link) of at most :data:`MAX_MANIFEST_BYTES`
    (and the overall limit), and parsed only if it holds no more objects and lists than an
    honest manifest of its size.

    Raises
    ------
    SnapshotError
        No manifest, one too large, not JSON, not an extract's, or of a newer format.
    """
    path = folder / MANIFEST
    limits = limits or file_limits()
    try:
        status = path.lstat()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise SnapshotError(
            f"{folder} is not a local extract (no {MANIFEST}); make one with pn.extract(...)"
        ) from None
    if not stat.S_ISREG(status.st_mode):
        raise SnapshotError(f"{path} is a link or a special file, not a manifest: refused")
    most = min(MAX_MANIFEST_BYTES, limits.max_bytes)
    if status.st_size > most:
        raise SnapshotError(
            f"{path} takes {status.st_size:,} bytes (a manifest takes at most {most:,}): "
            "refused unread"
        )
    try:
        with path.open("rb") as stream:
            text = read_declared(stream, status.st_size, what=MANIFEST, file=folder.name)
        if (text.count(b"{") + text.count(b"[")) * _TEXT_BYTES_PER_CONTAINER > len(text) + 64:
            raise SnapshotError(f"{path} holds far more objects and lists than a manifest")
        manifest = orjson.loads(text)
    except (OSError, orjson.JSONDecodeError) as error:
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


def verify_files(
    folder: Path, manifest: dict[str, Any], *, limits: FileLimits | None = None
) -> None:
    """Check that the extract is complete and holds exactly what its manifest says, before any
    of its files' data is read.

    In order: the folder holds the files listed and nothing else, no links, each of its declared
    size, within the overall limit (:func:`~pendo_nb.http.untrusted_files.check_folder`); their
    unpacked sizes fit the limit too; each file's SHA-256 is the manifest's; each Parquet
    footer declares the manifest's rows and unpacked size.

    Parameters
    ----------
    folder : Path
        The extract.
    manifest : dict
        Its manifest (:func:`read_manifest`).
    limits : FileLimits, optional
        Default: :func:`~pendo_nb.http.untrusted_files.file_limits` (``PENDO_NB_MAX_FILE_BYTES``).

    Raises
    ------
    SnapshotError
        An unfinished extract, or a file missing, undeclared, a link, too large, truncated or
        altered, saying which.
    """
    if not manifest.get("complete"):
        raise SnapshotError(
            f"{folder} is an unfinished extract (it was interrupted); run the same pn.extract "
            "call again to finish it"
        )
    limits = limits or file_limits()
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
        raise SnapshotError(f"{folder}: its manifest lists no files")
    check_folder(
        folder,
        {name: entry.get("bytes") for name, entry in files.items()},
        limits=limits,
        unsized=[MANIFEST],
    )
    unpacked = SizeBudget(limits, file=folder.name)
    for name, entry in files.items():
        unpacked.claim(entry.get("uncompressed_bytes"), f"{name} unpacked")
    for name, entry in files.items():
        _, digest = file_digest(folder / name)
        if digest != entry.get("sha256"):
            raise SnapshotError(
                f"{folder}: {name} is truncated or altered (its checksum differs from the "
                "manifest's); extract the period again"
            )
    for name, entry in files.items():
        footer = parquet_footer(folder / name)
        declared = (entry.get("rows"), entry.get("uncompressed_bytes"))
        if (footer.rows, footer.uncompressed_bytes) != declared:
            raise SnapshotError(
                f"{folder}: {name}'s footer declares {footer.rows:,} rows and "
                f"{footer.uncompressed_bytes:,} bytes unpacked where the manifest declares "
                f"{declared[0]!r} and {declared[1]!r}: refused unread"
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
