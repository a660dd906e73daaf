"""Pendo's CSV answers -> DataFrames with the dtypes the JSON readers give the same values."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from pendo_nb.frames.casts import INTEGER_TEXT, finish_frame
from pendo_nb.frames.plain_reader import infer_array

__all__ = ["csv_to_frame"]


def csv_to_frame(
    text: str,
    *,
    tz: str = "UTC",
    columns: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from CSV text with the dtypes the JSON reader would give the same values.

    Cells are typed column by column: all ``true``/``false`` -> boolean, all integers -> Int64,
    all numbers -> Float64, else string; an empty cell is missing. ``titles`` maps header titles
    back to field names (Pendo's CSV may use display titles); ``columns``, ``field_types`` and
    ``attrs`` are as for
    :func:`~pendo_nb.frames.plain_reader.rows_to_frame`. Empty text (no header) is an empty result.
    """
    if not text.strip():
        raw = pd.DataFrame()
    else:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.rename(columns=dict(titles or {}))
    data = {name: infer_array([_csv_value(v) for v in raw[name].tolist()]) for name in raw.columns}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw)))
    return finish_frame(frame, tz=tz, columns=columns, field_types=field_types, attrs=attrs)


def _csv_value(cell: Any) -> Any:
    """A CSV cell as the JSON value it most likely was."""
    if not isinstance(cell, str):
        return None  # NaN from an empty cell
    lowered = cell.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if INTEGER_TEXT.fullmatch(cell):
        return int(cell)
    try:
        number = float(cell)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell
