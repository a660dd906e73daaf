"""pendo_nb.charts: each chart carries an interactive Vega-Lite spec and a static PNG."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("altair")
from pendo_nb import charts  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def bundle(chart):
    data, metadata = chart._repr_mimebundle_()
    return data, metadata


def test_over_time_has_a_date_axis_and_both_representations():
    frame = pd.DataFrame(
        {"day": pd.date_range("2026-10-01", periods=3, tz="UTC"), "visitors": [3, 5, 4]}
    )
    data, metadata = bundle(charts.over_time(frame, "day", "visitors", title="Active"))
    spec = data["application/vnd.vegalite.v5+json"]
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert data["image/png"].startswith(PNG_MAGIC) and metadata["image/png"]["width"] == 640
    assert data["text/plain"] == "<pendo_nb chart: Active>"


def test_heatmap_reads_dotted_row_names_and_labels_percentages():
    frame = pd.DataFrame(
        [[0.1, 0.9]],
        index=pd.Index(["Export CSV"], name="feature.name"),
        columns=pd.Index(["free", "pro"], name="plan"),
    )
    data, _ = bundle(charts.heatmap(frame, title="Adoption"))
    spec = data["application/vnd.vegalite.v5+json"]
    (rows,) = spec["datasets"].values()
    assert {row["row"] for row in rows} == {"Export CSV"}  # a dot would read as nesting
    assert data["image/png"].startswith(PNG_MAGIC)


def test_funnel_labels_each_step_with_its_share_of_the_first():
    steps = pd.Series([200, 150, 50], index=["seen", "advanced", "dismissed"])
    data, _ = bundle(charts.funnel(steps, title="Funnel"))
    (rows,) = data["application/vnd.vegalite.v5+json"]["datasets"].values()
    assert [row["label"] for row in rows] == [" 200 (100%)", " 150 (75%)", " 50 (25%)"]


def test_retention_is_a_cohort_by_period_heatmap():
    cohorts = pd.DataFrame(
        [[1.0, 0.5], [1.0, None]], index=pd.DatetimeIndex(["2026-10-05", "2026-10-12"])
    )
    data, _ = bundle(charts.retention(cohorts, title="Retention"))
    (rows,) = data["application/vnd.vegalite.v5+json"]["datasets"].values()
    assert {row["row"] for row in rows} == {"2026-10-05", "2026-10-12"}
    assert {row["column"] for row in rows} == {"0", "1"}


def test_a_discrete_axis_is_drawn_as_bars_titled_in_words():
    answers = pd.DataFrame({"score": range(11), "numVisitors": range(11)})
    data, _ = bundle(charts.over_time(answers, "score", "numVisitors", title="NPS answers"))
    spec = data["application/vnd.vegalite.v5+json"]
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y"]["title"] == "num visitors"


def test_a_date_axis_spans_the_days_with_values():
    frame = pd.DataFrame(
        {"day": pd.date_range("2026-09-01", periods=60), "ratio": [None] * 29 + [40.0] * 31}
    )
    data, _ = bundle(charts.over_time(frame, "day", "ratio", title="DAU/MAU", percent=True))
    spec = data["application/vnd.vegalite.v5+json"]
    # The days with a value (30 Sep to 30 Oct), half a day wider at each end: the first and
    # last points are drawn whole inside the plot, not cut by its edges.
    assert spec["encoding"]["x"]["scale"]["domain"] == [
        "2026-09-29T12:00:00",
        "2026-10-30T12:00:00",
    ]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    (rows,) = spec["datasets"].values()
    assert {row["value"] for row in rows} == {0.4}  # percent shown as a share, labelled with %


def test_heatmap_axes_are_titled_in_words_and_empty_cells_stay_blank():
    frame = pd.DataFrame(
        [[0.1, None]],
        index=pd.Index(["Export CSV"], name="feature.name"),
        columns=pd.Index(["free", "pro"], name="metadata.agent.plan"),
    )
    spec = bundle(charts.heatmap(frame, title="Adoption"))[0]["application/vnd.vegalite.v5+json"]
    layer = spec["layer"][0]["encoding"]
    assert layer["x"]["title"] == "plan" and layer["y"]["title"] == "feature"
    (rows,) = spec["datasets"].values()
    assert [row["column"] for row in rows] == ["free"]


def test_a_weekly_date_axis_leaves_half_a_week_beyond_its_end_points():
    frame = pd.DataFrame(
        {
            "week": pd.date_range("2026-10-04", periods=4, freq="7D", tz="UTC"),
            "visitors": [1, 2, 3, 4],
        }
    )
    spec = bundle(charts.over_time(frame, "week", "visitors", title="Weekly"))[0][
        "application/vnd.vegalite.v5+json"
    ]
    low, high = (pd.Timestamp(day) for day in spec["encoding"]["x"]["scale"]["domain"])
    first, last = (day.tz_localize(None) for day in (frame["week"].min(), frame["week"].max()))
    assert first - low == high - last == pd.Timedelta(days=3.5)
