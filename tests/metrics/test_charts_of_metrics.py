"""One chart per metric frame: the right kind of mark, percentages as shares labelled with %,
dates as dates, titles in words, and a PNG."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn

charts = pytest.importorskip("pendo_nb.charts")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OCTOBER = ("2026-10-01", "2026-10-31")


@pytest.fixture(scope="module")
def frames(sandbox):
    client = pn.connect(sandbox=sandbox, cache=False)
    core = ["Dashboard", "Create Project", "Report Exported"]
    return {
        "active": pn.metrics.active("account", "week", *OCTOBER, client=client),
        "stickiness": pn.metrics.stickiness("DAU/MAU", "visitor", *OCTOBER, client=client),
        "retention": pn.metrics.retention("week", "visitor", *OCTOBER, periods=3, client=client),
        "frequency": pn.metrics.frequency("visitor", OCTOBER[1], client=client),
        "time_on_app": pn.metrics.time_on_app("visitor", *OCTOBER, client=client),
        "feature_adoption": pn.metrics.feature_adoption(core, "visitor", *OCTOBER, client=client),
        "nps": pn.metrics.nps("Acme Projects NPS", *OCTOBER, client=client),
        "guide_conversion": pn.metrics.guide_conversion(
            "Welcome to Acme Projects", "Create Project", "visitor", *OCTOBER, client=client
        ),
        "pes": pn.metrics.pes(core, "visitor", OCTOBER[1], client=client),
    }


def spec_of(chart):
    data, _ = chart._repr_mimebundle_()
    assert data["image/png"].startswith(PNG_MAGIC)
    return data["application/vnd.vegalite.v5+json"]


def marks(spec):
    layers = spec.get("layer", [spec])
    return [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in layers
    ]


@pytest.mark.parametrize(
    "name,mark",
    [
        ("active", "bar"),  # weeks: bars
        ("stickiness", "line"),
        ("retention", "rect"),
        ("frequency", "bar"),
        ("time_on_app", "line"),
        ("feature_adoption", "bar"),
        ("nps", "bar"),
        ("guide_conversion", "bar"),
        ("pes", "bar"),
    ],
)
def test_each_metric_has_its_chart(frames, name, mark):
    spec = spec_of(getattr(charts, name)(frames[name]))
    assert mark in marks(spec)
    text = str(spec)
    assert "visitorId" not in text and "metadata." not in text  # titles in words


def test_stickiness_chart_titles_the_headline_and_labels_percentages(frames):
    chart = charts.stickiness(frames["stickiness"])
    assert (
        repr(chart)
        == f"<pendo_nb chart: mean DAU/MAU (visitors): {frames['stickiness'].headline:.1f}%>"
    )
    line = spec_of(chart)["layer"][0]
    assert line["encoding"]["y"]["axis"]["format"] == ".0%"
    # The axis spans the days with a ratio (the small sandbox's data starts on 3 October), with
    # half a day's room at each end so the end points are drawn whole.
    days = frames["stickiness"].dropna()["day"]
    half_day = pd.Timedelta(hours=12)
    domain = [
        f"{days.min() - half_day:%Y-%m-%dT%H:%M:%S}",
        f"{days.max() + half_day:%Y-%m-%dT%H:%M:%S}",
    ]
    assert line["encoding"]["x"]["scale"]["domain"] == domain
    assert days.min() > frames["stickiness"]["day"].min()


def test_shares_are_drawn_as_fractions_labelled_with_percent(frames):
    spec = spec_of(charts.feature_adoption(frames["feature_adoption"]))
    (rows,) = spec["datasets"].values()
    shares = frames["feature_adoption"]["share"].tolist()
    assert [row["fraction"] for row in rows] == pytest.approx([s / 100 for s in shares])
    assert rows[0]["text"].startswith(f"{shares[0]:.0f}% (")
