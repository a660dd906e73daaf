"""What a metric returns: a DataFrame that shows its headline number and keeps the pipelines sent.

A metric's frame is a :class:`MetricFrame`: a ``pandas.DataFrame`` whose display starts with the
metric's headline (Pendo's summary figure, e.g. stickiness' mean of the daily ratios) and whose
``pipelines`` are the aggregation bodies the metric sent, to run or change by hand. Both live in
``attrs`` (``attrs["headline"]``, ``attrs["pipelines"]``), which pandas carries and copies; a frame
derived from it (a filter, a ``copy()``) is a plain DataFrame, so a headline never shows beside
rows it was not computed from.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pendo_nb.pipeline import Pipeline

#: attrs key: ``{"label": str, "value": float | None, "unit": str}``, the metric's summary figure.
HEADLINE = "headline"
#: attrs key: what the metric counts, ``"visitor"`` or ``"account"``.
UNIT = "unit"
#: attrs key: the aggregation bodies sent (``Pipeline.to_json()``), in the order sent.
PIPELINES = "pipelines"


def headline_text(frame: pd.DataFrame) -> str | None:
    """A metric frame's headline as text ("mean DAU/MAU (visitors): 33.4%"); ``None`` when it
    has no headline value."""
    headline = frame.attrs.get(HEADLINE)
    if not headline or headline.get("value") is None:
        return None
    value = f"{headline['value']:,.{headline.get('digits', 1)}f}"
    return f"{headline['label']}: {value}{headline.get('unit', '')}"


class MetricFrame(pd.DataFrame):
    """A metric's tidy DataFrame, shown with its headline figure.

    Attributes
    ----------
    headline : float or None
        The metric's summary figure (``attrs["headline"]["value"]``), ``None`` when the range
        has no data.
    pipelines : list of Pipeline
        The aggregations the metric sent (whole-range bodies; long ranges are fetched in
        windows of these), to run, change or copy.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        # Derived frames are plain: the headline describes these rows only.
        return pd.DataFrame

    @property
    def headline(self) -> float | None:
        """The metric's summary figure, or ``None`` when there is none."""
        value = self.attrs.get(HEADLINE, {}).get("value")
        return None if value is None else float(value)

    @property
    def pipelines(self) -> list[Pipeline]:
        """The aggregations sent, as builder pipelines (each shows its JSON, code and curl)."""
        return [Pipeline.from_json(body) for body in self.attrs.get(PIPELINES, [])]

    def _headline_text(self) -> str:
        headline = self.attrs.get(HEADLINE)
        if not headline:
            return ""
        return headline_text(self) or f"{headline['label']}: no data"

    def __repr__(self) -> str:
        text = self._headline_text()
        body = pd.DataFrame.__repr__(self)
        return f"{text}\n{body}" if text else body

    def _repr_html_(self) -> str | None:
        # pandas-stubs leave out _repr_html_, pandas' notebook display of a DataFrame.
        body: str | None = super()._repr_html_()  # type: ignore[misc]
        text = self._headline_text()
        if not text or body is None:
            return body
        return f"<p><strong>{html.escape(text)}</strong></p>\n{body}"


def metric_frame(
    data: pd.DataFrame | None,
    schema: Mapping[str, str],
    pipelines: Sequence[Pipeline],
    *,
    headline: dict[str, Any] | None = None,
    unit: str | None = None,
) -> MetricFrame:
    """``data``'s columns of ``schema`` (in its order, with its dtypes) as a :class:`MetricFrame`.

    ``data=None`` gives the empty frame, with its columns. ``unit`` (``"visitor"`` or
    ``"account"``) is kept in ``attrs["unit"]``, for charts' axis titles.
    """
    rows = pd.DataFrame(columns=list(schema)) if data is None else data.loc[:, list(schema)]
    frame = MetricFrame(rows.reset_index(drop=True).astype(dict(schema)))
    frame.attrs = {PIPELINES: [pipeline.to_json() for pipeline in pipelines]}
    if headline is not None:
        frame.attrs[HEADLINE] = headline
    if unit is not None:
        frame.attrs[UNIT] = unit
    return frame


def headline(label: str, value: Any, unit: str = "", *, digits: int = 1) -> dict[str, Any]:
    """A frame's headline: ``label``, ``value`` (``None`` when missing: no data) and its ``unit``
    (``"%"``, ``" min"``...), shown to ``digits`` decimals."""
    missing = value is None or bool(pd.isna(value))
    value = None if missing else float(value)
    return {"label": label, "value": value, "unit": unit, "digits": digits}
