"""``snapshot_info()``: what a snapshot file holds, as a DataFrame."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.http.snapshot import read_snapshot

__all__ = ["snapshot_info"]


def snapshot_info(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> pd.DataFrame:
    """List the answers a snapshot file holds (it is opened and checked whole).

    A snapshot may come from anyone, so it is opened within limits: its members' names and
    count are checked before anything is unpacked, the sizes its manifest declares must fit
    ``max_bytes`` together, and each answer is refused as soon as it unpacks to more than its
    declared size. Nothing in the file is evaluated or unpickled.

    Parameters
    ----------
    path : str or path
        A file written by ``pn.connect(..., record=path)``.
    max_bytes : int, optional
        Everything the file's answers may unpack to, together, in bytes. Default: the
        environment variable ``PENDO_NB_MAX_FILE_BYTES`` (e.g. ``4GiB``) if set, else 1 GiB.
        The same limit applies to ``pn.connect(replay=path)``, set by the variable.

    Returns
    -------
    pandas.DataFrame
        One row per recorded request: ``method``, ``path``, ``request`` (for an aggregation, its
        source and steps), ``status``, ``bytes``, ``recorded_at``. ``df.attrs`` holds the file's
        ``format_version``, ``created_by``, ``pseudonymized`` and ``summary``.

    Raises
    ------
    SnapshotError
        The file is missing, truncated, altered, of a newer format, or breaks the limits
        (larger than ``max_bytes``, a member larger than declared, odd member names...).

    Examples
    --------
    >>> import pendo_nb as pn
    >>> pn.snapshot_info("review.pendo")  # doctest: +SKIP
    """
    snapshot = read_snapshot(path, max_bytes=max_bytes)
    rows = [
        {
            "method": answer.method,
            "path": answer.path,
            "request": _describe(answer.request, answer.params),
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


def _describe(request: Any, params: dict[str, Any]) -> str:
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
