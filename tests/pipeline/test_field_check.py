"""Misspelt fields: the builder warns with close matches; fields that exist never warn."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import pendo_nb as pn
from pendo_nb.errors import FieldWarning
from pendo_nb.pipeline import Pipeline
from pendo_nb.pulls.field_check import field_problems, fields_read

BODIES = sorted((Path(__file__).parent / "bodies").glob("*.json"))
# The reference's operator shapes lined up one after another (3.5), not one computation: each
# later step reads fields an earlier select/group/reduce dropped. They are read, with warnings.
SHAPE_CATALOGUES = {"ref_3_5_basic", "ref_3_5_pendo"}
EVENTS = pn.source.events(app_id="*").last(30, "days")


def field_warnings(build) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build()
    return [str(w.message) for w in caught if issubclass(w.category, FieldWarning)]


def test_the_misspelt_group_warns_with_close_matches_where_it_is_built():
    messages = field_warnings(lambda: EVENTS.group("visitorID", events=pn.agg.sum("numEvent")))
    assert messages == [
        "pipeline[1].group(keys): events rows have no field 'visitorID', so Pendo reads it as "
        "null. Did you mean 'visitorId'?",
        "pipeline[1].group(events): events rows have no field 'numEvent', so Pendo reads it as "
        "null. Did you mean 'numEvents'?",
    ]


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(FieldWarning) as caught:
        EVENTS.filter("numEvent > 1")
    assert caught[0].filename == __file__


def test_a_field_a_group_dropped_cannot_exist():
    grouped = EVENTS.group("visitorId", events=pn.agg.sum("numEvents"))
    (message,) = field_warnings(lambda: grouped.filter("event > 10"))
    assert message == (
        "pipeline[2].filter: field 'event' cannot exist: the rows here hold only events, "
        "visitorId (after pipeline[1].group). Did you mean 'events'?"
    )
    (message,) = field_warnings(lambda: grouped.sort("-numEvents"))
    assert "field 'numEvents' cannot exist" in message


def test_computed_fields_are_known_to_later_steps():
    def build():
        return (
            EVENTS.eval(hours="numMinutes / 60")
            .filter("hours > 1")
            .select(who="visitorId", hours="hours", day="day", params="parameters")
            .eval(weekStart="startOfPeriod(`weekly`, day)")
            .filter("params.utm_source == `ads` && weekStart > 0")
            .group("who", "weekStart", total=pn.agg.sum("hours"), days=pn.agg.count("day"))
            .eval(avg="total / days")
            .sort("-avg", "who")
            .useragent("ua", "who")
            .filter("ua.name == `Chrome` && ua.version > 100")
            .unwind("days", index="position")
            .filter("position > 0 && days.anything")
        )

    assert field_warnings(build) == []


def test_fields_that_exist_never_warn():
    def build():
        # Nested paths of objects, metadata (checked against the schema when run), expanded
        # objects, the event rows' own objects and the fields the reference lists at L.
        pn.source.visitors().filter("metadata.agent.email == `x`").select(
            email="metadata.agent.email", app="metadata.auto__323232.lastvisit"
        )
        EVENTS.filter("parameters.utm_source == `ads` && rageClickCount > 0 && tabId == `t`")
        pn.source.track_events().last(7).group("properties.plan", n=pn.agg.count())
        pn.source.events().time_series("daily", "now()", count=-3).group("day", "week")
        EVENTS.bulk_expand("account", account="accountId").filter("account.agent.plan == `x`")
        EVENTS.expand("page", page="pageId").filter("page.name == `Home`")
        pn.source.feature_events().last(7).item_seen("seen", page_id="p1").filter("seen.count > 1")
        EVENTS.switch("size", "numEvents", [{"value": "s", "<": 10}]).filter("size == `s`")
        pn.source.const([{"a": {"b": 1}}]).filter("a.b == 1 && a.c == 2")

    assert field_warnings(build) == []


def test_sources_whose_rows_no_document_lists_are_not_checked():
    def build():
        pn.source.pages().filter("anything.at.all == 1")
        pn.source.guides_seen().last(7).group("whatever")

    assert field_warnings(build) == []


def test_after_a_step_of_unknown_output_nothing_is_checked():
    branch = pn.Pipeline().filter("numEvents > 1")
    assert field_warnings(lambda: EVENTS.fork(branch, pn.Pipeline().cat()).filter("made")) == []
    assert field_warnings(lambda: EVENTS.unofficial("treeify", {}).filter("made")) == []


def test_sub_pipelines_are_checked_from_their_rows():
    inner = pn.source.accounts().select(accountId="accountId", plan="metadata.agent.plan")
    messages = field_warnings(
        lambda: EVENTS.merge("accountId", inner, mappings={"plan": "plann"}).fork(
            pn.Pipeline().filter("numEvent > 1")
        )
    )
    assert messages == [
        "pipeline[1].merge.mappings(plan): field 'plann' cannot exist: the rows here hold only "
        "accountId, plan (after pipeline[1].merge.pipeline[1].select). Did you mean 'plan'?",
        "pipeline[2].fork[0][0].filter: events rows have no field 'numEvent', so Pendo reads it "
        "as null. Did you mean 'numEvents'?",
    ]


def test_from_json_warns_and_still_reads_the_body():
    body = [{"source": {"visitors": None}}, {"select": {"a": "visitorId"}}, {"filter": "b > 1"}]
    (message,) = field_warnings(lambda: Pipeline.from_json(body))
    assert "field 'b' cannot exist" in message
    with pytest.warns(FieldWarning):
        assert Pipeline.from_json(body).to_json()["request"]["pipeline"] == body


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_no_real_body_of_the_corpus_warns(path):
    body = json.loads(path.read_text())
    messages = field_warnings(lambda: Pipeline.from_json(body))
    if path.stem in SHAPE_CATALOGUES:
        assert messages  # fields the catalogue's earlier steps dropped, as the messages say
        assert all("cannot exist" in m or "have no field" in m for m in messages)
    else:
        assert messages == []


def test_the_shape_catalogues_warn_only_about_fields_their_rows_lack():
    body = json.loads((Path(__file__).parent / "bodies" / "ref_3_5_pendo.json").read_text())
    problems, _ = field_problems(body["request"]["pipeline"])
    # featureEvents rows have no pageInfo (the step before expands features) and no list.
    assert [(p.where, p.name) for p in problems] == [
        ("pipeline[4].expand(pageInfo)", "pageInfo.id"),
        ("pipeline[8].unwind(field)", "list"),
    ]


def test_every_report_pipeline_of_the_sandbox_reads_without_warnings(sandbox):
    for report in sandbox.subscription.reports:
        steps = report["aggregation"]["pipeline"]
        assert field_warnings(lambda steps=steps: Pipeline.from_json(steps)) == []


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("numEvents > 10 && !isNull(accountId)", ["numEvents", "accountId"]),
        ('contains(metadata.agent.email, "a.b") || x == `c.d`', ["metadata.agent.email", "x"]),
        ("polls[0].id == 1e5 && a . b", ["polls", "a.b"]),
        ('if(true, null, "esc \\" quoted")', []),
        ("dateAdd(now(), -7, `days`) < lastTime", ["lastTime"]),
    ],
)
def test_the_fields_an_expression_reads(expression, fields):
    assert fields_read(expression) == fields
