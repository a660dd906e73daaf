"""pn.aggregate checks the fields an aggregation reads: metadata against the subscription's
schema, JSON bodies against the sources' fields, and refuses fields that cannot exist."""

from __future__ import annotations

import warnings

import pytest

import pendo_nb as pn
from pendo_nb.errors import FieldWarning, PipelineError


@pytest.fixture(scope="module")
def client(sandbox):
    return pn.connect(sandbox=sandbox, cache=False)


def run_warnings(run) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return result, [str(w.message) for w in caught if issubclass(w.category, FieldWarning)]


def test_a_misspelt_metadata_field_warns_with_the_schemas_close_match(client):
    body = [{"source": {"accounts": None}}, {"filter": "metadata.custom.renewaldat > 0"}]
    frame, messages = run_warnings(lambda: pn.aggregate(body, client=client))
    assert frame.empty  # the answer Pendo gives: the field reads as null
    assert messages == [
        "pipeline[1].filter: the account metadata schema has no field "
        "'metadata.custom.renewaldat', so Pendo reads it as null. "
        "Did you mean 'metadata.custom.renewaldate'?"
    ]


def test_a_misspelt_metadata_group_suggests_the_whole_path(client):
    pipeline = pn.source.visitors().select(email="metadata.agnet.email")
    _, messages = run_warnings(lambda: pipeline.run(client=client))
    assert messages == [
        "pipeline[1].select(email): the visitor metadata schema has no field "
        "'metadata.agnet.email', so Pendo reads it as null. Did you mean 'metadata.agent.email'?"
    ]


def test_expanded_objects_are_checked_against_their_kinds_schema(client):
    pipeline = (
        pn.source.visitors()
        .expand("account", account="metadata.auto.accountid")
        .select(renewal="account.custom.renewaldte", last="account.auto__323232.lastvisit")
    )
    _, messages = run_warnings(lambda: pipeline.run(client=client))
    assert messages == [
        "pipeline[2].select(renewal): the account metadata schema has no field "
        "'account.custom.renewaldte', so Pendo reads it as null. "
        "Did you mean 'account.custom.renewaldate'?"
    ]


def test_fields_that_exist_give_no_warning_when_run(client):
    pipeline = (
        pn.source.visitors()
        .eval({"metadata.custom.extra": "1"})  # written by the pipeline: not the schema's
        .filter("metadata.custom.extra == 1 && metadata.agent.email != `x`")
        .bulk_expand("acct", account="metadata.auto.accountid")
        .select(plan="acct.agent.plan", signup="metadata.custom.signupdate")
        .limit(3)
    )
    frame, messages = run_warnings(lambda: pipeline.run(client=client))
    assert messages == [] and len(frame) == 3


def test_a_json_body_gets_the_sources_fields_checked_when_run(client):
    body = [
        {
            "source": {
                "events": None,
                "timeSeries": {"period": "dayRange", "first": "now()", "count": -30},
            }
        },  # fmt: skip
        {"group": {"group": ["visitorID"], "fields": {"events": {"sum": "numEvent"}}}},
    ]
    frame, messages = run_warnings(lambda: pn.aggregate(body, client=client))
    # What Pendo answers: one row keyed None, 0 events. The warnings say why.
    assert len(frame) == 1 and pd_is_missing(frame["visitorID"][0])
    assert [m.split(":")[0] for m in messages] == [
        "pipeline[1].group(keys)",
        "pipeline[1].group(events)",
    ]
    assert "Did you mean 'visitorId'?" in messages[0]
    assert "Did you mean 'numEvents'?" in messages[1]


def test_a_built_pipeline_warns_once_not_again_when_run(client):
    pipeline, built = run_warnings(lambda: pn.source.visitors().filter("visitorID != `x`"))
    _, ran = run_warnings(lambda: pipeline.run(client=client))
    assert len(built) == 1 and ran == []


def test_a_field_that_cannot_exist_is_refused_before_sending(client, monkeypatch):
    def no_request(*args, **kwargs):
        raise AssertionError("sent")

    monkeypatch.setattr(client, "post_aggregation", no_request)
    monkeypatch.setattr(client, "post_aggregation_streamed", no_request)
    body = [{"source": {"accounts": None}}, {"select": {"a": "accountId"}}, {"sort": ["accountId"]}]
    with pytest.raises(PipelineError, match="field 'accountId' cannot exist"):
        pn.aggregate(body, client=client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FieldWarning)
        built = pn.source.accounts().group("accountId").filter("accountID > `a`")
    with pytest.raises(PipelineError, match="Did you mean 'accountId'"):
        built.run(client=client)


def pd_is_missing(value) -> bool:
    return value is None or value != value
