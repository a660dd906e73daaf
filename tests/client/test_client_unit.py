"""PendoClient against strict HTTP mocks: hosts, headers, ids, bodies, errors. No network."""

from __future__ import annotations

import base64
import json

import pytest
import requests
import responses
from responses import matchers

from pendo_nb import PendoClient
from pendo_nb.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PendoTimeoutError,
    ValidationError,
)
from pendo_nb.http.connection import aggregation_envelope

KEY = "4b8c1e0a-3f2d-4c5b-9a7e-1d2c3b4a5f6e"
EU_KEY = KEY + ".eu"
US = "https://app.pendo.io/api/v1"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def client(key=KEY, **kwargs):
    return PendoClient(key, cache=False, rate_limit=None, **kwargs)


@pytest.mark.parametrize(
    ("key", "region", "env", "host"),
    [
        (KEY, None, None, "app.pendo.io"),
        (EU_KEY, None, None, "app.eu.pendo.io"),
        (KEY + ".jpn", None, None, "app.jpn.pendo.io"),
        (KEY + ".us1", None, None, "us1.app.pendo.io"),
        (KEY, "au", None, "app.au.pendo.io"),
        (KEY, None, "eu", "app.eu.pendo.io"),
        (EU_KEY, "us", None, "app.pendo.io"),  # an explicit region wins over the suffix
    ],
)
def test_region_and_host(monkeypatch, key, region, env, host):
    if env:
        monkeypatch.setenv("PENDO_REGION", env)
    assert client(key, region=region).host == host


def test_unknown_region_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown region 'mars'"):
        client(region="mars")


def test_base_url_for_anything_else():
    c = client(base_url="http://127.0.0.1:8080/")
    assert c.base_url == "http://127.0.0.1:8080" and c.region is None
    with pytest.raises(ConfigurationError, match="base_url"):
        client(base_url="ftp://x")


def test_empty_key_is_refused():
    with pytest.raises(ConfigurationError, match="integration key"):
        PendoClient("  ")


def test_repr_shows_region_host_and_at_most_four_key_characters():
    text = repr(client(EU_KEY))
    assert "region=eu" in text and "app.eu.pendo.io" in text
    assert EU_KEY not in text and KEY[:8] not in text
    masked = text.split("key=")[1].rstrip(">")
    assert len(masked.replace("*", "")) <= 4


def test_requests_carry_the_key_header(mocked):
    mocked.get(
        f"{US}/report",
        json=[],
        match=[matchers.header_matcher({"x-pendo-integration-key": KEY})],
    )
    assert client().get_reports().json() == []


def test_aggregation_sends_the_envelope_with_sorted_keys_and_a_long_read_timeout(mocked):
    mocked.post(f"{US}/aggregation", json={"startTime": 5, "results": [{"a": 1}]})
    response = client(timeout=20).post_aggregation([{"source": {"visitors": None}}, {"limit": 1}])
    assert response.json() == {"startTime": 5, "results": [{"a": 1}]}
    sent = mocked.calls[0].request
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == (
        b'{"request":{"pipeline":[{"source":{"visitors":null}},{"limit":1}]},'
        b'"response":{"mimeType":"application/json"}}'
    )
    assert sent.req_kwargs["timeout"] == (10.0, 330.0)


def test_provenance_of_a_response(mocked):
    mocked.get(f"{US}/report", json=[], headers={"X-Request-Id": "req-7"})
    response = client().get_reports()
    assert response.provenance()["request_id"] == "req-7"
    assert response.provenance()["host"] == "app.pendo.io"
    assert response.from_cache is False and response.fetched_at.tzinfo is not None


def test_url_safe_ids_go_as_they_are(mocked):
    mocked.get(f"{US}/visitor/user-1_a.b~c", json={"id": "user-1_a.b~c"})
    client().get_visitor("user-1_a.b~c")
    assert "x-pendo-base64-encoded-params" not in mocked.calls[0].request.headers


@pytest.mark.parametrize("object_id", ["acme/emea", "ada@example.com", "with space", "b64_x", "ü"])
def test_other_ids_go_base64_encoded_with_the_header(mocked, object_id):
    encoded = base64.urlsafe_b64encode(object_id.encode()).decode()
    mocked.get(
        f"{US}/account/b64_{encoded}",
        json={"id": object_id},
        match=[matchers.header_matcher({"x-pendo-base64-encoded-params": "true"})],
    )
    client().get_account(object_id)


def test_history_sends_starttime_in_ms(mocked):
    mocked.get(
        f"{US}/visitor/v1/history",
        json=[],
        match=[matchers.query_param_matcher({"starttime": "1761955200000"})],
    )
    client().get_visitor_history("v1", 1761955200000)


def test_report_paths_and_csv_accept_header(mocked):
    mocked.get(f"{US}/report/r1/results.json", json=[])
    mocked.get(
        f"{US}/report/r1/results.csv",
        body="a,b\n1,2\n",
        content_type="text/csv",
        match=[matchers.header_matcher({"Accept": "text/csv"})],
    )
    c = client()
    assert c.get_report_results("r1").json() == []
    assert c.get_report_csv("r1").text == "a,b\n1,2\n"


def test_metadata_write_body_and_create_flag(mocked):
    records = [{"visitorId": "v1", "values": {"plan": "pro"}}]
    mocked.post(
        f"{US}/metadata/visitor/custom/value",
        json={"total": 1, "updated": 1, "failed": 0, "missing": []},
        match=[
            matchers.query_param_matcher({"create": "true"}),
            matchers.json_params_matcher(records),
        ],
    )
    client().post_metadata_values("visitor", "custom", records, create=True)


def test_schema_is_fetched_once_per_client(mocked):
    mocked.get(f"{US}/metadata/schema/account", json={"custom": {"tier": {"Type": "string"}}})
    c = client()
    assert c.metadata_schema("account") == c.metadata_schema("account")
    assert len(mocked.calls) == 1


def test_kind_is_checked_before_sending(mocked):
    # The strict mock refuses any request: a missing check fails here instead of asking Pendo.
    with pytest.raises(ValidationError, match="kind"):
        client().get_metadata_schema("page")
    assert len(mocked.calls) == 0


def test_404_becomes_not_found_with_the_body(mocked):
    mocked.get(
        f"{US}/visitor/nobody", status=404, body="Error while getting visitor, no such entity found"
    )
    with pytest.raises(NotFoundError, match="no such entity") as caught:
        client().get_visitor("nobody")
    assert caught.value.method == "GET" and caught.value.url == f"{US}/visitor/nobody"


def test_403_with_an_eu_key_on_the_us_host_names_the_eu_host(mocked):
    mocked.get(f"{US}/report", status=403, body="Key is invalid")
    with pytest.raises(AuthenticationError) as caught:
        client(EU_KEY, region="us").get_reports()
    assert "app.eu.pendo.io" in caught.value.hint
    assert EU_KEY not in str(caught.value)


def test_400_from_the_engine(mocked):
    mocked.post(
        f"{US}/aggregation", status=400, body="Cannot parse filter expression at position 4"
    )
    with pytest.raises(BadRequestError) as caught:
        client().post_aggregation([{"source": {"visitors": None}}, {"filter": "a =="}])
    assert caught.value.position == 4


def test_timeouts_become_pendo_timeout_errors(mocked):
    mocked.post(f"{US}/aggregation", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(PendoTimeoutError, match="timed out"):
        client().post_aggregation([{"source": {"visitors": None}}])


class BuilderLike:
    def to_json(self):
        return {
            "response": {"mimeType": "application/json"},
            "request": {"pipeline": [{"count": None}]},
        }


@pytest.mark.parametrize(
    "given",
    [
        [{"count": None}],
        {"pipeline": [{"count": None}]},
        {"response": {"mimeType": "application/json"}, "request": {"pipeline": [{"count": None}]}},
        BuilderLike(),
        json.dumps([{"count": None}]),
    ],
)
def test_aggregation_envelope_accepts_every_form(given):
    assert aggregation_envelope(given)["request"]["pipeline"] == [{"count": None}]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (42, "got int"),
        ([], "non-empty list"),
        ({"request": {"pipeline": "x"}}, "non-empty list"),
        ([{"count": None}, 3], "step 1"),
        ("{not json", "not valid JSON"),
    ],
)
def test_aggregation_envelope_refuses_bad_input(given, message):
    with pytest.raises(ValidationError, match=message):
        aggregation_envelope(given)
