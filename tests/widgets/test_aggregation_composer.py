"""AggregationComposer driven without a browser.

Expected pipelines are written out by hand; expected results come from posting that hand-written
body to the sandbox with plain requests, or from the generator's raw rows with pandas.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pandas as pd
import pytest
import requests
import responses

import pendo_nb as pn
from pendo_nb.widgets import AggregationComposer
from pendo_nb.widgets.aggregation_composer import object_options

DEFAULT_BODY = {
    "response": {"mimeType": "application/json"},
    "request": {
        "pipeline": [
            {
                "source": {
                    "events": None,
                    "timeSeries": {"period": "dayRange", "first": "now()", "count": -7},
                }
            },
            {"group": {"group": ["visitorId"], "fields": {"events": {"sum": "numEvents"}}}},
            {"sort": ["-events"]},
            {"limit": 100},
        ]
    },
}


@pytest.fixture
def no_http():
    """Every HTTP request is recorded and refused (``responses`` with nothing registered)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def _shown_json(composer: AggregationComposer) -> dict:
    text = re.search(r"<pre[^>]*>(.*)</pre>", composer.json_view.value, re.S).group(1)
    return json.loads(html.unescape(re.sub(r"<[^>]+>", "", text)))  # without the colour spans


def _post(sandbox, body: dict) -> list[dict]:
    response = requests.post(
        f"{sandbox.url}/api/v1/aggregation",
        json=body,
        headers={"x-pendo-integration-key": sandbox.key},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["results"]


def test_the_default_form_shows_its_pipeline_json(client):
    composer = AggregationComposer(client=client)
    assert composer.field_errors == {}
    assert _shown_json(composer) == DEFAULT_BODY
    assert composer.pipeline.to_json() == DEFAULT_BODY


def test_the_json_follows_every_change(client):
    composer = AggregationComposer(client=client)
    composer.app_select.value = "*"
    composer.last_n.value = 3
    composer.last_unit.value = "weekRange"
    composer.filter_text.value = 'accountId != ""'
    composer.group_by.value = ["accountId", "day"]
    composer.add_aggregator("visitors", "count", "visitorId")
    composer.sort_text.value = "-events, accountId"
    composer.limit.value = 0

    assert _shown_json(composer)["request"]["pipeline"] == [
        {
            "source": {
                "events": {"appId": 'expandAppIds("*")'},
                "timeSeries": {"period": "weekRange", "first": "now()", "count": -3},
            }
        },
        {"filter": 'accountId != ""'},
        {
            "group": {
                "group": ["accountId", "day"],
                "fields": {"events": {"sum": "numEvents"}, "visitors": {"count": "visitorId"}},
            }
        },
        {"sort": ["-events", "accountId"]},
    ]


def test_run_returns_what_the_sandbox_answers_for_the_same_body(client, sandbox):
    expected = _post(sandbox, DEFAULT_BODY)
    composer = AggregationComposer(client=client)
    received = []
    composer.on_run(received.append)

    composer.run_button.click()

    assert composer.result["visitorId"].tolist() == [r["visitorId"] for r in expected]
    assert composer.result["events"].tolist() == [r["events"] for r in expected]
    assert received == [composer.result]
    assert f"{len(expected)} rows × 2 columns" in composer.table.value


def test_a_snapshot_source_takes_no_dates_and_counts_match_the_raw_rows(client, sandbox):
    raw = pd.DataFrame(
        {
            "role": [
                v["metadata"].get("agent", {}).get("role")
                for v in sandbox.subscription.visitors.values()
            ]
        }
    )
    expected = raw.dropna().value_counts("role").to_dict()
    composer = AggregationComposer(client=client)
    composer.source_select.value = "visitors"
    composer.group_by.value = ["metadata.agent.role"]
    row = composer.aggregator_rows.children[0]
    row.out.value, row.function.value, row.field.value = "visitors", "count", ""
    composer.sort_text.value = ""

    assert composer.dates_row.layout.display == "none"
    assert composer.snapshot_row.layout.display is None
    assert "timeSeries" not in _shown_json(composer)["request"]["pipeline"][0]["source"]
    result = composer.run()
    counted = {
        r: n
        for r, n in zip(result["metadata.agent.role"], result["visitors"], strict=True)
        if pd.notna(r)  # missing text is NaN (pandas' str dtype)
    }
    assert counted == expected


def test_invalid_input_is_flagged_at_its_field_and_nothing_is_sent(no_http):
    nowhere = pn.connect(key="k", base_url="http://127.0.0.1:9", cache=False, retry=None)
    composer = AggregationComposer(client=nowhere)
    composer.filter_text.value = "numEvents >"

    assert set(composer.field_errors) == {"filter"}
    assert "position 11" in composer.errors["filter"].value
    assert "pendo-field-error" in composer.filter_text._dom_classes
    assert composer.pipeline is None and composer.run_button.disabled
    assert "Fix the flagged fields" in composer.json_view.value
    assert composer.run() is None
    assert "nothing was sent" in composer.status.value
    assert composer.status.error is None
    assert len(no_http.calls) == 0  # the mock saw no request (it would refuse any)

    composer.filter_text.value = "numEvents > 3"
    assert composer.field_errors == {}
    assert "pendo-field-error" not in composer.filter_text._dom_classes
    assert composer.errors["filter"].value == ""


def test_each_field_gets_its_own_message(client):
    composer = AggregationComposer(client=client)
    composer.range_mode.value = "between"
    composer.start_date.value = dt.date(2026, 10, 20)
    composer.end_date.value = dt.date(2026, 10, 10)
    composer.group_by.value = ["not a field"]
    composer.aggregator_rows.children[0].out.value = ""
    composer.limit.value = 0

    assert set(composer.field_errors) == {"dates", "aggregators"}
    assert "start (2026-10-20) is after the end" in composer.errors["dates"].value
    assert "needs an output name" in composer.errors["aggregators"].value

    composer.aggregator_rows.children[0].out.value = "events"
    assert set(composer.field_errors) == {"dates", "group"}
    assert "'not a field' is not a field name" in html.unescape(composer.errors["group"].value)


def test_between_dates_and_aggregator_rows(client):
    composer = AggregationComposer(client=client)
    composer.range_mode.value = "between"
    composer.start_date.value = dt.date(2026, 10, 1)
    composer.end_date.value = dt.date(2026, 10, 5)
    extra = composer.add_aggregator("minutes", "max", "numMinutes")
    composer.remove_aggregator(composer.aggregator_rows.children[0])
    composer.sort_text.value = "-minutes"

    pipeline = _shown_json(composer)["request"]["pipeline"]
    assert pipeline[0]["source"]["timeSeries"] == {
        "period": "dayRange",
        "first": 'date("2026-10-01")',
        "last": 'date("2026-10-05")',
    }
    assert pipeline[1]["group"]["fields"] == {"minutes": {"max": "numMinutes"}}
    assert composer.aggregator_rows.children == (extra,)


def test_between_dates_default_to_the_week_before_the_servers_today(client, sandbox):
    composer = AggregationComposer(client=client)
    assert composer.start_date.value is None and composer.end_date.value is None
    composer.range_mode.value = "between"
    server_today = pd.Timestamp(sandbox.subscription.now_ms, unit="ms", tz="UTC").date()
    assert composer.end_date.value == server_today
    assert composer.start_date.value == server_today - dt.timedelta(days=7)
    assert composer.field_errors == {}


def test_a_between_range_reads_the_chosen_period(client, sandbox):
    composer = AggregationComposer(client=client)
    composer.range_mode.value = "between"
    composer.start_date.value = dt.date(2026, 9, 1)
    composer.end_date.value = dt.date(2026, 10, 31)
    composer.between_period.value = "weekRange"
    composer.group_by.value = ["visitorId", "week"]
    shown = _shown_json(composer)
    assert shown["request"]["pipeline"][0]["source"]["timeSeries"] == {
        "period": "weekRange",
        "first": 'date("2026-09-01")',
        "last": 'date("2026-10-31")',
    }
    composer.run_button.click()
    expected = _post(sandbox, shown)
    assert len(composer.result) == len(expected) > 0
    # Week buckets: their calendar start (the sandbox is UTC), without a zone.
    weeks = {pd.Timestamp(row["week"], unit="ms") for row in expected}
    assert set(composer.result["week"]) == weeks
    composer.source_select.value = "visitors"  # a snapshot: no dates, nor their line
    assert composer.between_box.layout.display == "none"


def test_copy_as_code_shows_builder_code_that_rebuilds_the_same_pipeline(client):
    composer = AggregationComposer(client=client)
    composer.filter_text.value = "numMinutes >= 2"
    assert composer.code_view.layout.display == "none"

    composer.code_button.value = True

    assert composer.code_view.layout.display is None
    code = composer.code_view.value
    assert code.startswith("(pn.source.events(")
    rebuilt = eval(code, {"pn": pn})  # the code a user would paste into a cell
    assert rebuilt.to_json() == composer.pipeline.to_json()


def test_copy_as_code_is_a_button_holding_the_code_for_the_clipboard(client):
    composer = AggregationComposer(client=client)
    composer.filter_text.value = "numMinutes >= 2"
    button = composer.copy_code.value
    assert "navigator.clipboard.writeText" in button and ">Copy as code</button>" in button
    copied = html.unescape(re.search(r'data-copy="([^"]*)"', button).group(1))
    assert copied == composer.code_view.value
    assert eval(copied, {"pn": pn}).to_json() == composer.pipeline.to_json()
    composer.filter_text.value = "("  # no pipeline: nothing to copy
    assert composer.copy_code.value == ""


def test_composer_state_never_holds_the_key(client, sandbox, widget_state):
    composer = AggregationComposer(client=client)
    composer.run()
    composer.code_button.value = True
    state = widget_state(composer)
    assert "numEvents" in state
    assert sandbox.key not in state


def test_the_text_form_says_whether_the_form_is_valid(client):
    composer = AggregationComposer(client=client)
    assert repr(composer) == "AggregationComposer(source='events', valid=True)"
    composer.filter_text.value = "("
    assert repr(composer) == "AggregationComposer(source='events', valid=False)"


def test_a_result_never_stays_under_a_changed_pipeline(client):
    composer = AggregationComposer(client=client)
    composer.limit.value = 5
    assert len(composer.run()) == 5
    composer.sort_text.value = "-events"  # the same value: the result still answers the form
    assert composer.result is not None
    composer.limit.value = 3
    assert composer.result is None and composer.table.value == ""


def _catalog(sandbox, path: str) -> dict[str, str]:
    response = requests.get(
        f"{sandbox.url}/api/v1/{path}?expand=*",
        headers={"x-pendo-integration-key": sandbox.key},
        timeout=30,
    )
    response.raise_for_status()
    return {item["id"]: item["name"] for item in response.json()}


def test_a_source_of_one_kind_of_object_offers_them_by_name(client, sandbox):
    features = _catalog(sandbox, "feature")
    composer = AggregationComposer()
    assert composer.object_row.layout.display == "none"  # events: no object to pick
    composer.source_select.value = "featureEvents"
    assert composer.object_row.layout.display is None
    assert composer.object_row.children[0].value == "Feature"
    options = composer.object_select.options
    assert options[0] == ("all features", "")
    assert dict((v, k) for k, v in options[1:]) == features
    assert [k for k, _ in options[1:]] == sorted(features.values(), key=str.casefold)

    saved = next(i for i, name in features.items() if name == options[1][0])
    composer.object_select.value = saved
    source = composer.pipeline.to_json()["request"]["pipeline"][0]["source"]
    assert source["featureEvents"] == {"featureId": saved}
    composer.source_select.value = "trackEvents"
    assert composer.object_row.children[0].value == "Track type"
    assert composer.object_select.value == ""  # a feature is not a track type
    composer.source_select.value = "visitors"
    assert composer.object_row.layout.display == "none"
    assert composer.pipeline.to_json()["request"]["pipeline"][0]["source"] == {"visitors": None}


def test_names_sharing_a_name_show_their_ids():
    names = pd.DataFrame({"id": ["b", "a", "c"], "name": ["Home", "Home", "about"]})
    assert object_options(names, "Page") == [
        ("all pages", ""), ("about", "c"), ("Home · a", "a"), ("Home · b", "b"),
    ]  # fmt: skip


def test_the_ids_a_filter_compares_show_their_names(client, sandbox):
    feature, name = next(iter(_catalog(sandbox, "feature").items()))
    composer = AggregationComposer()
    composer.filter_text.value = f'featureId == "{feature}" && pageId != "nope"'
    shown = html.unescape(composer.filter_names.value)
    assert f'featureId "{feature}" → {name}' in shown
    assert 'pageId "nope": no such page' in shown
    composer.filter_text.value = "numEvents > 3"
    assert composer.filter_names.value == ""


def test_filter_names_say_so_when_they_cannot_be_read(no_http):
    composer = AggregationComposer()  # no client: pn.connect() was never called
    composer.filter_text.value = 'pageId == "x"'
    assert "names unavailable" in composer.filter_names.value
    assert composer.pipeline is not None  # the filter itself is fine


def test_the_result_table_names_the_ids_and_result_stays_as_aggregate_returns_it(client, sandbox):
    features = _catalog(sandbox, "feature")
    composer = AggregationComposer()
    composer.source_select.value = "featureEvents"
    composer.group_by.value = ["featureId"]
    frame = composer.run()
    assert list(frame.columns) == ["featureId", "events"]
    shown = composer.table.frame
    assert list(shown.columns) == ["featureId", "featureName", "events"]
    assert shown["featureName"].tolist() == [features[i] for i in shown["featureId"]]


def test_a_field_the_rows_lack_is_noted_on_the_form_not_in_the_log(client, recwarn):
    composer = AggregationComposer(client=client)
    composer.group_by.value = ["visitorID"]

    assert composer.field_errors == {}  # Pendo would run it: a note, not an error
    assert composer.field_notes == [
        "pipeline[1].group(keys): events rows have no field 'visitorID', so Pendo reads it as "
        "null. Did you mean 'visitorId'?"
    ]
    assert "Did you mean &#x27;visitorId&#x27;?" in composer.status.value
    assert not [w for w in recwarn if issubclass(w.category, pn.errors.FieldWarning)]

    composer.group_by.value = ["visitorId"]
    assert composer.field_notes == []
