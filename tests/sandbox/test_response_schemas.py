"""Every REST answer and every source's rows, validated against JSON Schemas of Pendo's shapes.

The schemas (``schemas/*.json``) are written from the reference (``pendo_api.md`` sections 2 and
4) and the field lists of public Pendo connectors, whose schemas come from real responses. They
allow fields beyond the documented ones (``additionalProperties`` is left open), and require the
fields Pendo always sends, so a typed consumer of a real subscription finds them in the sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas"
ALL_APPS = 'expandAppIds("*")'
LAST_30_DAYS = {"period": "dayRange", "first": "now()", "count": -30}


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def check(value, schema: str) -> None:
    """Raise a readable error unless ``value`` matches ``pendo:<schema>``."""
    validator = jsonschema.Draft202012Validator(
        REGISTRY.contents(f"pendo:{schema}"), registry=REGISTRY
    )
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:10]
    )


def test_every_schema_is_valid():
    for path in SCHEMAS.glob("*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


# --- REST endpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "schema", "item"),
    [
        ("/api/v1/page?expand=*", "page", True),
        ("/api/v1/feature?expand=*", "feature", True),
        ("/api/v1/tracktype?expand=*", "track_type", True),
        ("/api/v1/guide?expand=*", "guide", True),
        ("/api/v1/report", "report", True),
        ("/api/v1/segment", "segment", True),
        ("/api/v1/metadata/schema/visitor", "metadata_schema", False),
        ("/api/v1/metadata/schema/account", "metadata_schema", False),
        ("/api/v1/metadata/schema/parentAccount", "metadata_schema", False),
    ],
)
def test_lists_and_schemas(api, path, schema, item):
    response = api.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    if item:
        assert isinstance(body, list) and body
        for obj in body:
            check(obj, schema)
    else:
        check(body, schema)


def test_visitor_account_and_history(api, sandbox):
    sub = sandbox.subscription
    for visitor_id in sub.visitor_ids[:20]:
        check(api.get(f"/api/v1/visitor/{quote(visitor_id, safe='')}").json(), "visitor")
        last_visit = sub.visitors[visitor_id]["metadata"]["auto"]["lastvisit"]
        day = last_visit - last_visit % 86_400_000
        history = api.get(
            f"/api/v1/visitor/{quote(visitor_id, safe='')}/history?starttime={day}"
        ).json()
        check(history, "visitor_history")
    for account_id in sub.account_ids[:20]:
        check(api.get(f"/api/v1/account/{quote(account_id, safe='')}").json(), "account")


def test_report_contents_are_arrays_of_rows(api):
    for report in api.get("/api/v1/report").json():
        if report["definition"]["type"] != "List":
            continue
        rows = api.get(f"/api/v1/report/{report['id']}/results.json").json()
        assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows)


def test_metadata_writes(fresh_api, fresh_sandbox):
    visitor_id = fresh_sandbox.subscription.visitor_ids[0]
    bulk = fresh_api.post(
        "/api/v1/metadata/visitor/custom/value",
        json=[
            {"visitorId": visitor_id, "values": {"betaopt": True}},
            {"visitorId": "nobody", "values": {"betaopt": True}},
        ],
    )
    assert bulk.status_code == 200, bulk.text
    check(bulk.json(), "metadata_update")
    single = f"/api/v1/metadata/visitor/custom/value/{quote(visitor_id, safe='')}/betaopt"
    put = fresh_api.request("PUT", single, json=False)
    assert put.status_code == 200, put.text
    assert fresh_api.get(single).json() is False


# --- sources ----------------------------------------------------------------------------------

_TIMED = {"timeSeries": LAST_30_DAYS}
SOURCES = [
    ({"visitors": None}, "visitor_row"),
    ({"accounts": None}, "account_row"),
    ({"doNotProcessVisitors": None}, "visitor_row"),
    ({"pages": {"appId": ALL_APPS}}, "page"),
    ({"features": {"appId": ALL_APPS}}, "feature"),
    ({"trackTypes": {"appId": ALL_APPS}}, "track_type"),
    ({"guides": {"appId": ALL_APPS}}, "guide"),
    ({"groups": {"items": True}}, "group_row"),
    ({"apps": None}, "app_row"),
    ({"events": {"appId": ALL_APPS}, **_TIMED}, "events_row"),
    ({"pageEvents": {"appId": ALL_APPS}, **_TIMED}, "page_events_row"),
    ({"featureEvents": {"appId": ALL_APPS}, **_TIMED}, "feature_events_row"),
    ({"trackEvents": {"appId": ALL_APPS}, **_TIMED}, "track_events_row"),
    ({"singleEvents": {"appId": ALL_APPS}, **_TIMED}, "single_events_row"),
    ({"guideEvents": {"appId": ALL_APPS}, **_TIMED}, "guide_events_row"),
    ({"pollEvents": {"appId": ALL_APPS}, **_TIMED}, "poll_events_row"),
    ({"guidesSeen": {"appId": ALL_APPS}, **_TIMED}, "guides_seen_row"),
    ({"guidesSeenEver": {"appId": ALL_APPS}}, "guides_seen_row"),
    ({"pollsSeen": {"appId": ALL_APPS}, **_TIMED}, "polls_seen_row"),
    ({"pollsSeenEver": {"appId": ALL_APPS}}, "polls_seen_row"),
    ({"emailEvents": None, **_TIMED}, "email_events_row"),
]


@pytest.mark.parametrize(("source", "schema"), SOURCES, ids=[next(iter(s)) for s, _ in SOURCES])
def test_source_rows(api, source, schema):
    response = api.aggregate([{"source": source}])
    assert response.status_code == 200, response.text
    body = response.json()
    check(body, "aggregation_response")
    rows = body["results"]
    # The sandbox sends no email (emailEvents answers without data); every other source has rows.
    assert rows or "emailEvents" in source
    for row in rows:
        check(row, schema)


def test_events_rows_name_the_clicked_feature(api, sandbox):
    rows = api.aggregate([{"source": {"events": None, **_TIMED}}]).json()["results"]
    features = {f["id"] for f in sandbox.subscription.features}
    named = [row["featureId"] for row in rows if row.get("featureId")]
    assert named and set(named) <= features
