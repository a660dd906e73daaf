"""One-call product charts: a metric over periods, adoption as a heatmap, a funnel, retention,
and one chart per :mod:`pendo_nb.metrics` frame (``charts.stickiness(pn.metrics.stickiness())``).

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
``chart.altair`` is the Altair chart, to restyle or combine further. House rules, so every chart
reads the same way: discrete things (scores, bands, steps) are bars, periods are dates on a time
axis, axes span the data (no empty month before it), shares are percentages labelled with ``%``,
counts carry thousands separators, and axis titles are words, never field paths.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import pandas as pd

from pendo_nb.metrics.frame import UNIT, headline_text

try:
    import altair as alt
    import vl_convert
except ImportError as missing:  # an optional extra: fail when used, with the install line
    raise ImportError(
        "pendo_nb.charts needs the plot extra: pip install 'pendo_nb[plot]'"
    ) from missing

__all__ = [
    "Chart",
    "active",
    "feature_adoption",
    "frequency",
    "funnel",
    "guide_conversion",
    "heatmap",
    "nps",
    "over_time",
    "pes",
    "retention",
    "stickiness",
    "time_on_app",
]

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
    frame: pd.DataFrame,
    x: str,
    y: str | list[str],
    *,
    title: str,
    y_title: str | None = None,
    x_title: str | None = None,
    percent: bool = False,
) -> Chart:
    """A metric (or several) over periods: lines with points on a date axis, zoomable; bars when
    ``x`` is discrete (scores, steps, bands), as a distribution is drawn.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per period (or per value of a discrete ``x``).
    x : str
        The period column (datetimes, e.g. ``day`` or a ``startOfPeriod`` field), or a discrete
        one (numbers, labels), drawn as bars.
    y : str or list of str
        The metric column(s); several become one coloured line (or bar) each.
    title, y_title, x_title : str
        The chart's title and the axis titles (default: the metric's name; ``x``'s name for a
        discrete axis, none for dates).
    percent : bool
        The values are percentages (0 to 100), labelled with ``%``.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pandas as pd
    >>> from pendo_nb import charts
    >>> counts = [1, 0, 2, 1, 3, 5, 8, 13, 21, 30, 40]
    >>> answers = pd.DataFrame({"score": range(11), "visitors": counts})
    >>> charts.over_time(answers, "score", "visitors", title="NPS answers")
    <pendo_nb chart: NPS answers>
    """
    metrics = [y] if isinstance(y, str) else list(y)
    dated = pd.api.types.is_datetime64_any_dtype(frame[x])
    long = frame.melt(id_vars=[x], value_vars=metrics, var_name="metric", value_name="value")
    long = long.dropna(subset=["value"])  # a gap in one metric must not break its line
    if percent:
        long["value"] = long["value"] / 100  # Vega's "%" format multiplies by 100
    value_format = ".1%" if percent else ",.4~r"
    y_axis = alt.Y(
        "value:Q",
        title=y_title or _label(", ".join(metrics)),
        axis=alt.Axis(format=".0%" if percent else ",~f"),
    )
    tooltip = [alt.Tooltip("metric:N", title=" "), alt.Tooltip("value:Q", format=value_format)]
    # One metric needs no legend: the axis title names it.
    legend = alt.Legend(orient="top", title=None) if len(metrics) > 1 else None
    if dated:
        days = long[x]
        x_axis = alt.X(
            f"{x}:T", title=x_title, scale=_period_scale(days) if len(days) else alt.Undefined
        )
        base = alt.Chart(long, title=title, width=WIDTH, height=260).encode(
            x=x_axis,
            y=y_axis,
            color=alt.Color("metric:N", legend=legend),
            tooltip=[alt.Tooltip(f"{x}:T", title=_label(x), format="%a %d %b %Y"), *tooltip],
        )
        chart = base.mark_line(point=True).interactive(bind_y=False)
    else:
        base = alt.Chart(long, title=title, width=WIDTH, height=260).encode(
            x=alt.X(f"{x}:O", title=x_title or _label(x), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("metric:N"),
            y=y_axis,
            color=alt.Color("metric:N", legend=legend),
            tooltip=[alt.Tooltip(f"{x}:O", title=_label(x)), *tooltip],
        )
        chart = base.mark_bar()
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
    long = long.dropna(subset=["value"])  # an empty cell (a period not reached yet) stays blank
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
        color=alt.Color(
            "value:Q",
            title=value_title,
            scale=alt.Scale(scheme="blues"),
            legend=alt.Legend(format=label),
        ),
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


def retention(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """A retention triangle: the share of each cohort still active n periods later.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`pendo_nb.metrics.retention`'s tidy frame (``cohort``, ``period``, ``rate`` in
        percent), or a triangle already pivoted: cohorts (datetimes or labels) in the index,
        periods since the start as columns (0, 1, 2, ...), shares from 0 to 1 as values.
    title : str, optional
        Default: "Retention by <unit> cohort".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.retention(pn.metrics.retention("week", start="2026-09-06", end="2026-10-31"))
    <pendo_nb chart: Retention of weekly visitor cohorts>
    """
    if {"cohort", "period", "rate"} <= set(frame.columns):
        length = "weekly" if _weekly(frame["cohort"]) else "monthly"
        title = title or f"Retention of {length} {frame.attrs.get(UNIT, 'unit')} cohorts"
        frame = frame.pivot(index="cohort", columns="period", values="rate") / 100
    shown = frame.copy()
    if isinstance(shown.index, pd.DatetimeIndex):
        shown.index = shown.index.strftime("%Y-%m-%d")
    shown.columns = [str(column) for column in shown.columns]
    return heatmap(
        shown.rename_axis(index="cohort", columns="periods later"),
        title=title or "Retention",
        value_title="retained",
    )


def active(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Active units per period (:func:`pendo_nb.metrics.active`): a line of days, or bars of
    weeks or months, on a date axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``period`` and ``active`` columns.
    title : str, optional
        Default: "Active <unit>s".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.active(pn.metrics.active("visitor", "week", "2026-10-04", "2026-10-31"))
    <pendo_nb chart: Active visitors per week>
    """
    unit = frame.attrs.get(UNIT, "unit")
    daily = len(frame) < 2 or (frame["period"].diff().dropna() == pd.Timedelta(days=1)).all()
    title = title or f"Active {unit}s per {'day' if daily else _period_name(frame['period'])}"
    if daily:
        return over_time(frame, "period", "active", title=title, y_title=f"active {unit}s")
    data = frame.assign(label=frame["period"].dt.strftime("%d %b %Y"))
    bars = alt.Chart(data, title=title, width=WIDTH, height=260).encode(
        # Weeks and months are bands (ordinal) labelled as dates: bars never overhang the axis.
        x=alt.X(
            "period:O",
            title=f"{_period_name(frame['period'])} starting",
            timeUnit="yearmonthdate",
            axis=alt.Axis(format="%d %b %Y", labelAngle=0),
        ),
        y=alt.Y("active:Q", title=f"active {unit}s", axis=alt.Axis(format=",~f")),
        tooltip=[
            alt.Tooltip("label:N", title="from"),
            alt.Tooltip("days:Q", title="days in range"),
            alt.Tooltip("active:Q", title=f"active {unit}s", format=","),
        ],
    )
    labels = bars.mark_text(dy=-6).encode(text=alt.Text("active:Q", format=","))
    return Chart(bars.mark_bar() + labels, title)


def stickiness(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Daily stickiness (:func:`pendo_nb.metrics.stickiness`) as a line, with its headline, the
    mean of the daily ratios, drawn as a dashed rule; the axis spans the days shown.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``day`` and ``ratio`` (percent) columns.
    title : str, optional
        Default: the headline ("mean DAU/MAU (visitors): 33.4%").

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.stickiness(pn.metrics.stickiness("DAU/MAU", start="2026-10-01", end="2026-10-31"))
    <pendo_nb chart: mean DAU/MAU (visitors): 33.4%>
    """
    title = title or headline_text(frame) or "Stickiness"
    data = frame.dropna(subset=["ratio"]).assign(share=lambda rows: rows["ratio"] / 100)
    if data.empty:
        return over_time(frame, "day", "ratio", title=title, percent=True)
    line = alt.Chart(data, title=title, width=WIDTH, height=260).encode(
        x=alt.X("day:T", title=None, scale=_period_scale(data["day"])),
        y=alt.Y("share:Q", title="stickiness", axis=alt.Axis(format=".0%")),
        tooltip=[
            alt.Tooltip("day:T", format="%a %d %b %Y"),
            alt.Tooltip("numerator:Q", format=","),
            alt.Tooltip("denominator:Q", format=","),
            alt.Tooltip("share:Q", title="stickiness", format=".1%"),
        ],
    )
    mean = pd.DataFrame({"mean": [float(data["share"].mean())]})
    rule = (
        alt.Chart(mean)
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(y="mean:Q", tooltip=[alt.Tooltip("mean:Q", title="mean", format=".1%")])
    )
    return Chart(line.mark_line(point=True) + rule, title)


def frequency(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Frequency bands (:func:`pendo_nb.metrics.frequency`): one bar per band, labelled with its
    count and share.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``band``, ``min_days``, ``max_days``, ``units`` and ``share`` (percent) columns.
    title : str, optional
        Default: "How often <unit>s come (days active in the last 30)".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.frequency(pn.metrics.frequency(end="2026-10-31"))
    <pendo_nb chart: How often visitors come (days active in the last 30)>
    """
    unit = frame.attrs.get(UNIT, "unit")
    title = title or f"How often {unit}s come (days active in the last 30)"
    data = frame.assign(
        label=[
            f"{band} ({low}-{high} days)"
            for band, low, high in zip(
                frame["band"], frame["min_days"], frame["max_days"], strict=True
            )
        ],
        text=[
            f"{n:,} ({share:.0f}%)" for n, share in zip(frame["units"], frame["share"], strict=True)
        ],
    )
    return _bars(data, "label", "units", "text", title=title, x_title=f"{unit}s")


def time_on_app(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Daily minutes per active unit (:func:`pendo_nb.metrics.time_on_app`) as a line.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``day`` and ``minutes_per_unit`` columns.
    title : str, optional
        Default: the headline ("average daily minutes per active visitor: 13.4 min").

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.time_on_app(pn.metrics.time_on_app("visitor", "2026-10-01", "2026-10-31"))
    <pendo_nb chart: average daily minutes per active visitor: 13.4 min>
    """
    unit = frame.attrs.get(UNIT, "unit")
    title = title or headline_text(frame) or "Time on app"
    shown = frame.rename(columns={"minutes_per_unit": f"minutes per active {unit}"})
    return over_time(shown, "day", f"minutes per active {unit}", title=title, y_title="minutes")


def feature_adoption(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Core event adoption (:func:`pendo_nb.metrics.feature_adoption`): one bar per event, its
    share of active units.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``event``, ``adopters``, ``active`` and ``share`` (percent) columns.
    title : str, optional
        Default: "Share of active <unit>s who used each core event".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.feature_adoption(pn.metrics.feature_adoption(["Dashboard", "Export CSV"]))
    <pendo_nb chart: Share of active visitors who used each core event>
    """
    unit = frame.attrs.get(UNIT, "unit")
    title = title or f"Share of active {unit}s who used each core event"
    data = frame.assign(
        fraction=frame["share"] / 100,
        text=[
            f"{share:.0f}% ({n:,} of {total:,})"
            for share, n, total in zip(
                frame["share"], frame["adopters"], frame["active"], strict=True
            )
        ],
    )
    return _bars(
        data,
        "event",
        "fraction",
        "text",
        title=title,
        x_title=f"share of active {unit}s",
        percent=True,
    )


def nps(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """NPS (:func:`pendo_nb.metrics.nps`): for the overall row and each period, a bar split into
    detractors, passives and promoters (shares of respondents), the score beside it.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``scope``, ``period``, ``respondents``, the three ``*_share`` columns (percent) and
        ``score``.
    title : str, optional
        Default: "NPS <score>".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.nps(pn.metrics.nps("Acme Projects NPS", "2026-08-01", "2026-10-31"))
    <pendo_nb chart: NPS +52 (387 respondents)>
    """
    overall = frame[frame["scope"] == "overall"]
    if title is None and len(overall):
        row = overall.iloc[0]
        title = f"NPS {row['score']:+.0f} ({row['respondents']:,} respondents)"
    rows = [
        (
            "all answers" if scope == "overall" else f"{scope} of {period:%d %b %Y}",
            f"{score:+.0f}",
        )
        for scope, period, score in zip(
            frame["scope"], frame["period"], frame["score"], strict=True
        )
    ]
    labels = [name for name, _ in rows]
    long = pd.DataFrame(
        [
            {"row": name, "group": group, "share": frame[f"{group}_share"].iloc[i] / 100,
             "answers": int(frame[group].iloc[i])}
            for i, (name, _) in enumerate(rows)
            for group in ("detractors", "passives", "promoters")
        ]
    )  # fmt: skip
    colours = alt.Scale(
        domain=["detractors", "passives", "promoters"], range=["#d62728", "#bbbbbb", "#2ca02c"]
    )
    bars = (
        alt.Chart(long, title=title or "NPS", width=WIDTH - 160)
        .mark_bar()
        .encode(
            y=alt.Y("row:N", sort=labels, title=None),
            x=alt.X(
                "share:Q", title="share of respondents", axis=alt.Axis(format=".0%"), stack="zero"
            ),
            color=alt.Color("group:N", scale=colours, legend=alt.Legend(orient="top", title=None)),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("row:N", title=" "),
                alt.Tooltip("group:N", title=" "),
                alt.Tooltip("answers:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .transform_calculate(order="indexof(['detractors', 'passives', 'promoters'], datum.group)")
    )
    scores = pd.DataFrame({"row": labels, "score": [score for _, score in rows], "x": 1.0})
    text = (
        alt.Chart(scores)
        .mark_text(align="left", dx=6)
        .encode(y=alt.Y("row:N", sort=labels), x="x:Q", text="score:N")
    )
    return Chart(bars + text, title or "NPS")


def guide_conversion(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """Guide conversion (:func:`pendo_nb.metrics.guide_conversion`) as a two-step funnel: saw the
    first step, then did the target.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row with ``guide``, ``target``, ``saw`` and ``converted``.
    title : str, optional
        Default: "<guide>: conversion to <target>".

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.guide_conversion(pn.metrics.guide_conversion(
    ...     "Welcome to Acme Projects", "Create Project", start="2026-09-01", end="2026-10-31"))
    <pendo_nb chart: Welcome to Acme Projects: conversion to Create Project>
    """
    row = frame.iloc[0]
    unit = frame.attrs.get(UNIT, "unit")
    steps = pd.Series(
        [row["saw"], row["converted"]],
        index=[f"{unit}s who saw the first step", f"then used {row['target']}"],
    )
    return funnel(steps, title=title or f"{row['guide']}: conversion to {row['target']}")


def pes(frame: pd.DataFrame, *, title: str | None = None) -> Chart:
    """The Product Engagement Score (:func:`pendo_nb.metrics.pes`): one bar per component and
    the score, on 0 to 100; components resting on assumptions are marked.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``component``, ``score`` and ``basis`` columns.
    title : str, optional
        Default: the headline.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pendo_nb as pn
    >>> from pendo_nb import charts
    >>> _ = pn.connect(sandbox=True)
    >>> charts.pes(pn.metrics.pes(["Dashboard", "Create Project"], end="2026-10-31"))
    <pendo_nb chart: PES (visitors, 30 days to 2026-10-31): 58.4>
    """
    data = frame.assign(
        label=[
            f"{component}{' *' if basis == 'assumption' else ''}"
            for component, basis in zip(frame["component"], frame["basis"], strict=True)
        ],
        text=[f"{score:.0f}" for score in frame["score"]],
    )
    return _bars(data, "label", "score", "text", title=title or headline_text(frame) or "PES",
                 x_title="score (0-100; * rests on an assumption)", domain=(0, 100))  # fmt: skip


def _bars(
    data: pd.DataFrame,
    y: str,
    x: str,
    text: str,
    *,
    title: str,
    x_title: str,
    percent: bool = False,
    domain: tuple[float, float] | None = None,
) -> Chart:
    """Horizontal bars, one per row of ``data`` in its order, each labelled with ``text``."""
    scale = (
        alt.Scale(domain=list(domain))
        if domain
        else alt.Scale(domainMax=float(data[x].max()) * 1.25 or 1)
    )
    base = alt.Chart(data, title=title, width=WIDTH - 200).encode(
        y=alt.Y(f"{y}:N", sort=list(data[y]), title=None),
        x=alt.X(
            f"{x}:Q", title=x_title, scale=scale, axis=alt.Axis(format=".0%" if percent else ",~f")
        ),
        tooltip=[alt.Tooltip(f"{y}:N", title=" "), alt.Tooltip(f"{text}:N", title=" ")],
    )
    return Chart(
        base.mark_bar() + base.mark_text(align="left", dx=4).encode(text=f"{text}:N"), title
    )


def _weekly(cohorts: pd.Series) -> bool:
    """Cohorts a week apart (Sundays) rather than months."""
    return bool(
        len(cohorts) and (cohorts.dt.day_of_week == 6).all() and (cohorts.dt.day != 1).any()
    )


def _period_name(periods: pd.Series) -> str:
    gaps = periods.diff().dropna()
    return "week" if len(gaps) and (gaps == pd.Timedelta(days=7)).all() else "month"


def _period_scale(periods: pd.Series) -> alt.Scale:
    """A date scale fitted to the periods that have values (not the range asked for), half a
    period wider at each end: the first and last points sit inside the plot, whole and hoverable,
    rather than cut in half by its edges."""
    step = periods.drop_duplicates().sort_values().diff().min()
    half = (step if pd.notna(step) else pd.Timedelta(days=1)) / 2
    return alt.Scale(domain=[_iso(periods.min() - half), _iso(periods.max() + half)])


def _iso(day: Any) -> str:
    """A day as Vega-Lite reads a date in a scale domain."""
    return pd.Timestamp(day).strftime("%Y-%m-%dT%H:%M:%S")


def _label(name: Hashable) -> str | None:
    """An axis title in words, never a field path: ``metadata.agent.plan`` -> "plan",
    ``feature.name`` -> "feature", ``numEvents`` -> "num events", ``minutes_per_unit`` ->
    "minutes per unit" (pandas allows any hashable name; Vega-Lite wants text)."""
    if name is None:
        return None
    parts = str(name).split(".")
    word = parts[-2] if parts[-1] in ("name", "id") and len(parts) > 1 else parts[-1]
    word = re.sub(r"([a-z])([A-Z])", lambda m: f"{m[1]} {m[2].lower()}", word)
    return word.replace("_", " ")
