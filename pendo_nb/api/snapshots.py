"""``snapshot_info()``: what a snapshot file holds, as a DataFrame."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.http.snapshot import read_snapshot

__all__ = ["snapshot_info"]


def snapshot_info(path: str | os.PathLike[str]) -> pd.DataFrame:
    """List the answers a snapshot file holds (it is opened and checked whole).

    Parameters
    ----------
    path : str or path
        A file written by ``pn.connect(..., record=path)``.

    Returns
    -------
    pandas.DataFrame
        One row per recorded request: ``method``, ``path``, ``request`` (for an aggregation, its
        source and steps), ``status``, ``bytes``, ``recorded_at``. ``df.attrs`` holds the file's
        ``format_version``, ``created_by``, ``pseudonymized`` and ``summary``.

    Raises
    ------
    SnapshotError
        The file is missing, truncated, altered, or of a newer format.

    Examples
    --------
    >>> import pendo_nb as pn
    >>> pn.snapshot_info("review.pendo")  # doctest: +SKIP
    """
    snapshot = read_snapshot(path)
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
