"""Random splittable pipelines: the windowed answer equals one request's, whatever the shape."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pendo_nb as pn

from .test_exactness import assert_same_rows

FILTERS = ["numEvents > 1", "numMinutes >= 2", 'accountId != ""', "appId == appId", "true"]
COMBINABLE = [("sum", "numEvents"), ("count", None), ("min", "firstTime"), ("max", "numMinutes")]
ANY_AGGREGATOR = [*COMBINABLE, ("avg", "numEvents"), ("count", "visitorId"), ("first", "pageId")]
KEYS = ["visitorId", "accountId", "appId", "userAgent"]


@st.composite
def pipelines(draw):
    days = draw(st.integers(2, 12))
    steps = [
        {
            "source": {
                "events": None,
                "timeSeries": {"period": "dayRange", "first": "now()", "count": -days},
            }
        }
    ]
    steps += [{"filter": f} for f in draw(st.lists(st.sampled_from(FILTERS), max_size=2))]
    shape = draw(st.sampled_from(["rows", "bucket group", "combined group", "reduce", "count"]))
    if shape == "rows":
        return steps, draw(st.sampled_from(["1D", "3D", "1W"]))
    if shape == "count":
        return [*steps, {"count": None}], "1D"
    pool = COMBINABLE if shape != "bucket group" else ANY_AGGREGATOR
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    fields = {f"f{i}": {name: argument} for i, (name, argument) in enumerate(chosen)}
    if shape == "reduce":
        return [*steps, {"reduce": fields}], "1D"
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=2, unique=True))
    if shape == "bucket group":
        keys = ["day", *keys]
    return [*steps, {"group": {"group": keys, "fields": fields}}], draw(
        st.sampled_from(["1D", "2D"])
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=pipelines())
def test_random_splittable_pipelines(client, case):
    steps, size = case
    whole = pn.aggregate(steps, client=client)
    windowed = pn.aggregate(steps, client=client, windows=size, progress=False)
    if whole.empty:
        assert windowed.empty
        return
    assert_same_rows(windowed, whole, ordered=False)
    assert isinstance(windowed.attrs["windows"], int)
    assert pd.Timestamp(windowed.attrs["end"]) > pd.Timestamp(windowed.attrs["start"])
