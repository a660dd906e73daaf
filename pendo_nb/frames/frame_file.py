"""A DataFrame as an Arrow table and back, exactly as :mod:`pendo_nb.frames` built it.

Used by :mod:`pendo_nb.frame_cache` to keep converted windows on disk without pickle: reading a
file back only ever builds data, never runs code. What comes back equals what went in: nullable
``Int64``/``Float64``/``boolean`` columns, text (``str``), datetimes (zone and unit),
column order and index (pandas' own Arrow metadata restores them), ``object`` columns (Python
lists, mixed values, ``None``) and ``df.attrs``.

``object`` columns hold JSON values (they come from Pendo's answers), so each cell is stored as
JSON text, and ``df.attrs`` as JSON with tags for what JSON lacks (datetimes, tuples, dictionaries
keyed by row labels). A frame holding anything these cannot give back exactly raises
:class:`UnstorableFrame` rather than come back changed.

A file keeps the dtypes of the pendo_nb that wrote it, so each file carries
:data:`FORMAT_VERSION`, raised whenever the frames' dtypes change; a file of another version is
refused (:class:`OutdatedFrameFile`), and its owner converts the answer again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

__all__ = [
    "FORMAT_VERSION",
    "OutdatedFrameFile",
    "UnstorableFrame",
    "extra_of",
    "from_table",
    "to_table",
]

#: The dtypes a file holds: 2 since text is ``str`` and period buckets are zone-less (issue 16),
#: 3 since ``time`` fields of dates are zone-less too (issue 27); files without a version are 1.
FORMAT_VERSION = 3
_METADATA_KEY = b"pendo_nb"
_TAG = "$pendo_nb"  # marks a JSON object that stands for a value JSON has no form for


class UnstorableFrame(ValueError):
    """The frame holds a value that would not come back from the table exactly."""


class OutdatedFrameFile(ValueError):
    """The file was written with the dtypes of another pendo_nb (:data:`FORMAT_VERSION`)."""


def to_table(frame: pd.DataFrame, extra: Mapping[str, Any]) -> pa.Table:
    """``frame`` as an Arrow table, with ``extra`` (JSON values) in the schema metadata.

    Raises
    ------
    UnstorableFrame
        When a column label, an ``object`` cell or a ``df.attrs`` value would not come back
        exactly.
    """
    if not frame.columns.is_unique or not all(isinstance(name, str) for name in frame.columns):
        raise UnstorableFrame("column labels must be distinct strings")
    json_columns = [
        name
        for name, dtype in frame.dtypes.items()
        if isinstance(name, str) and dtype == np.dtype(object)  # names: all str (checked above)
    ]
    plain = frame.copy(deep=False)
    plain.attrs = {}  # kept in our own metadata: pandas' own drops attrs holding datetimes
    for name in json_columns:
        plain[name] = pd.array(_json_cells(name, frame[name].tolist()), dtype="object")
    try:
        metadata = orjson.dumps(
            {
                "version": FORMAT_VERSION,
                "extra": dict(extra),
                "json_columns": json_columns,
                "attrs": _tagged(frame.attrs),
            }
        )
    except orjson.JSONEncodeError as error:  # an integer beyond 64 bits
        raise UnstorableFrame(f"df.attrs: {error}") from None
    table = pa.Table.from_pandas(plain)
    return table.replace_schema_metadata({**table.schema.metadata, _METADATA_KEY: metadata})


def extra_of(schema: pa.Schema) -> dict[str, Any]:
    """The ``extra`` that :func:`to_table` stored, read from the schema alone."""
    extra: dict[str, Any] = _metadata(schema)["extra"]
    return extra


def from_table(table: pa.Table) -> pd.DataFrame:
    """The frame :func:`to_table` stored.

    Raises
    ------
    OutdatedFrameFile
        When the table holds the dtypes of another :data:`FORMAT_VERSION`.
    ValueError
        When the table was not written by :func:`to_table` (a damaged or foreign file).
    """
    metadata = _metadata(table.schema)
    version = metadata.get("version", 1)
    if version != FORMAT_VERSION:
        raise OutdatedFrameFile(f"frame format {version!r}, not {FORMAT_VERSION}")
    frame = table.to_pandas()
    try:
        for name in metadata["json_columns"]:
            cells = frame[name].tolist()
            frame[name] = pd.array(orjson.loads(b"[" + b",".join(cells) + b"]"), dtype=object)
        frame.attrs = _untagged(metadata["attrs"])
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"a damaged frame file: {error!r}") from None
    return frame


def _metadata(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(_METADATA_KEY)
    if raw is None:
        raise ValueError("not a frame written by pendo_nb")
    metadata = orjson.loads(raw)
    if not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("extra"), dict)
        and isinstance(metadata.get("json_columns"), list)
        and "attrs" in metadata
    ):
        raise ValueError("a damaged frame file: its pendo_nb metadata is incomplete")
    return metadata


def _json_cells(name: str, values: list[Any]) -> list[bytes]:
    """Each value as JSON text; raises when one would read back as something else."""
    try:
        cells = [orjson.dumps(value) for value in values]
    except orjson.JSONEncodeError as error:
        raise UnstorableFrame(f"column {name!r}: {error}") from None
    # orjson writes NaN as null and tuples as lists: reading back is the one complete check.
    if orjson.loads(b"[" + b",".join(cells) + b"]") != values:
        raise UnstorableFrame(f"column {name!r} holds values that JSON would change")
    return cells


def _tagged(value: Any) -> Any:
    """``value`` as JSON values, tagging datetimes, tuples and dictionaries with other keys."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableFrame(f"df.attrs holds {value!r}, which JSON cannot hold")
        return value
    if isinstance(value, datetime):  # pd.Timestamp too
        zone = value.tzinfo
        if zone is not None and not isinstance(zone, (ZoneInfo, timezone)):
            raise UnstorableFrame(f"df.attrs holds a datetime in {zone!r}; use zoneinfo")
        tagged = {_TAG: "datetime", "iso": value.isoformat()}
        if isinstance(zone, ZoneInfo):
            tagged["zone"] = zone.key
        if isinstance(value, pd.Timestamp):
            tagged.update({_TAG: "Timestamp", "unit": value.unit})
        return tagged
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [_tagged(item) for item in value]}
    if isinstance(value, Mapping):
        if all(isinstance(key, str) for key in value) and _TAG not in value:
            return {key: _tagged(item) for key, item in value.items()}
        return {_TAG: "dict", "items": [[_tagged(k), _tagged(v)] for k, v in value.items()]}
    raise UnstorableFrame(f"df.attrs holds a {type(value).__name__}, which is not stored")


def _untagged(value: Any) -> Any:
    """The inverse of :func:`_tagged`."""
    if isinstance(value, list):
        return [_untagged(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_TAG)
    if kind is None:
        return {key: _untagged(item) for key, item in value.items()}
    if kind == "tuple":
        return tuple(_untagged(item) for item in value["items"])
    if kind == "dict":
        return {_untagged(k): _untagged(v) for k, v in value["items"]}
    if kind == "datetime":
        moment = datetime.fromisoformat(value["iso"])
        return moment.astimezone(ZoneInfo(value["zone"])) if "zone" in value else moment
    if kind == "Timestamp":
        stamp = pd.Timestamp(value["iso"]).as_unit(value["unit"])
        return stamp.tz_convert(value["zone"]) if "zone" in value else stamp
    raise ValueError(f"unknown tag {kind!r} in the stored df.attrs")
