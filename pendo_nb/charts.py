"""One-call product charts: a metric over periods, adoption as a heatmap, a funnel, retention.

Install with ``pip install 'pendo_nb[plot]'``. The charts are `Vega-Altair
<https://altair-viz.github.io/>`_ specifications, chosen over plotly because:

- JupyterLab, Notebook 7, VS Code and Colab render Vega-Lite themselves (hover tooltips,
  zoom and pan, dates on the axis), with no widget state and no JavaScript in the notebook;
- a chart is data (a JSON spec), so notebooks stay small, diff well and replay identically;
- ``vl-convert-python`` draws the same spec as a PNG without a browser, so every chart also
  carries a static image, crisp at 2x: nbval, GitHub and static HTML pages show it, and CI needs
  no Chrome (plotly's static export, kaleido, drives one).

Altair stays below 6: JupyterLab 4 renders Vega-Lite up to v5, and Altair 6 writes v6 specs.

Each function takes a DataFrame (a pendo_nb result or any other) and returns a :class:`Chart`;
``chart.altair`` is the Altair chart, to restyle or combine further.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

try:
    import altair as alt
    import vl_convert
except ImportError as missing:  # an optional extra: fail when used, with the install line
    raise ImportError(
        "pendo_nb.charts needs the plot extra: pip install 'pendo_nb[plot]'"
    ) from missing

__all__ = ["Chart", "funnel", "heatmap", "over_time", "retention"]

#: Chart width in CSS pixels: fits a notebook column; the PNG is drawn at twice this.
WIDTH = 640
_PNG_SCALE = 2


class Chart:
    """A product chart: interactive in a notebook, with a static PNG for pages and nbval.

    Attributes
    ----------
    altair : altair.Chart
        The Altair chart (``.properties(width=...)``, ``|``, ``&`` ... work on it).
    """

    def __init__(self, chart: alt.TopLevelMixin, title: str) -> None:
        self.altair = chart
        self.title = title

    def to_png(self) -> bytes:
        """The chart as a PNG image (twice its CSS size, for HiDPI screens)."""
        return vl_convert.vegalite_to_png(self.altair.to_dict(), scale=_PNG_SCALE)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # Front ends show the richest type they render: Vega-Lite where they can (interactive),
        # the PNG elsewhere (static exports); the PNG's width keeps it at its CSS size.
        spec = self.altair.to_dict()
        data = {
            "application/vnd.vegalite.v5+json": spec,
            "image/png": self.to_png(),
            "text/plain": repr(self),
        }
        return data, {"image/png": {"width": WIDTH}}

    def __repr__(self) -> str:
        return f"<pendo_nb chart: {self.title}>"


def over_time(
    frame: pd.DataFrame, x: str, y: str | list[str], *, title: str, y_title: str | None = None
) -> Chart:
    """A metric (or several) over periods: lines with points, dates on the axis, zoomable.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per period.
    x : str
        The period column (datetimes, e.g. ``day`` or a ``startOfPeriod`` field).
    y : str or list of str
        The metric column(s); several become one coloured line each.
    title, y_title : str
        The chart's title and the y axis title (default: the metric's name).
    """
    metrics = [y] if isinstance(y, str) else list(y)
    # Periods are times (a date axis); anything else (scores, step numbers) is ordinal.
    kind = "T" if pd.api.types.is_datetime64_any_dtype(frame[x]) else "O"
    long = frame.melt(id_vars=[x], value_vars=metrics, var_name="metric", value_name="value")
    long = long.dropna(subset=["value"])  # a gap in one metric must not break its line
    chart = (
        alt.Chart(long, title=title, width=WIDTH, height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:{kind}", title=None if kind == "T" else x),
            y=alt.Y("value:Q", title=y_title or ", ".join(metrics)),
            color=alt.Color("metric:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=[alt.Tooltip(f"{x}:{kind}", title=x), "metric:N", "value:Q"],
        )
        .interactive(bind_y=False)
    )
    return Chart(chart, title)


def heatmap(
    frame: pd.DataFrame, *, title: str, value_title: str = "share", percent: bool = True
) -> Chart:
    """A table of values as a heatmap (rows × columns, e.g. feature adoption by plan).

    Parameters
    ----------
    frame : pandas.DataFrame
        Row labels in the index, one column per segment (a ``pivot_table``'s shape).
    title, value_title : str
        The chart's title and the legend's.
    percent : bool
        Values are shares from 0 to 1, labelled as percentages.
    """
    # Fixed field names: Vega-Lite reads a dot in a name ("feature.name") as a nested field.
    rows_name = "row"
    long = frame.reset_index(names=rows_name).melt(
        id_vars=[rows_name], var_name="column", value_name="value"
    )
    long["column"] = long["column"].astype(str)
    label = ".0%" if percent else ",.0f"
    base = alt.Chart(long, title=title, width=WIDTH - 200).encode(
        x=alt.X(
            "column:N",
            sort=[str(c) for c in frame.columns],
            title=_label(frame.columns.name),
            axis=alt.Axis(labelAngle=0),
        ),  # fmt: skip
        y=alt.Y(f"{rows_name}:N", sort=list(frame.index), title=_label(frame.index.name)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", title=value_title, scale=alt.Scale(scheme="blues")),
        tooltip=[
            alt.Tooltip(f"{rows_name}:N", title=_label(frame.index.name) or "row"),
            alt.Tooltip("column:N", title=_label(frame.columns.name) or "column"),
            alt.Tooltip("value:Q", format=label, title=value_title),
        ],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("value:Q", format=label),
        color=alt.condition(
            alt.datum.value > 0.6 * float(long["value"].max()),
            alt.value("white"),
            alt.value("black"),
        ),  # fmt: skip
    )
    return Chart(cells + text, title)


def funnel(steps: pd.Series, *, title: str) -> Chart:
    """A funnel: one bar per step, labelled with its count and its share of the first step.

    Parameters
    ----------
    steps : pandas.Series
        Counts in step order, indexed by the steps' names.
    """
    first = steps.iloc[0] or 1
    data = pd.DataFrame(
        {
            "step": [str(name) for name in steps.index],
            "count": steps.to_numpy(dtype=float),
            "share": steps.to_numpy(dtype=float) / first,
        }
    )
    data["label"] = [
        f" {c:,.0f} ({s:.0%})" for c, s in zip(data["count"], data["share"], strict=True)
    ]
    base = alt.Chart(data, title=title, width=WIDTH - 160).encode(
        y=alt.Y("step:N", sort=list(data["step"]), title=None),
        x=alt.X("count:Q", title=None),
        tooltip=[
            "step:N",
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".0%"),
        ],
    )
    bars = base.mark_bar().encode(color=alt.Color("step:N", legend=None, sort=list(data["step"])))
    return Chart(bars + base.mark_text(align="left").encode(text="label:N"), title)


def retention(frame: pd.DataFrame, *, title: str) -> Chart:
    """A retention triangle: the share of each cohort still active n periods later.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohorts (datetimes or labels) in the index, periods since the start as columns
        (0, 1, 2, ...), shares from 0 to 1 as values.
    """
    shown = frame.copy()
    if isinstance(shown.index, pd.DatetimeIndex):
        shown.index = shown.index.strftime("%Y-%m-%d")
    shown.columns = [str(column) for column in shown.columns]
    return heatmap(
        shown.rename_axis(index="cohort", columns="periods later"),
        title=title,
        value_title="retained",
    )


def _label(name: Hashable) -> str | None:
    """An axis name as a chart title (pandas allows any hashable name; Vega-Lite wants text)."""
    return None if name is None else str(name)
