"""Splits that would change the answer are refused before any request, saying why and what to
change."""

from __future__ import annotations

import pytest

import pendo_nb as pn
from pendo_nb.errors import PipelineError, ValidationError
from pendo_nb.pulls.windows import WindowSize, split_plan

DAYS = {"period": "dayRange", "first": "now()", "count": -30}
EVENTS = {"source": {"events": None, "timeSeries": DAYS}}


def by_visitor(fields):
    return {"group": {"group": ["visitorId"], "fields": fields}}


@pytest.mark.parametrize(
    ("steps", "size", "expected"),
    [
        (
            [EVENTS, by_visitor({"pages": {"count": "pageId"}})],
            "1D",
            [
                "pipeline[1] (group).fields.pages (count)",
                "distinct count",
                "counted twice",
                "add the period bucket 'day' to the group keys",
            ],
        ),
        (
            [EVENTS, by_visitor({"a": {"avg": "numEvents"}})],
            "1D",
            ["(avg)", "use sum and count (count: null) and divide in pandas"],
        ),
        ([EVENTS, by_visitor({"m": {"median": "numEvents"}})], "1D", ["(median)", "median"]),
        ([EVENTS, by_visitor({"f": {"first": "pageId"}})], "1D", ["(first)", "comes first"]),
        ([EVENTS, {"reduce": {"ids": {"list": "visitorId"}}}], "1D", ["(list)", "window order"]),
        (
            [EVENTS, {"limit": 100}, by_visitor({"n": {"sum": "numEvents"}})],
            "1D",
            [
                "pipeline[1] (limit)",
                "first rows of the whole range",
                "the group after it",
                "put the limit at the end after a sort",
            ],
        ),
        (
            [EVENTS, by_visitor({"n": {"sum": "numEvents"}}), {"filter": "n > 10"}],
            "1D",
            [
                "pipeline[2] (filter) comes after pipeline[1] (group)",
                "apply it to the DataFrame",
                "add the period bucket 'day'",
            ],
        ),
        (
            [EVENTS, {"limit": 5}],
            "1D",
            ["pipeline[1] (limit)", "after a sort"],
        ),
        ([EVENTS, {"join": {"fields": ["visitorId"], "width": 2}}], "1D", ["(join)", "not known"]),
        (
            [{"source": {"guidesSeen": None, "timeSeries": DAYS}}],
            "1D",
            ["guidesSeen keeps each visitor's last view", "guidesSeenEver"],
        ),
        ([{"source": {"visitors": None}}], "1D", ["no timeSeries", "page_size="]),
        (
            [{"source": {"events": None, "timeSeries": {**DAYS, "period": "daily"}}}],
            "1D",
            ["'daily' cannot be split", "dayRange"],
        ),
        ([EVENTS], "1H", ["windows='1H' is shorter than", "dayRange", "'1D'"]),
        (
            [{"source": {"events": None, "timeSeries": {**DAYS, "period": "weekRange"}}}],
            "1M",
            ["windows='1M' does not align with", "weekRange", "'1W'"],
        ),
        (
            [EVENTS, {"fork": [[{"filter": "true"}], [by_visitor({"n": {"sum": "numEvents"}})]]}],
            "1D",
            ["branch 1 step 0 (group) is not row-wise"],
        ),
    ],
)
def test_refusal_says_why_and_what_to_change(steps, size, expected):
    with pytest.raises(PipelineError) as caught:
        split_plan(steps, WindowSize.parse(size))
    message = str(caught.value)
    for part in expected:
        assert part in message


def test_a_bucket_lost_to_select_is_no_longer_a_key():
    steps = [
        EVENTS,
        {"select": {"visitorId": "visitorId", "n": "numEvents"}},
        {"group": {"group": ["visitorId", "day"], "fields": {"m": {"median": "n"}}}},
    ]
    with pytest.raises(PipelineError, match=r"\(median\) cannot be combined"):
        split_plan(steps, WindowSize.parse("1D"))
    kept = [EVENTS, {"select": {"day": "day", "n": "numEvents"}}, steps[2]]
    assert split_plan(kept, WindowSize.parse("1D")).keys is None  # grouped per day: no combine


@pytest.mark.parametrize("size", ["", "1X", "0D", "D1", 7, None])
def test_bad_window_sizes(size):
    with pytest.raises(ValidationError, match="expected a size such as '1D'"):
        WindowSize.parse(size)


def test_forced_windows_refused_before_any_request(proxy, make_client):
    client = make_client(proxy.url, "unused-key-0000000000")
    proxy.fail = lambda method, path, body: pytest.fail(f"a request was sent: {method} {path}")
    with pytest.raises(PipelineError, match="distinct count"):
        pn.aggregate([EVENTS, by_visitor({"p": {"count": "pageId"}})], client=client, windows="1D")


def test_bad_workers(client):
    with pytest.raises(ValidationError, match="workers must be a positive integer"):
        pn.aggregate([EVENTS], client=client, windows="1D", workers=0)
