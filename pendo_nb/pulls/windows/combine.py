"""The windows' rows joined into the answer the whole range would give.

Partial groups (and single ``reduce``/``count`` rows) are combined with the aggregator that
makes them exact (:class:`~pendo_nb.pulls.windows.plan.SplitPlan` says which); a trailing
``sort``/``limit`` is applied to the joined rows.
"""

from __future__ import annotations

import pandas as pd

from pendo_nb.frames.parts import concat_parts
from pendo_nb.pulls.windows.plan import SplitPlan


def combine(parts: list[pd.DataFrame], plan: SplitPlan) -> pd.DataFrame:
    frame = concat_parts(parts)
    parts.clear()  # the caller's list: drop the windows' frames as soon as they are joined
    if plan.keys is not None:
        frame = _recombine(frame, plan)
    if plan.sort:
        frame = _sorted(frame, plan.sort)
    if plan.limit is not None:
        frame = frame.iloc[: plan.limit].reset_index(drop=True)
    return frame


def _recombine(frame: pd.DataFrame, plan: SplitPlan) -> pd.DataFrame:
    """Combine the windows' partial groups (or single reduce/count rows) into final rows."""
    keys = list(plan.keys or ())
    how = {column: method for column, method in plan.fields if column in frame.columns}
    if frame.empty or any(key not in frame.columns for key in keys):
        return frame  # no rows at all: nothing to combine
    if not how:  # a group without fields: its distinct key combinations
        return frame[keys].drop_duplicates(ignore_index=True)
    # min_count=1: a sum that is missing in every window stays missing, as Pendo's would.
    options = {"sum": {"min_count": 1}, "min": {}, "max": {}}
    if not keys:
        row = {c: getattr(frame[c], m)(**options[m]) for c, m in how.items()}
        return pd.DataFrame([row]).astype(frame[list(how)].dtypes.to_dict())
    grouped = frame.groupby(keys, dropna=False, sort=False)
    pieces = []
    for method, kwargs in options.items():
        columns = [c for c, m in how.items() if m == method]
        if columns:
            pieces.append(getattr(grouped[columns], method)(**kwargs))
    combined = pd.concat(pieces, axis=1).reset_index()
    ordered: pd.DataFrame = combined[[c for c in frame.columns if c in combined.columns]]
    return ordered


def _sorted(frame: pd.DataFrame, keys: tuple[tuple[str, bool], ...]) -> pd.DataFrame:
    """Sort like Pendo's sandbox: stable, nulls first ascending and last descending."""
    for name, ascending in reversed(keys):
        if name in frame.columns:
            frame = frame.sort_values(
                name,
                ascending=ascending,
                kind="stable",
                na_position="first" if ascending else "last",
            )
    return frame.reset_index(drop=True)
