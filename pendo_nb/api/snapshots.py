"""``snapshot_info()``: what a snapshot file holds, as a DataFrame; the leak scan's frame (of a
snapshot file or an extract folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.http.known_values import KnownValues
from pendo_nb.http.leak_scan import describe_request, find_leaks, snapshot_strings
from pendo_nb.http.snapshot import read_snapshot
from pendo_nb.pulls.extracts.strings import extract_strings

__all__ = ["leaks_frame", "snapshot_info"]

_FIELD_COLUMNS = ["field", "replaced", "masked", "kept"]
_LEAK_COLUMNS = ["where", "request", "field", "kind", "value", "count"]


def snapshot_info(
    path: str | os.PathLike[str], *, fields: bool = False, max_bytes: int | None = None
) -> pd.DataFrame:
    """List the answers a snapshot file holds (it is opened and checked whole), or what its
    pseudonymization did to each field.

    A snapshot may come from anyone, so it is opened within limits: its members' names and
    count are checked before anything is unpacked, the sizes its manifest declares must fit
    ``max_bytes`` together, and each answer is refused as soon as it unpacks to more than its
    declared size. Nothing in the file is evaluated or unpickled.

    Parameters
    ----------
    path : str or path
        A file written by ``pn.connect(..., record=path)``.
    fields : bool
        ``True``: one row per field of the recorded answers instead, with how many of its values
        were ``replaced`` by fakes, ``masked`` (null) or ``kept`` as sent (texts from people's
        metadata that were left as they are). Empty for a file that was not pseudonymized.
    max_bytes : int, optional
        Everything the file's answers may unpack to, together, in bytes. Default: the
        environment variable ``PENDO_NB_MAX_FILE_BYTES`` (e.g. ``4GiB``) if set, else 1 GiB.
        The same limit applies to ``pn.connect(replay=path)``, set by the variable.

    Returns
    -------
    pandas.DataFrame
        One row per recorded request: ``method``, ``path``, ``request`` (for an aggregation, its
        source and steps), ``status``, ``bytes``, ``recorded_at``. ``df.attrs`` holds the file's
        ``format_version``, ``created_by``, ``pseudonymized`` and ``summary``. With ``fields``:
        ``field``, ``replaced``, ``masked``, ``kept``.

    Raises
    ------
    SnapshotError
        The file is missing, truncated, altered, of a newer format, or breaks the limits
        (larger than ``max_bytes``, a member larger than declared, odd member names...).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> pn.snapshot_info("review.pendo")  # doctest: +SKIP
    >>> pn.snapshot_info("review.pendo", fields=True)  # doctest: +SKIP
    """
    snapshot = read_snapshot(path, max_bytes=max_bytes)
    if fields:
        per_field = snapshot.manifest.get("summary", {}).get("replaced", {}).get("fields", {})
        frame = pd.DataFrame(
            [{"field": name, **counts} for name, counts in sorted(per_field.items())],
            columns=_FIELD_COLUMNS,
        )
        return frame.astype(
            {"field": TEXT_DTYPE, "replaced": "Int64", "masked": "Int64", "kept": "Int64"}
        )
    rows = [
        {
            "method": answer.method,
            "path": answer.path,
            "request": describe_request(answer.request, answer.params),
            "status": answer.status,
            "bytes": len(answer.content),
            "recorded_at": answer.recorded_at,
        }
        for answer in sorted(snapshot.answers.values(), key=lambda a: a.recorded_at)
    ]
    frame = pd.DataFrame(
        rows, columns=["method", "path", "request", "status", "bytes", "recorded_at"]
    )
    frame = frame.astype({"method": TEXT_DTYPE, "path": TEXT_DTYPE, "request": TEXT_DTYPE})
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
    manifest = snapshot.manifest
    frame.attrs = {
        "format_version": manifest["version"],
        "created_by": manifest.get("created_by"),
        "pseudonymized": bool(manifest.get("pseudonymized")),
        "summary": manifest.get("summary", {}),
    }
    return frame


def leaks_frame(path: str | os.PathLike[str], known: KnownValues) -> pd.DataFrame:
    """Every known real value found in the snapshot file or extract folder at ``path``, counted
    by where it is.

    The frame of :meth:`pendo_nb.PendoClient.scan_for_leaks`: ``where``, ``request``, ``field``,
    ``kind``, ``value``, ``count``; empty (with those columns) when the file is clean.
    """
    strings = extract_strings(path) if Path(path).is_dir() else snapshot_strings(path)
    found = find_leaks(strings, known)
    frame = pd.DataFrame(
        [(*key, count) for key, count in sorted(found.items())], columns=_LEAK_COLUMNS
    )
    text = {name: TEXT_DTYPE for name in _LEAK_COLUMNS[:-1]}
    return frame.astype({**text, "count": "Int64"})
