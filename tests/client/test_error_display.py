"""How errors read in a notebook: short by default, the full traceback behind a switch."""

from __future__ import annotations

import re

import pytest

import pendo_nb as pn
from pendo_nb.errors import TRACEBACK_SWITCH, error_for_status

URL = "https://app.pendo.io/api/v1/aggregation"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PARSE_FAILURE = (
    "Cannot parse pipeline[1].filter expression: unexpected '==' at position 5 in \"a == == 1\""
)


def rendered(error: BaseException) -> list[str]:
    return [ANSI.sub("", line) for line in error._render_traceback_()]


def raised(call):
    with pytest.raises(pn.PendoError) as caught:
        call()
    return caught.value


def test_an_api_error_shows_class_message_hint_and_request_in_a_few_lines():
    error = error_for_status(400, method="POST", url=URL, body=PARSE_FAILURE, host="app.pendo.io")
    lines = rendered(error)
    assert lines[0] == f"BadRequestError: {PARSE_FAILURE}"
    assert lines[1:3] == ["    a == == 1", "         ^"]
    assert lines[3].startswith("  hint: fix the expression at character 5")
    assert f"400 from POST {URL}" in lines[4] and "PENDO_NB_TRACEBACK=full" in lines[4]
    assert len(lines) == 5


def test_a_server_side_parse_error_says_its_sentence_once_with_a_caret():
    error = error_for_status(400, method="POST", url=URL, body=PARSE_FAILURE, host="app.pendo.io")
    assert str(error).count("Cannot parse") == 1
    assert "    a == == 1\n         ^" in str(error)


def test_a_pipeline_error_keeps_its_caret_and_names_the_calling_line():
    error = raised(lambda: pn.source.visitors().filter("a == == 1"))
    lines = rendered(error)
    assert lines[0].startswith("PipelineError: filter(expression): cannot parse")
    assert lines[1:3] == ["    a == == 1", "         ^"]
    assert "called from line" in lines[-1] and "<lambda>()" in lines[-1]
    assert not any("pendo_nb/" in line for line in lines)


def test_the_switch_brings_the_full_traceback_back(monkeypatch):
    error = raised(lambda: pn.source.visitors().filter("a == == 1"))
    monkeypatch.setenv(TRACEBACK_SWITCH, "full")
    # IPython shows its own full traceback when the hook raises.
    with pytest.raises(NotImplementedError):
        error._render_traceback_()


def test_a_report_name_passed_as_an_id_gets_the_matching_id(sandbox):
    client = pn.connect(key=sandbox.key, base_url=sandbox.url, rate_limit=None)
    listing = client.reports()
    name, rid = listing["name"].iloc[0], listing["id"].iloc[0]
    for read in (client.report, client.report_csv):
        error = raised(lambda read=read: read(name))
        assert isinstance(error, pn.NotFoundError)
        assert f"pn.report({rid!r})" in error.hint and name in error.hint


def test_an_unknown_report_id_points_to_the_listing(sandbox):
    client = pn.connect(key=sandbox.key, base_url=sandbox.url, rate_limit=None)
    error = raised(lambda: client.report("no-such-report"))
    assert "pn.reports()" in error.hint


def test_a_read_only_key_is_not_called_invalid(sandbox):
    client = pn.connect(key=sandbox.read_only_key, base_url=sandbox.url, rate_limit=None)
    error = raised(lambda: client.update_values("visitor", [{"visitorId": "v", "betaopt": True}]))
    assert isinstance(error, pn.WriteAccessError)
    assert "invalid" not in str(error).lower()
    assert "invalid" not in " ".join(rendered(error)).lower()
    assert rendered(error)[0] == "WriteAccessError: this key may read but not write"


def test_reports_lead_with_the_columns_people_read(sandbox):
    client = pn.connect(key=sandbox.key, base_url=sandbox.url, rate_limit=None)
    columns = list(client.reports().columns)
    assert columns[:6] == [
        "name", "kind", "definition.type", "ownedByUser.username", "lastUpdatedAt", "id",
    ]  # fmt: skip
    assert len(columns) > 30  # the rest is kept


@pytest.mark.parametrize(
    ("call", "headline"),
    [
        (
            lambda: pn.agg.summ,
            "UnknownNameError: pn.agg.summ: no such aggregator. Did you mean 'sum'? "
            "All aggregators: dir(pn.agg)",
        ),
        (
            lambda: pn.source.event,
            "UnknownNameError: pn.source.event: no such source. Did you mean 'events' or "
            "'raw_events' or 'poll_events'? All sources: dir(pn.source)",
        ),
    ],
)
def test_a_misspelt_source_or_aggregator_shows_in_one_line_with_close_matches(call, headline):
    lines = rendered(raised(call))
    assert lines[0] == headline
    assert "_AggregatorFunctions" not in "\n".join(lines)  # no private class named
    assert len(lines) <= 2
