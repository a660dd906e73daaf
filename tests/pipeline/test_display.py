"""How a pipeline shows itself in a notebook: repr, HTML card, code, curl, explain."""

from __future__ import annotations

import json
import shlex

import pendo_nb.pipeline as pn
from pendo_nb.pipeline import Pipeline

P = (
    pn.source.events(app_id="*")
    .last(30, "days")
    .identified("visitorId")
    .group("visitorId", events=pn.agg.sum("numEvents"))
    .filter(pn.col("events") > 10)
    .sort("-events")
    .limit(100)
)


def test_repr_lists_the_steps():
    lines = repr(P).splitlines()
    assert lines[0] == "<Pipeline: 6 steps>"
    assert [line.split()[1] for line in lines[1:]] == [
        "source",
        "identified",
        "group",
        "filter",
        "sort",
        "limit",
    ]
    assert lines[4].endswith('"events > 10"')
    assert lines[6].endswith("100")


def test_repr_of_labels_and_empty_pipeline():
    assert repr(Pipeline()) == "<Pipeline: 0 steps>"
    assert (
        repr(Pipeline().cat().with_request(name="n"))
        == "<Pipeline: 1 step [name='n']>\n   1. cat  null"
    )


def test_html_card_shows_steps_and_escaped_json():
    html = pn.source.visitors().filter('name == "<b>&"')._repr_html_()
    assert "<b>filter</b>" in html and "<b>source</b>" in html
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html.replace("<b>filter</b>", "").replace(
        "<b>source</b>", ""
    )
    assert "<details><summary>JSON</summary>" in html


def test_to_code_is_readable_and_rebuilds_the_pipeline():
    code = P.to_code()
    assert str(code) == (
        "(pn.source.events(app_id='*').time_series('dayRange', first='now()', count=-30)\n"
        " .identified('visitorId')\n"
        " .group('visitorId', events=pn.agg.sum('numEvents'))\n"
        " .filter('events > 10')\n"
        " .sort('-events')\n"
        " .limit(100))"
    )
    assert repr(code) == str(code)  # shown as code in a notebook, not as a quoted string
    assert eval(code, {"pn": pn}) == P


def test_to_code_of_names_that_are_not_identifiers_and_of_labels():
    p = Pipeline().select({"Visitor Count": "n"}).with_request(name="x", request_id="r")
    assert str(p.to_code()) == (
        "(pn.Pipeline()\n"
        " .select({'Visitor Count': 'n'})\n"
        " .with_request(name='x', request_id='r'))"
    )
    assert eval(p.to_code(), {"pn": pn}) == p


def test_to_curl_sends_the_body_and_never_a_key():
    curl = P.to_curl()
    words = shlex.split(str(curl).replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", "https://app.pendo.io/api/v1/aggregation"]
    assert "x-pendo-integration-key: $PENDO_INTEGRATION_KEY" in words
    assert json.loads(words[words.index("--data-raw") + 1]) == P.to_json()


def test_to_curl_quotes_single_quotes_for_the_shell():
    p = pn.source.visitors().filter("name == `O'Brien`")
    words = shlex.split(str(p.to_curl("https://app.eu.pendo.io/")).replace("\\\n", " "))
    assert words[3] == "https://app.eu.pendo.io/api/v1/aggregation"
    assert json.loads(words[words.index("--data-raw") + 1]) == p.to_json()


def test_explain_says_what_each_step_does():
    assert str(P.explain()) == "\n".join(
        [
            '1. read events (appId=expandAppIds("*")) over dayRange periods from now(), count -30',
            "2. keep only identified visitorIds",
            "3. one row per visitorId with events = sum of numEvents",
            "4. keep rows where events > 10",
            "5. sort by events descending",
            "6. keep the first 100 rows",
        ]
    )
    assert str(Pipeline().explain()).startswith("An empty pipeline")
