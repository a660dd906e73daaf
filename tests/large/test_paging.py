"""Cursor paging: every row once, in key order, across ids with quotes, backslashes, control
characters and any Unicode; keys that cannot page are refused."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.errors import PipelineError, ValidationError
from pendo_nb.pulls.paging import expression_literal

TRICKY_IDS = [
    'quo"te',
    "back\\slash",
    'both\\"',
    "it's",
    "ünïcödé",
    "日本語",
    "emoji 🎉",
    "tab\there",
    "new\nline",
    "Zulu",
    "zulu",
    "  spaced  ",
]
MARK = "paging-test"


def test_ids_with_quotes_and_unicode_page_without_gaps_or_repeats(fresh_sandbox, make_client):
    client = make_client(fresh_sandbox.url, fresh_sandbox.key, cache=False)
    rows = [{"visitorId": vid, "department": MARK} for vid in TRICKY_IDS]
    written = pn.update_values("visitor", rows, create=True, client=client)
    assert set(written["outcome"]) == {"updated"}
    mine = [
        {"source": {"visitors": None}},
        {"filter": f'metadata.custom.department == "{MARK}"'},
        {"select": {"visitorId": "visitorId"}},
    ]
    paged = pn.aggregate(mine, client=client, page_size=3, progress=False)
    # Python compares strings by code point, which is the order of their UTF-8 bytes too.
    assert paged["visitorId"].tolist() == sorted(TRICKY_IDS)
    assert paged.attrs["page_key"] == "visitorId"
    assert paged.attrs["pages"] == 5  # 4 full pages, then one holding only the row already seen


def test_all_visitors_paged_equal_one_request(client):
    whole = pn.aggregate([{"source": {"visitors": None}}], client=client)
    paged = pn.aggregate(
        [{"source": {"visitors": None}}], client=client, page_size=37, progress=False
    )
    assert paged.attrs["pages"] == math.ceil(len(whole) / 37) + (len(whole) % 37 == 0)
    expected = whole.sort_values("visitorId").reset_index(drop=True)
    pd.testing.assert_frame_equal(paged, expected[paged.columns], check_like=True)


def test_a_trailing_sort_on_a_time_key_pages(client):
    days = [
        {
            "source": {
                "events": None,
                "timeSeries": {"period": "dayRange", "first": "now()", "count": -30},
            }
        },
        {"group": {"group": ["day"], "fields": {"n": {"sum": "numEvents"}}}},
    ]
    whole = pn.aggregate(days, client=client).sort_values("day").reset_index(drop=True)
    paged = pn.aggregate([*days, {"sort": ["day"]}], client=client, page_size=7, progress=False)
    assert len(whole) == 29  # the small sandbox has events on 29 of these days
    assert paged.attrs["pages"] == 5  # 7 + 7 + 7 + 7 + 1
    pd.testing.assert_frame_equal(paged, whole)


@pytest.mark.parametrize(
    "value",
    [
        'a"b',
        "c\\d",
        '\\"',
        "line\nbreak\ttab\x01",
        "ünï 日本 🎉",
        "",
        0,
        -7,
        2**53,
        0.1,
        -2.5,
        1e-7,
        123456789.125,
        1 / 3,
    ],
)
def test_literals_read_back_as_the_same_value(client, value):
    probe = [
        {"source": {"visitors": None}},
        {"limit": 1},
        {"select": {"v": expression_literal(value)}},
    ]
    assert client.post_aggregation(probe).json()["results"][0]["v"] == value


@pytest.mark.parametrize("value", [None, True, float("nan"), float("inf"), [1], {"a": 1}])
def test_literals_refuse_what_cannot_be_a_key(value):
    with pytest.raises(ValidationError, match="paging key"):
        expression_literal(value)


def test_a_key_that_is_not_unique_is_refused(client):
    events = [
        {
            "source": {
                "events": None,
                "timeSeries": {"period": "dayRange", "first": "now()", "count": -3},
            }
        },
        {"sort": ["appId"]},
    ]
    with pytest.raises(PipelineError, match="'appId' .* appears more than once"):
        pn.aggregate(events, client=client, page_size=5, progress=False)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"source": {"visitors": None}}, {"select": {"name": "metadata.agent.name"}}],
            "no 'visitorId' field",
        ),
        ([{"source": {"visitors": None}}, {"limit": 10}], "ends with a limit"),
        ([{"source": {"visitors": None}}, {"sort": ["-visitorId"]}], "one unique key ascending"),
        ([{"source": {"pages": None}}], "cannot tell a unique key"),
    ],
)
def test_pipelines_that_cannot_page(client, steps, message):
    with pytest.raises(PipelineError, match=message):
        pn.aggregate(steps, client=client, page_size=10, progress=False)


def test_page_size_checks(client):
    with pytest.raises(ValidationError, match="page_size must be a positive integer"):
        pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=0)
    with pytest.raises(ValidationError, match="not both"):
        pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=5, windows="1D")


def test_paging_progress_bar(client, capsys):
    pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=50, progress=False)
    assert capsys.readouterr().err == ""
    pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=50, progress=True)
    shown = capsys.readouterr().err
    assert "pages" in shown and "200" in shown
