"""Stitching DataFrames fetched in parts (time windows, pages) into one.

Each part is converted on its own, so a column can get a different dtype in a part where it is
all missing (``object`` instead of ``Int64``, say); concatenating those as they are would turn the
whole column into ``object``. :func:`concat_parts` gives such all-missing columns the dtype the
other parts agree on first. A ``time`` column kept as dates in one part (every value there a
midnight, :func:`~pendo_nb.frames.times.calendar_days`) and as instants in another is made of
instants throughout: the dates are those instants' midnights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from pandas._typing import DtypeObj

__all__ = ["concat_parts", "conform_to"]


def concat_parts(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate parts in order, columns in first-seen order, with one dtype per column.

    Empty parts only contribute their columns. With no non-empty part, the first part is
    returned (an empty result still has its columns).
    """
    if not parts:
        raise ValueError("no parts to concatenate")
    filled = [_without_attrs(part) for part in parts if len(part)]
    if not filled:
        return parts[0].copy()
    columns = list(dict.fromkeys(name for part in parts for name in part.columns))
    dtypes = _agreed_dtypes(filled)
    aligned = [_with_dtypes(part, dtypes) for part in filled]
    combined = pd.concat(aligned, ignore_index=True)
    del aligned
    for name in columns:
        if name not in combined.columns:  # only in empty parts: kept, as one whole pull would
            combined[name] = pd.Series(pd.NA, index=combined.index, dtype=object)
    return combined if list(combined.columns) == columns else combined[columns]


def _without_attrs(part: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``part`` without ``attrs``: pandas deep-copies a frame's attrs into
    every column it hands out, and the parts' provenance (their pipelines) is not the whole's."""
    bare = part.copy(deep=False)
    bare.attrs = {}
    return bare


def conform_to(frame: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly ``meta``'s columns and dtypes (missing columns all NA).

    Used where every part must match a schema known in advance (Dask partitions).
    """
    out = {}
    for name, dtype in meta.dtypes.items():
        if name in frame.columns:
            column = frame[name]
            out[name] = column if column.dtype == dtype else _cast(column, dtype)
        else:
            out[name] = pd.Series(pd.NA, index=frame.index, dtype=object).astype(dtype)
    return pd.DataFrame(out, index=frame.index)


def _agreed_dtypes(parts: Sequence[pd.DataFrame]) -> dict[str, DtypeObj]:
    """Per column, the dtype of the parts where it holds values (when they all agree)."""
    seen: dict[str, set[Any]] = {}
    for part in parts:
        for name in part.columns:
            column = part[name]
            if column.notna().any():
                seen.setdefault(name, set()).add(column.dtype)
    agreed = {name: next(iter(kinds)) for name, kinds in seen.items() if len(kinds) == 1}
    for name, kinds in seen.items():
        zoned = [kind for kind in kinds if isinstance(kind, pd.DatetimeTZDtype)]
        if (
            len(kinds) == 2
            and len(zoned) == 1
            and pd.api.types.is_datetime64_dtype(next(iter(kinds - set(zoned))))
        ):
            agreed[name] = zoned[0]  # dates in some parts, instants in others: instants
    return agreed


def _with_dtypes(part: pd.DataFrame, dtypes: dict[str, DtypeObj]) -> pd.DataFrame:
    changes = {
        name: dtypes[name]
        for name in part.columns
        if name in dtypes
        and part[name].dtype != dtypes[name]
        and (part[name].isna().all() or _dates_of(part[name].dtype, dtypes[name]))
    }
    if not changes:
        return part
    part = part.copy(deep=False)
    for name, dtype in changes.items():
        part[name] = _cast(part[name], dtype)
    return part


def _dates_of(kind: DtypeObj, instants: DtypeObj) -> bool:
    """Whether ``kind`` is zone-less datetimes and ``instants`` zoned ones."""
    return pd.api.types.is_datetime64_dtype(kind) and isinstance(instants, pd.DatetimeTZDtype)


def _cast(column: pd.Series, dtype: DtypeObj) -> pd.Series:
    if isinstance(dtype, pd.DatetimeTZDtype) and _dates_of(column.dtype, dtype):
        localized: pd.Series = column.dt.tz_localize(dtype.tz)
        return localized
    try:
        return column.astype(dtype)
    except (TypeError, ValueError):
        if column.isna().all():
            return pd.Series(pd.NA, index=column.index, dtype=object).astype(dtype)
        raise
