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
    # Issue 16 replaced the folded JSON with JSON / Python / curl views and a copy button.
    assert "<button class='pendo-nb-copy'>Copy</button>" in html
    assert all(
        view in html for view in ("data-view='json'", "data-view='python'", "data-view='curl'")
    )


def _views(html: str) -> dict[str, str]:
    """Each view's text as the page shows it (tags dropped, entities read)."""
    import html as html_module
    import re

    return {
        name: html_module.unescape(re.sub(r"<[^>]+>", "", text))
        for name, text in re.findall(r"<pre data-view='(\w+)'[^>]*>(.*?)</pre>", html, re.S)
    }


def test_card_views_hold_the_json_the_code_and_curl():
    views = _views(P._repr_html_())
    assert json.loads(views["json"]) == P.to_json()
    assert views["python"] == str(P.to_code())
    assert views["curl"] == str(P.to_curl())  # not connected: Pendo's US host


def test_card_json_is_coloured_by_token():
    html = pn.Pipeline.from_json([{"limit": 3}, {"filter": "x"}])._repr_html_()
    assert "<span style='color:#0451a5'>&quot;limit&quot;</span>: " in html
    assert "<span style='color:#098658'>3</span>" in html
    assert "<span style='color:#a31515'>&quot;x&quot;</span>" in html


def test_card_without_a_connection_shows_the_expressions_only():
    html = P._repr_html_()
    assert "server clock" not in html
    assert "dayRange periods from now(), count -30" in html


def test_card_shows_the_dates_on_the_server_clock(sandbox, monkeypatch):
    import pendo_nb
    from pendo_nb.pipeline import server_dates

    client = pendo_nb.connect(sandbox=sandbox)
    calls = []
    real = server_dates.aggregate
    monkeypatch.setattr(server_dates, "aggregate", lambda *a, **k: calls.append(a) or real(*a, **k))
    # The sandbox's clock is 2026-11-01 12:00 UTC: the 30 days before today, then the 2 weeks
    # (from Sunday) holding now and the week before, then the 3 hours before this one.
    assert "dayRange: 2026-10-02 → 2026-11-01 (server clock)" in P._repr_html_()
    assert "dayRange: 2026-10-02 → 2026-11-01 (server clock)" in P.limit(5)._repr_html_()
    assert len(calls) == 1  # one probe per time series and client, then reused
    weeks = pn.source.events().last(2, "weeks", include_current=True)
    assert "weekRange: 2026-10-25 → 2026-11-08 (server clock)" in weeks._repr_html_()
    hours = pn.source.events().last(3, "hours")
    assert "hourRange: 2026-11-01 09:00 → 2026-11-01 12:00 (server clock)" in hours._repr_html_()
    days = pn.source.events().between("2026-10-01", "2026-10-03")
    assert "dayRange: 2026-10-01 → 2026-10-04 (server clock)" in days._repr_html_()
    assert _views(P._repr_html_())["curl"] == str(P.to_curl(client=client))


def test_card_falls_back_to_the_expressions_when_the_server_fails(sandbox, monkeypatch):
    import pendo_nb
    from pendo_nb.errors import PendoAPIError
    from pendo_nb.pipeline import server_dates

    pendo_nb.connect(sandbox=sandbox)

    def refuse(*args, **kwargs):
        raise PendoAPIError(400, method="POST", url="u", body="no formatTime")

    monkeypatch.setattr(server_dates, "aggregate", refuse)
    html = pn.source.events().last(5, "days")._repr_html_()
    assert "server clock" not in html and "count -5" in html


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
