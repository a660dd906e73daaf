"""Issue 14's additions beyond the shapes: what the new fields hold and how the new endpoints
answer, checked against the generator's raw data."""

from __future__ import annotations

from urllib.parse import quote

from .test_response_schemas import LAST_30_DAYS


def _value_path(kind, group, object_id, field):
    return f"/api/v1/metadata/{kind}/{group}/value/{quote(object_id, safe='')}/{field}"


def test_single_value_put_and_get(fresh_api, fresh_sandbox):
    sub = fresh_sandbox.subscription
    account_id = sub.account_ids[0]
    path = _value_path("account", "custom", account_id, "seats")
    assert fresh_api.request("PUT", path, json=77).json() == 77
    assert sub.accounts[account_id]["metadata"]["custom"]["seats"] == 77
    assert fresh_api.get(path).json() == 77
    # The single-value endpoints never create a field (reference 6.8), and check types.
    unknown = fresh_api.request("PUT", _value_path("account", "custom", account_id, "nope"), json=1)
    assert unknown.status_code == 404 and "Data Mappings" in unknown.text
    assert fresh_api.request("PUT", path, json="many").status_code == 400
    assert fresh_api.request("PUT", path, json=1, key="ro").status_code == 403
    nobody = fresh_api.request("PUT", _value_path("account", "custom", "nobody", "seats"), json=1)
    assert nobody.status_code == 404


def test_do_not_process_flag_takes_effect(fresh_api, fresh_sandbox):
    sub = fresh_sandbox.subscription
    visitor_id = next(v for v in sub.visitor_ids if v not in sub.do_not_process["visitor"])
    path = _value_path("visitor", "pendo", visitor_id, "donotprocess")
    assert fresh_api.request("PUT", path, json=True).status_code == 200
    assert visitor_id in sub.do_not_process["visitor"]
    flagged = fresh_api.aggregate([{"source": {"doNotProcessVisitors": None}}]).json()["results"]
    assert visitor_id in {row["visitorId"] for row in flagged}


def test_segments_by_id_and_their_pipelines_select_the_members(api, sandbox):
    for segment in sandbox.subscription.segments:
        listed = api.get(f"/api/v1/segment/{segment['id']}").json()
        assert listed["name"] == segment["name"]
        inline = api.aggregate(listed["pipeline"]).json()["results"]
        by_id = api.aggregate([listed["pipeline"][0], {"segment": {"id": segment["id"]}}]).json()[
            "results"
        ]
        assert inline == by_id
    assert api.get("/api/v1/segment/nope").status_code == 404


def test_track_properties_name_the_accounts_plan(api, sandbox):
    sub = sandbox.subscription
    with_plan = {t["id"] for t in sub.track_types if t["eventPropertyNameList"]}
    source = {"trackEvents": {"appId": 'expandAppIds("*")'}, "timeSeries": LAST_30_DAYS}
    rows = api.aggregate([{"source": source}]).json()["results"]
    assert any(row["trackTypeId"] in with_plan for row in rows)
    for row in rows:
        if row["trackTypeId"] in with_plan and row["accountId"]:
            plan = sub.accounts[row["accountId"]]["metadata"]["agent"]["plan"]
            assert row["properties"] == {"plan": plan}
        elif row["trackTypeId"] not in with_plan:
            assert row["properties"] == {}


def test_poll_responses_are_guide_events_with_the_steps_load_time(sandbox):
    sub = sandbox.subscription
    responses = [r for r in sub.guide_events if r["type"] == "pollResponse"]
    assert [r["eventId"] for r in responses] == [r["eventId"] for r in sub.poll_events]
    for poll in sub.poll_events:
        seen = [
            g["loadTime"]
            for g in sub.guide_events
            if g["type"] == "guideSeen"
            and (g["visitorId"], g["guideStepId"]) == (poll["visitorId"], poll["guideStepId"])
            and g["browserTime"] <= poll["browserTime"]
        ]
        assert poll["loadTime"] == seen[-1]


def test_catalog_updates_reach_the_last_month(sandbox):
    sub = sandbox.subscription
    recent = sub.now_ms - 30 * 86_400_000
    objects = [*sub.pages, *sub.features, *sub.track_types]
    assert any(obj["lastUpdatedAt"] >= recent for obj in objects)
    assert all(obj["lastUpdatedAt"] < sub.now_ms for obj in objects)


def test_event_sub_type_and_email_events_parameters(api):
    rows = api.aggregate(
        [
            {"source": {"const": [{"t": "email:pendo:opened"}, {"t": "click"}, {"t": None}]}},
            {"eval": {"sub": "eventSubType(t)"}},
        ]
    ).json()["results"]
    assert [row["sub"] for row in rows] == ["opened", "click", None]
    refused = api.aggregate(
        [{"source": {"emailEvents": {"eventType": "read"}, "timeSeries": LAST_30_DAYS}}]
    )
    assert refused.status_code == 400 and "eventType" in refused.text
