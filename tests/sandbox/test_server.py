"""The sandbox server over real HTTP on loopback: every endpoint, status code and error message.

Expected bodies come from the generator's raw data (pandas over the event table, the metadata
dicts), never from the engine or the server code.
"""

from __future__ import annotations

import base64
import csv
import http.client
import io
import json
import socket
from urllib.parse import quote, urlsplit

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK

from .sandbox_helpers import DAY_MS, raw_events

WEB_APP = -323232
TEXT = "text/plain; charset=utf-8"


@pytest.fixture(scope="module")
def sub(sandbox):
    return sandbox.subscription


@pytest.fixture(scope="module")
def events(sub):
    return raw_events(sub)


def b64(object_id: str) -> str:
    return "b64_" + base64.urlsafe_b64encode(object_id.encode()).decode().rstrip("=")


# --- authentication ------------------------------------------------------------------------------


def test_missing_key_is_401(api):
    response = api.get("/api/v1/report", key=None)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == TEXT
    assert "x-pendo-integration-key" in response.text


def test_unknown_key_is_403_and_never_echoed(api):
    response = api.get("/api/v1/report", key="not-a-real-key-123")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == TEXT
    assert response.text == "Key is invalid"
    assert "not-a-real-key-123" not in response.text


def test_read_only_key_reads(api):
    assert api.get("/api/v1/report", key="ro").status_code == 200


def test_token_verify(api):
    ok = api.get("/api/v1/token/verify")
    assert ok.status_code == 200 and ok.content == b""
    read_only = api.get("/api/v1/token/verify", key="ro")
    assert read_only.status_code == 403 and read_only.text.startswith("Key is invalid")
    assert api.get("/api/v1/token/verify", key="nope").status_code == 403
    assert api.get("/api/v1/token/verify", key=None).status_code == 401


# --- accounts and visitors -----------------------------------------------------------------------


def test_account_by_id(api, sub):
    account_id = sub.account_ids[0]
    response = api.get(f"/api/v1/account/{account_id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"id": account_id, "metadata": sub.accounts[account_id]["metadata"]}


def test_unknown_account_is_404(api):
    response = api.get("/api/v1/account/no-such-account")
    assert response.status_code == 404
    assert response.text == "Error while getting account, no such entity found"


def test_account_id_with_a_slash_by_b64_or_percent_encoding(api, sub):
    account_id = next(a for a in sub.account_ids if "/" in a)
    header = {"x-pendo-base64-encoded-params": "true"}
    by_b64 = api.get(f"/api/v1/account/{b64(account_id)}", headers=header)
    assert by_b64.status_code == 200 and by_b64.json()["id"] == account_id
    encoded = api.get(f"/api/v1/account/{quote(account_id, safe='')}")
    assert encoded.status_code == 200 and encoded.json()["id"] == account_id
    # Without the header a b64_ id is just an id that does not exist.
    assert api.get(f"/api/v1/account/{b64(account_id)}").status_code == 404


def test_invalid_b64_id_is_400(api):
    response = api.get(
        "/api/v1/account/b64_%25%25%25", headers={"x-pendo-base64-encoded-params": "true"}
    )
    assert response.status_code == 400
    assert "b64_" in response.text


def test_visitor_by_id_and_by_b64(api, sub):
    visitor_id = sub.visitor_ids[0]
    metadata = sub.visitors[visitor_id]["metadata"]
    expected = {
        "id": visitor_id,
        "accountIds": metadata["auto"]["accountids"],
        "metadata": metadata,
    }
    assert api.get(f"/api/v1/visitor/{quote(visitor_id)}").json() == expected
    header = {"x-pendo-base64-encoded-params": "true"}
    assert api.get(f"/api/v1/visitor/{b64(visitor_id)}", headers=header).json() == expected


def test_unknown_visitor_is_404(api):
    response = api.get("/api/v1/visitor/nobody")
    assert response.status_code == 404
    assert response.text == "Error while getting visitor, no such entity found"


# --- visitor history -----------------------------------------------------------------------------


def _expected_history(sub, events: pd.DataFrame, visitor_id: str, start: int) -> list[tuple]:
    """(type, object id or URL-less marker, ts, lastTs) computed from the raw events with pandas."""
    window = events[
        (events.visitorId == visitor_id) & (events.ts >= start) & (events.ts < start + DAY_MS)
    ]
    window = window[~((window.kind == CLICK) & window.objectId.isna())]
    key = (
        window.kind.astype(str)
        + "|"
        + window.objectId.fillna("untagged")
        + "|"
        + window.appId.astype(str)
    )
    run = (key != key.shift()).cumsum()
    items = []
    for _run, part in window.groupby(run, sort=True):
        kind, object_id = int(part.kind.iloc[0]), part.objectId.iloc[0]
        object_id = None if pd.isna(object_id) else object_id
        type_ = (
            {PAGE_LOAD: "page", CLICK: "feature"}.get(kind, "track") if object_id else "untagged"
        )
        items.append((type_, object_id, int(part.ts.iloc[0]), int(part.ts.iloc[-1])))
    for row in sub.guide_events:
        if (
            row["visitorId"] == visitor_id
            and row["type"] == "guideSeen"
            and start <= row["browserTime"] < start + DAY_MS
        ):
            items.append(("guide", row["guideId"], row["browserTime"], row["browserTime"]))
    return sorted(items, key=lambda item: item[2])


def _history_tuples(body: list[dict]) -> list[tuple]:
    ids = ("pageId", "featureId", "trackTypeId", "guideId")
    return [
        (item["type"], next((item[k] for k in ids if k in item), None), item["ts"], item["lastTs"])
        for item in body
    ]


def test_visitor_history_of_a_busy_day(api, sub, events):
    busiest = events.visitorId.value_counts().index[0]
    last = int(events[events.visitorId == busiest].ts.max())
    start = last - last % DAY_MS
    response = api.get(f"/api/v1/visitor/{quote(busiest)}/history", params={"starttime": start})
    assert response.status_code == 200
    body = response.json()
    assert body and _history_tuples(body) == _expected_history(sub, events, busiest, start)
    for item in body:
        assert item["duration"] == item["lastTs"] - item["ts"]
        assert set(item["parsedUserAgent"]) == {"name", "version", "os"}
        assert ("uri" in item) == (item["type"] != "untagged")
        assert ("untaggedUrl" in item) == (item["type"] == "untagged")


def test_visitor_history_window_is_24_hours_from_starttime(api, sub, events):
    visitor_id = events.visitorId.value_counts().index[1]
    start = int(events[events.visitorId == visitor_id].ts.iloc[0]) + 1  # from just after an event
    body = api.get(
        f"/api/v1/visitor/{quote(visitor_id)}/history", params={"starttime": start}
    ).json()
    assert _history_tuples(body) == _expected_history(sub, events, visitor_id, start)


def test_visitor_history_without_activity_is_an_empty_list(api, sub):
    visitor_id = sub.visitor_ids[0]
    response = api.get(
        f"/api/v1/visitor/{quote(visitor_id)}/history", params={"starttime": sub.now_ms + DAY_MS}
    )
    assert response.status_code == 200 and response.json() == []


def test_visitor_history_with_b64_id(api, sub, events):
    visitor_id = events.visitorId.iloc[-1]
    start = int(events.ts.iloc[-1]) - 3_600_000
    header = {"x-pendo-base64-encoded-params": "true"}
    response = api.get(
        f"/api/v1/visitor/{b64(visitor_id)}/history", params={"starttime": start}, headers=header
    )
    assert response.status_code == 200
    body = response.json()
    assert body and _history_tuples(body) == _expected_history(sub, events, visitor_id, start)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "missing query parameter starttime"),
        ({"starttime": "yesterday"}, "starttime='yesterday' is not an integer"),
        ({"starttime": "1.5e12"}, "is not an integer"),
    ],
)
def test_visitor_history_bad_starttime_is_400(api, sub, query, message):
    response = api.get(f"/api/v1/visitor/{quote(sub.visitor_ids[0])}/history", params=query)
    assert response.status_code == 400 and message in response.text


def test_visitor_history_older_than_180_days_is_refused(api, sub):
    start = sub.now_ms - 181 * DAY_MS
    response = api.get(
        f"/api/v1/visitor/{quote(sub.visitor_ids[0])}/history", params={"starttime": start}
    )
    assert response.status_code == 400 and "180 days" in response.text
    inside = api.get(
        f"/api/v1/visitor/{quote(sub.visitor_ids[0])}/history",
        params={"starttime": start + 2 * DAY_MS},
    )
    assert inside.status_code == 200


def test_history_of_unknown_visitor_is_404(api, sub):
    response = api.get("/api/v1/visitor/nobody/history", params={"starttime": sub.now_ms - DAY_MS})
    assert response.status_code == 404


# --- reports -------------------------------------------------------------------------------------


def _report(sub, name: str) -> dict:
    return next(r for r in sub.reports if r["name"] == name)


def test_report_list(api, sub):
    body = api.get("/api/v1/report").json()
    assert [r["id"] for r in body] == [r["id"] for r in sub.reports]
    assert {r["definition"]["type"] for r in body} == {"List", "Path", "Funnel"}
    for report in body:
        assert {"id", "name", "kind", "shared", "definition", "aggregation", "createdAt"} <= set(
            report
        )


def test_unknown_report_is_404(api):
    for suffix in ("results.json", "results.csv"):
        response = api.get(f"/api/v1/report/nope/{suffix}")
        assert response.status_code == 404
        assert response.text == "The report in question was not found."


def test_path_and_funnel_contents_are_refused(api, sub):
    for report in sub.reports:
        if report["definition"]["type"] in ("Path", "Funnel"):
            for suffix in ("results.json", "results.csv"):
                response = api.get(f"/api/v1/report/{report['id']}/{suffix}")
                assert response.status_code == 400
                assert report["definition"]["type"] in response.text


def test_enterprise_accounts_report(api, sub):
    report = _report(sub, "Enterprise accounts")
    expected = sorted(
        (
            {
                "accountId": a,
                "name": row["metadata"]["agent"]["name"],
                "arr": row["metadata"]["custom"]["arr"],
                "seats": row["metadata"]["custom"]["seats"],
                "lastVisit": row["metadata"]["auto"]["lastvisit"],
            }
            for a, row in sub.accounts.items()
            if row["metadata"]["agent"]["plan"] == "enterprise"
        ),
        key=lambda r: (-r["arr"], r["accountId"]),
    )
    assert api.get(f"/api/v1/report/{report['id']}/results.json").json() == expected


def test_top_accounts_report_matches_pandas(api, sub, events):
    report = _report(sub, "Top accounts by usage (last 30 days)")
    today = sub.now_ms - sub.now_ms % DAY_MS  # UTC subscription: days start at UTC midnight
    # The `events` source leaves out track events (reference 3.4: unless an app setting is on).
    in_range = (events.ts >= today - 30 * DAY_MS) & (events.ts < today)
    window = events[in_range & (events.accountId != "") & (events.kind != TRACK)]
    window = window.assign(day=window.ts // DAY_MS)
    grouped = window.groupby("accountId").agg(
        numEvents=("ts", "size"),
        activeVisitors=("visitorId", "nunique"),
        daysActive=("day", "nunique"),
    )
    grouped = (
        grouped.reset_index()
        .sort_values(["numEvents", "accountId"], ascending=[False, True])
        .head(20)
    )
    expected = [
        {k: (v if isinstance(v, str) else int(v)) for k, v in row.items()}
        for row in grouped.to_dict("records")
    ]
    assert api.get(f"/api/v1/report/{report['id']}/results.json").json() == expected


def test_admins_report(api, sub):
    report = _report(sub, "Admins")
    rows = api.get(f"/api/v1/report/{report['id']}/results.json").json()
    admins = {
        v
        for v, row in sub.visitors.items()
        if row["metadata"]["agent"].get("role") == "admin" and not v.startswith("_PENDO_T_")
    }
    assert {r["visitorId"] for r in rows} == admins
    assert [r["lastVisit"] for r in rows] == sorted((r["lastVisit"] for r in rows), reverse=True)


def test_active_users_report_matches_pandas(api, sub, events):
    report = _report(sub, "Active users (last 30 days)")
    today = sub.now_ms - sub.now_ms % DAY_MS
    in_range = (events.ts >= today - 30 * DAY_MS) & (events.ts < today) & (events.kind != TRACK)
    window = events[in_range & ~events.visitorId.str.startswith("_PENDO_T_")]
    window = window.assign(day=window.ts - window.ts % DAY_MS)
    expected = window.groupby("visitorId").agg(
        daysActive=("day", "nunique"), numEvents=("ts", "size"), lastActiveDay=("day", "max")
    )
    rows = api.get(f"/api/v1/report/{report['id']}/results.json").json()
    got = pd.DataFrame(rows).set_index("visitorId")
    assert sorted(got.index) == sorted(expected.index)
    for column in ("daysActive", "numEvents", "lastActiveDay"):
        assert got[column].to_dict() == expected[column].to_dict(), column
    assert [r["numEvents"] for r in rows] == sorted((r["numEvents"] for r in rows), reverse=True)
    assert all(r["numMinutes"] >= 1 for r in rows)


def test_renewals_report(api, sub):
    report = _report(sub, "Paying accounts renewing within 90 days")
    expected = []
    for account_id, row in sub.accounts.items():
        custom = row["metadata"]["custom"]
        days = (custom["renewaldate"] - sub.now_ms) / DAY_MS
        if custom["ispaying"] and days <= 90:
            expected.append(
                {
                    "accountId": account_id,
                    "name": row["metadata"]["agent"]["name"],
                    "plan": row["metadata"]["agent"]["plan"],
                    "renewalDate": custom["renewaldate"],
                    "daysToRenewal": days,
                }
            )
    expected.sort(key=lambda r: (r["daysToRenewal"], r["accountId"]))
    assert expected  # the small subscription has renewals coming
    assert api.get(f"/api/v1/report/{report['id']}/results.json").json() == expected


def test_csv_and_json_agree_row_for_row(api, sub):
    for report in sub.reports:
        if report["definition"]["type"] != "List":
            continue
        rows = api.get(f"/api/v1/report/{report['id']}/results.json").json()
        response = api.get(f"/api/v1/report/{report['id']}/results.csv")
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(
            "text/csv"
        )
        table = list(csv.reader(io.StringIO(response.text)))
        columns = [f["field"] for f in report["aggregation"]["fields"]]
        assert table[0] == columns
        assert len(table) - 1 == len(rows)
        for cells, row in zip(table[1:], rows, strict=True):
            assert list(row) == columns
            for cell, value in zip(cells, row.values(), strict=True):
                if isinstance(value, str):
                    assert cell == value
                elif value is None:
                    assert cell == ""
                else:
                    assert json.loads(cell) == value


# --- metadata schema -----------------------------------------------------------------------------


def test_metadata_schema(api, sub):
    for kind in ("visitor", "account"):
        response = api.get(f"/api/v1/metadata/schema/{kind}")
        assert response.status_code == 200 and response.json() == sub.schema[kind]
    unknown = api.get("/api/v1/metadata/schema/planet")
    assert unknown.status_code == 404 and "planet" in unknown.text


# --- catalog -------------------------------------------------------------------------------------

CATALOG = [
    ("page", "pages"),
    ("feature", "features"),
    ("guide", "guides"),
    ("tracktype", "track_types"),
]


@pytest.mark.parametrize(("path", "attribute"), CATALOG)
def test_catalog_default_app_other_app_all_and_ids(api, sub, path, attribute):
    objects = getattr(sub, attribute)
    mobile = sub.apps[1]["id"]
    assert api.get(f"/api/v1/{path}").json() == [o for o in objects if o["appId"] == WEB_APP]
    assert api.get(f"/api/v1/{path}", params={"appId": mobile}).json() == [
        o for o in objects if o["appId"] == mobile
    ]
    assert api.get(f"/api/v1/{path}", params={"expand": "*"}).json() == objects
    wanted = [objects[0]["id"], objects[-1]["id"]]
    assert api.get(f"/api/v1/{path}", params={"id": ",".join(wanted)}).json() == [
        objects[0],
        objects[-1],
    ]


@pytest.mark.parametrize(("path", "_attribute"), CATALOG)
def test_catalog_bad_parameters_are_400(api, path, _attribute):
    bad_app = api.get(f"/api/v1/{path}", params={"appId": "web"})
    assert bad_app.status_code == 400 and "appId='web'" in bad_app.text
    bad_expand = api.get(f"/api/v1/{path}", params={"expand": "some"})
    assert bad_expand.status_code == 400 and "expand=*" in bad_expand.text


# --- aggregation ---------------------------------------------------------------------------------


def test_aggregation_envelope_and_rows(api, sub):
    response = api.aggregate(
        [{"source": {"accounts": None}}, {"select": {"accountId": "accountId"}}]
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"startTime", "results"}
    assert sorted(r["accountId"] for r in body["results"]) == sorted(sub.account_ids)


def test_integral_numbers_are_written_without_a_fraction(api):
    pipeline = [
        {"source": {"accounts": None}},
        {"limit": 1},
        {"eval": {"six": "2 * 3", "fourth": "1 / 4", "big": "1000000 * 1000000"}},
        {"select": {"six": "six", "fourth": "fourth", "big": "big"}},
    ]
    text = api.aggregate(pipeline).text
    assert '"six":6,' in text and '"fourth":0.25' in text and '"big":1000000000000}' in text


def test_aggregation_error_is_plain_text_with_status(api):
    response = api.aggregate([{"source": {"visitors": None}}, {"filter": "visitorId == "}])
    assert response.status_code == 400
    assert response.headers["Content-Type"] == TEXT
    assert "filter" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b"{",
        b'{"request": 5}',
        b'{"request": {"pipeline": "x"}}',
        b'{"request": {"pipeline": [{"bogus": 1}]}}',
        b'{"request": {"pipeline": [{"source": {"visitors": null}}, {"limit": -1}]}}',
        b'{"request": {"pipeline": [{"source": {"nowhere": null}}]}}',
        b"[" * 3000 + b"]" * 3000,
        '{"request": {"pipeline": [{"source": {"visitors": null}}, {"filter": "é=="}]}}'.encode(),
        b"\xff\xfe",
    ],
)
def test_malformed_aggregations_get_4xx_never_500(api, body):
    response = api.post(
        "/api/v1/aggregation", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["Content-Type"] == TEXT and response.text


# --- routing and transport -----------------------------------------------------------------------


def test_unknown_paths_are_404(api):
    assert api.get("/api/v1/nothing-here").status_code == 404
    assert api.get("/").status_code == 404
    assert api.get("/api/v2/report").status_code == 404


def test_wrong_method_is_405_with_allow(api):
    response = api.post("/api/v1/report", json={})
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    response = api.get("/api/v1/aggregation")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_oversized_body_is_refused_before_reading_it(sandbox):
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v1/aggregation")
        connection.putheader("x-pendo-integration-key", sandbox.key)
        connection.putheader("Content-Length", str(10**9))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert b"larger than" in response.read()
    finally:
        connection.close()


def test_head_and_options_get_405(api):
    assert api.request("HEAD", "/api/v1/report").status_code == 405
    response = api.request("OPTIONS", "/api/v1/aggregation")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_malformed_request_line_gets_plain_text_400(sandbox):
    parts = urlsplit(sandbox.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        raw.sendall(b"NOT A VALID REQUEST LINE AT ALL\r\n\r\n")
        answer = raw.recv(4096)
    assert (
        answer.startswith(b"HTTP/1.1 400")
        and b"text/plain" in answer
        and b"<html" not in answer.lower()
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/api/v1/aggregation", "/api/v1/metadata/visitor/custom/value"]),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
def test_random_bodies_never_get_a_500(fresh_api, path, body):
    # Random bodies go to the write path with the read-write key: a sandbox of its own.
    response = fresh_api.post(path, data=body, key="ro" if path.endswith("aggregation") else "rw")
    assert response.status_code < 500, response.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tail=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30))
def test_random_paths_never_get_a_500(api, tail):
    path = "/api/v1/" + quote(tail, safe="/?=&%")
    assert api.get(path).status_code < 500
