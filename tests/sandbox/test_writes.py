"""Bulk metadata writes: Pendo's summary, type checks, and later reads that see the writes.

Every test writes, so each uses a sandbox of its own (``fresh_api``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from pendo_nb.sandbox import Sandbox

VALUE_PATH = "/api/v1/metadata/{kind}/{group}/value"


def _post(api, kind="visitor", group="custom", body=None, **kwargs):
    return api.post(VALUE_PATH.format(kind=kind, group=group), json=body, **kwargs)


def _identified(sub) -> list[str]:
    return [v for v in sub.visitor_ids if not v.startswith("_PENDO_T_")]


def test_update_is_seen_by_get_and_by_aggregations(fresh_api):
    sub = fresh_api.sandbox.subscription
    first, second = _identified(sub)[:2]
    body = [
        {"visitorId": first, "values": {"department": "Research", "logincount": 12}},
        {"visitorId": second, "values": {"betaopt": True}},
    ]
    response = _post(fresh_api, body=body)
    assert response.status_code == 200
    assert response.json() == {
        "total": 2,
        "updated": 2,
        "failed": 0,
        "missing": [],
        "kind": "visitor",
    }

    custom = fresh_api.get(f"/api/v1/visitor/{quote(first)}").json()["metadata"]["custom"]
    assert custom["department"] == "Research" and custom["logincount"] == 12
    rows = fresh_api.aggregate(
        [
            {"source": {"visitors": None}},
            {"filter": f'visitorId == "{second}"'},
            {"select": {"beta": "metadata.custom.betaopt", "updated": "metadata.auto.lastupdated"}},
        ]
    ).json()["results"]
    assert rows == [{"beta": True, "updated": sub.now_ms}]


def test_unknown_ids_are_missing_and_counted_as_failed(fresh_api):
    sub = fresh_api.sandbox.subscription
    known = _identified(sub)[0]
    body = [
        {"visitorId": known, "values": {"department": "Ops"}},
        {"visitorId": "ghost", "values": {"department": "X"}},
    ]
    response = _post(fresh_api, body=body)
    assert response.json() == {
        "total": 2,
        "updated": 1,
        "failed": 1,
        "missing": ["ghost"],
        "kind": "visitor",
    }
    assert fresh_api.get("/api/v1/visitor/ghost").status_code == 404


def test_create_true_adds_new_accounts(fresh_api):
    body = [{"accountId": "brand-new-co", "values": {"seats": 7, "csm": "Ada"}}]
    response = _post(fresh_api, kind="account", body=body, params={"create": "true"})
    assert response.json() == {
        "total": 1,
        "updated": 1,
        "failed": 0,
        "missing": [],
        "kind": "account",
    }
    account = fresh_api.get("/api/v1/account/brand-new-co").json()
    assert account["id"] == "brand-new-co"
    assert account["metadata"]["custom"] == {"seats": 7, "csm": "Ada"}
    ids = [
        r["accountId"]
        for r in fresh_api.aggregate([{"source": {"accounts": None}}]).json()["results"]
    ]
    assert "brand-new-co" in ids


def test_created_visitor_has_an_empty_history(fresh_api):
    _post(
        fresh_api,
        body=[{"visitorId": "new-person", "values": {"department": "Sales"}}],
        params={"create": "true"},
    )
    now = fresh_api.sandbox.subscription.now_ms
    response = fresh_api.get(
        "/api/v1/visitor/new-person/history", params={"starttime": now - 86_400_000}
    )
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    ("field", "value", "expected_error"),
    [
        ("logincount", "many", "logincount is a field of type integer: expected an integer"),
        ("logincount", 2.5, "expected an integer"),
        ("betaopt", "yes", "expected true or false"),
        ("department", 5, "expected a string"),
        ("onboardingprogress", "half", "expected a number"),
        ("signupdate", "next week", "expected epoch seconds/milliseconds or a date"),
    ],
)
def test_values_of_the_wrong_type_fail_the_record(fresh_api, field, value, expected_error):
    sub = fresh_api.sandbox.subscription
    visitor_id = _identified(sub)[0]
    before = fresh_api.get(f"/api/v1/visitor/{quote(visitor_id)}").json()["metadata"]["custom"]
    body = [{"visitorId": visitor_id, "values": {"department": "Changed", field: value}}]
    result = _post(fresh_api, body=body).json()
    assert result["updated"] == 0 and result["failed"] == 1 and result["total"] == 1
    assert result["errors"][0]["id"] == visitor_id and result["errors"][0]["field"] == field
    assert expected_error in result["errors"][0]["error"]
    after = fresh_api.get(f"/api/v1/visitor/{quote(visitor_id)}").json()["metadata"]["custom"]
    assert after == before  # the record is all or nothing


def test_time_values_are_stored_as_epoch_ms(fresh_api):
    sub = fresh_api.sandbox.subscription
    first, second, third = _identified(sub)[:3]
    body = [
        {
            "visitorId": first,
            "values": {"signupdate": "2026-01-02"},
        },  # a date in the subscription zone
        {"visitorId": second, "values": {"signupdate": 1_700_000_000}},  # epoch seconds
        {"visitorId": third, "values": {"signupdate": "2025-05-06T07:08:09Z"}},
    ]
    assert _post(fresh_api, body=body).json()["updated"] == 3
    stored = [
        fresh_api.get(f"/api/v1/visitor/{quote(v)}").json()["metadata"]["custom"]["signupdate"]
        for v in (first, second, third)
    ]
    midnight = datetime(2026, 1, 2, tzinfo=ZoneInfo("UTC"))
    moment = datetime(2025, 5, 6, 7, 8, 9, tzinfo=ZoneInfo("UTC"))
    assert stored == [
        int(midnight.timestamp() * 1000),
        1_700_000_000 * 1000,  # epoch seconds scaled to milliseconds
        int(moment.timestamp() * 1000),
    ]


def test_unknown_field_is_created_with_unset_type(fresh_api):
    visitor_id = _identified(fresh_api.sandbox.subscription)[0]
    _post(fresh_api, body=[{"visitorId": visitor_id, "values": {"favouritecolour": "teal"}}])
    schema = fresh_api.get("/api/v1/metadata/schema/visitor").json()
    assert schema["custom"]["favouritecolour"]["Type"] == ""
    custom = fresh_api.get(f"/api/v1/visitor/{quote(visitor_id)}").json()["metadata"]["custom"]
    assert custom["favouritecolour"] == "teal"


def test_null_removes_a_value(fresh_api):
    visitor_id = _identified(fresh_api.sandbox.subscription)[0]
    _post(fresh_api, body=[{"visitorId": visitor_id, "values": {"department": None}}])
    custom = fresh_api.get(f"/api/v1/visitor/{quote(visitor_id)}").json()["metadata"]["custom"]
    assert "department" not in custom


def test_agent_group_is_writable(fresh_api):
    account_id = fresh_api.sandbox.subscription.account_ids[0]
    response = _post(
        fresh_api,
        kind="account",
        group="agent",
        body=[{"accountId": account_id, "values": {"plan": "pro"}}],
    )
    assert response.json()["updated"] == 1
    report_rows = fresh_api.aggregate(
        [
            {"source": {"accounts": None}},
            {"filter": f'accountId == "{account_id}"'},
            {"select": {"plan": "metadata.agent.plan"}},
        ]
    ).json()["results"]
    assert report_rows == [{"plan": "pro"}]


def test_read_only_key_cannot_write(fresh_api):
    visitor_id = _identified(fresh_api.sandbox.subscription)[0]
    response = _post(
        fresh_api, body=[{"visitorId": visitor_id, "values": {"department": "X"}}], key="ro"
    )
    assert response.status_code == 403 and "read-only" in response.text
    custom = fresh_api.get(f"/api/v1/visitor/{quote(visitor_id)}").json()["metadata"]["custom"]
    assert custom["department"] != "X"


@pytest.mark.parametrize(
    ("kind", "group", "body", "status", "message"),
    [
        ("visitor", "auto", [], 400, "metadata group 'auto' is not writable"),
        ("planet", "custom", [], 404, "unknown metadata kind 'planet'"),
        ("visitor", "custom", {"visitorId": "a"}, 400, "must be a JSON array"),
        ("visitor", "custom", [5], 400, "element 0: expected an object"),
        (
            "visitor",
            "custom",
            [{"values": {}}],
            400,
            "element 0: 'visitorId' must be a non-empty string",
        ),
        (
            "account",
            "custom",
            [{"accountId": "a", "values": []}],
            400,
            "element 0: 'values' must be an object",
        ),
        (
            "visitor",
            "custom",
            [{"visitorId": "a", "values": {"2bad": 1}}],
            400,
            "field name '2bad' must start",
        ),
    ],
)
def test_malformed_writes_are_refused_whole(fresh_api, kind, group, body, status, message):
    response = _post(fresh_api, kind=kind, group=group, body=body)
    assert response.status_code == status and message in response.text


def test_invalid_json_and_bad_create_flag_are_400(fresh_api):
    path = VALUE_PATH.format(kind="visitor", group="custom")
    response = fresh_api.post(path, data=b"[{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.text
    response = fresh_api.post(path, json=[], params={"create": "maybe"})
    assert response.status_code == 400 and "create='maybe'" in response.text


def test_writes_do_not_leak_into_other_sandboxes(fresh_api):
    visitor_id = _identified(fresh_api.sandbox.subscription)[0]
    _post(fresh_api, body=[{"visitorId": visitor_id, "values": {"department": "Leaked?"}}])
    with Sandbox(size="small") as other:
        assert (
            other.subscription.visitors[visitor_id]["metadata"]["custom"]["department"] != "Leaked?"
        )
