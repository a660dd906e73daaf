"""A misspelt source or aggregator: one short error, close matches, where the full list is."""

from __future__ import annotations

import pytest

import pendo_nb as pn
from pendo_nb.errors import PipelineError, UnknownNameError


@pytest.mark.parametrize(
    ("get", "expected"),
    [
        (lambda: pn.agg.summ, "pn.agg.summ: no such aggregator. Did you mean 'sum'?"),
        (lambda: pn.agg.cout, "Did you mean 'count'"),
        (lambda: pn.source.event, "pn.source.event: no such source. Did you mean 'events'"),
        (lambda: pn.source.pageEvent, "Did you mean 'page_events'"),
        (lambda: pn.source.featureevents, "Did you mean 'feature_events'"),
    ],
)
def test_a_misspelt_name_gets_close_matches(get, expected):
    with pytest.raises(UnknownNameError) as caught:
        get()
    assert expected in str(caught.value)


def test_the_error_points_at_the_full_list_instead_of_printing_it():
    with pytest.raises(UnknownNameError) as source:
        pn.source.xyzzy  # noqa: B018
    with pytest.raises(UnknownNameError) as aggregator:
        pn.agg.xyzzy  # noqa: B018
    assert str(source.value) == "pn.source.xyzzy: no such source. All sources: dir(pn.source)"
    assert str(aggregator.value) == "pn.agg.xyzzy: no such aggregator. All aggregators: dir(pn.agg)"


def test_the_error_is_an_attribute_error_and_a_pipeline_error():
    assert issubclass(UnknownNameError, AttributeError)
    assert issubclass(UnknownNameError, PipelineError)
    assert not hasattr(pn.agg, "summ")
    assert not hasattr(pn.source, "event")
    assert getattr(pn.agg, "summ", None) is None


def test_dir_lists_exactly_the_names_that_work():
    assert "sum" in dir(pn.agg) and "count_if" in dir(pn.agg)
    assert not [name for name in dir(pn.agg) if name.startswith("_")]
    for name in dir(pn.agg):
        assert callable(getattr(pn.agg, name))
    assert "page_events" in dir(pn.source) and "events" in dir(pn.source)
    assert not [name for name in dir(pn.source) if name.startswith("_")]


def test_pendos_own_aggregator_names_reach_the_functions():
    assert pn.agg.countIf(None, "numEvents > 1") == pn.agg.count_if(None, "numEvents > 1")
    assert pn.agg.listAverage("x") == pn.agg.list_average("x")


def test_an_unknown_aggregator_in_json_gets_close_matches():
    body = [{"source": {"visitors": None}}, {"reduce": {"n": {"summ": "x"}}}]
    with pytest.raises(PipelineError, match="unknown aggregator. Did you mean 'sum'"):
        pn.Pipeline.from_json(body)


def test_an_unknown_source_in_json_gets_close_matches():
    with pytest.raises(PipelineError, match="unknown source 'event'. Did you mean 'events'"):
        pn.Pipeline.from_json([{"source": {"event": None}}])
