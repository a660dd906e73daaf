"""can_write(): whether the key may write, read from GET /token/verify on a real sandbox.

What the sandbox answers (checked in the first test, so the rest rest on it): 200 for its
read-write key, 403 for its read-only key, and 403 "Key is invalid" for a key it does not know.
"""

from __future__ import annotations

import pytest
import requests

import pendo_nb as pn
from pendo_nb.sandbox import DEMO_KEY, DEMO_READ_ONLY_KEY

UNKNOWN_KEY = "00000000-0000-4000-8000-000000000000"


def verify_status(sandbox, key: str) -> tuple[int, str]:
    answer = requests.get(
        f"{sandbox.url}/api/v1/token/verify",
        headers={"x-pendo-integration-key": key},
        timeout=10,
    )
    return answer.status_code, answer.text


def test_the_sandbox_answers_verify_as_the_reference_says(sandbox):
    assert verify_status(sandbox, sandbox.key)[0] == 200
    assert verify_status(sandbox, sandbox.read_only_key)[0] == 403
    status, body = verify_status(sandbox, UNKNOWN_KEY)
    assert status == 403 and body.startswith("Key is invalid")


def test_the_read_write_key_can_write(sandbox):
    client = pn.connect(sandbox=sandbox, rate_limit=None)
    assert sandbox.key == DEMO_KEY
    assert pn.can_write() is True
    assert client.can_write() is True


def test_the_read_only_key_cannot_write(sandbox):
    assert sandbox.read_only_key == DEMO_READ_ONLY_KEY
    client = pn.connect(key=sandbox.read_only_key, base_url=sandbox.url, rate_limit=None)
    assert pn.can_write() is False
    assert pn.can_write(client=client) is False
    assert client.can_write() is False


def test_an_unknown_key_is_an_authentication_error_not_false(sandbox):
    client = pn.connect(key=UNKNOWN_KEY, base_url=sandbox.url, rate_limit=None)
    with pytest.raises(pn.AuthenticationError) as caught:
        client.can_write()
    assert caught.value.status == 403
    assert not isinstance(caught.value, pn.WriteAccessError)
    assert UNKNOWN_KEY not in str(caught.value)


def test_the_answer_is_never_taken_from_the_cache(fresh_sandbox):
    """A key's write access can change at any time: each call asks the server again."""
    client = pn.connect(sandbox=fresh_sandbox, rate_limit=None)
    assert client.can_write() is True
    before = client.cache_info()
    assert client.can_write() is True
    after = client.cache_info()
    assert after.hits == before.hits
    assert after.misses == before.misses + 1


def test_no_default_client_is_a_configuration_error():
    with pytest.raises(pn.ConfigurationError, match="not connected"):
        pn.can_write()


def test_update_values_refuses_a_read_only_key_with_the_verify_answer(fresh_sandbox):
    """update_values' check is can_write's: the error names the 403 of GET /token/verify."""
    pn.connect(key=fresh_sandbox.read_only_key, base_url=fresh_sandbox.url, rate_limit=None)
    visitor_id = sorted(fresh_sandbox.subscription.visitors)[0]
    with pytest.raises(pn.WriteAccessError) as caught:
        pn.update_values("visitor", [{"visitorId": visitor_id, "betaopt": True}])
    assert caught.value.status == 403
    assert caught.value.method == "GET"
    assert caught.value.url.endswith("/api/v1/token/verify")


JSON = {"Content-Type": "application/json"}


def test_a_server_without_the_probe_is_not_taken_for_a_yes_or_a_no(scripted):
    """404 from /token/verify: can_write cannot tell, and says so with NotFoundError."""
    scripted.script = [(404, {}, b"Not found")]
    client = pn.PendoClient("k" * 32, base_url=scripted.url, cache=False, rate_limit=None)
    with pytest.raises(pn.NotFoundError):
        client.can_write()
    assert [r["path"] for r in scripted.received] == ["/api/v1/token/verify"]


def test_update_values_lets_the_write_answer_where_the_probe_is_missing(scripted):
    schema = b'{"custom": {"betaopt": {"Type": "boolean"}}}'
    scripted.script = [
        (200, JSON, schema),
        (404, {}, b"Not found"),
        (200, JSON, b'{"total": 1, "updated": 1, "failed": 0, "missing": [], "errors": []}'),
    ]
    client = pn.PendoClient("k" * 32, base_url=scripted.url, cache=False, rate_limit=None)
    result = client.update_values("visitor", [{"visitorId": "v1", "betaopt": True}])
    assert result["outcome"].tolist() == ["updated"]
    assert [(r["method"], r["path"]) for r in scripted.received] == [
        ("GET", "/api/v1/metadata/schema/visitor"),
        ("GET", "/api/v1/token/verify"),
        ("POST", "/api/v1/metadata/visitor/custom/value"),
    ]


def test_a_region_suffixed_key_refused_behind_a_custom_base_url_gets_no_region_hint(scripted):
    """Issue 18: a proxy's refusal is not a wrong-region refusal (the host names no region)."""
    scripted.script = [(401, {}, b"Unauthorized")]
    client = pn.PendoClient("k" * 32 + ".eu", base_url=scripted.url, cache=False, rate_limit=None)
    with pytest.raises(pn.AuthenticationError) as caught:
        client.verify_key()
    assert "region suffix" not in caught.value.hint
    assert "was refused by" in caught.value.hint


def test_a_region_suffixed_key_on_another_regional_host_keeps_the_region_hint():
    client = pn.PendoClient("k" * 32 + ".eu", region="us", cache=False, rate_limit=None)
    assert client._key_region_host() == "app.eu.pendo.io"
