"""The response cache: hits, refresh, isolation between keys, invalidation, no key on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses

from pendo_nb import PendoClient

BASE = "https://app.pendo.io/api/v1"
KEY_A = "aaaaaaaa-1111-2222-3333-444444444444"
KEY_B = "bbbbbbbb-1111-2222-3333-444444444444"
VISITORS = [{"source": {"visitors": None}}, {"limit": 2}]


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def cached_client(key=KEY_A, **kwargs):
    return PendoClient(key, rate_limit=None, **kwargs)  # cache=True: SQLite in PENDO_NB_CACHE_DIR


def test_a_second_read_is_served_from_the_cache(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    c = cached_client()
    first, second = c.get_visitor("v1"), c.get_visitor("v1")
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.json() == {"id": "v1"}
    assert len(mocked.calls) == 1
    info = c.cache_info()
    assert (info.hits, info.misses, info.entries) == (1, 1, 1)


def test_equal_pipelines_share_an_entry_whatever_their_key_order(mocked):
    mocked.post(f"{BASE}/aggregation", json={"startTime": 1, "results": []})
    c = cached_client()
    c.post_aggregation({"request": {"pipeline": VISITORS, "name": "x"}, "response": {}})
    again = c.post_aggregation({"response": {}, "request": {"name": "x", "pipeline": VISITORS}})
    assert again.from_cache and len(mocked.calls) == 1


def test_refresh_asks_the_server_again(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1", "new": True})
    c = cached_client()
    c.get_visitor("v1")
    assert c.get_visitor("v1", refresh=True).json() == {"id": "v1", "new": True}
    assert c.get_visitor("v1").json() == {"id": "v1", "new": True}  # the refreshed answer is kept
    assert len(mocked.calls) == 2


def test_an_answer_cached_for_one_key_is_never_served_to_another(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    a, b = cached_client(KEY_A), cached_client(KEY_B)
    a.get_visitor("v1")
    assert b.get_visitor("v1").from_cache is False
    assert [call.request.headers["x-pendo-integration-key"] for call in mocked.calls] == [
        KEY_A,
        KEY_B,
    ]
    assert a.get_visitor("v1").from_cache and b.get_visitor("v1").from_cache


def test_writes_are_never_cached_and_forget_what_they_touched(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.get(f"{BASE}/visitor/v2", json={"id": "v2"})
    mocked.get(f"{BASE}/report", json=[])
    mocked.post(f"{BASE}/aggregation", json={"startTime": 1, "results": []})
    mocked.post(f"{BASE}/metadata/visitor/custom/value", json={"total": 1, "updated": 1})
    c, other_key = cached_client(), cached_client(KEY_B)
    for reader in (c, other_key):
        reader.get_visitor("v1")
        reader.get_visitor("v2")
    c.get_reports()
    c.post_aggregation(VISITORS)
    records = [{"visitorId": "v1", "values": {"plan": "pro"}}]
    c.post_metadata_values("visitor", "custom", records)
    c.post_metadata_values("visitor", "custom", records)
    # what the write touched is asked again, for every key; the rest is still cached
    assert not c.get_visitor("v1").from_cache
    assert not other_key.get_visitor("v1").from_cache
    assert not c.post_aggregation(VISITORS).from_cache
    assert c.get_visitor("v2").from_cache and c.get_reports().from_cache
    methods = [(call.request.method, call.request.path_url) for call in mocked.calls]
    assert methods.count(("POST", "/api/v1/metadata/visitor/custom/value")) == 2
    assert methods.count(("GET", "/api/v1/visitor/v1")) == 4


def test_the_key_is_absent_from_the_cache_files(mocked, tmp_path, monkeypatch):
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(tmp_path / "c"))
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.post(f"{BASE}/aggregation", json={"startTime": 1, "results": []})
    c = cached_client()
    c.get_visitor("v1")
    c.post_aggregation(VISITORS)
    assert c.get_visitor("v1").from_cache
    c.close()
    files = [p for p in Path(tmp_path / "c").rglob("*") if p.is_file()]
    assert files, "the cache wrote nothing"
    stored = b"".join(p.read_bytes() for p in files)
    assert b"/api/v1/visitor/v1" in stored  # the entries are there...
    assert KEY_A.encode() not in stored  # ...without the key


def test_clear_cache_deletes_the_clients_own_answers(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mine, theirs = cached_client(KEY_A), cached_client(KEY_B)
    mine.get_visitor("v1")
    theirs.get_visitor("v1")
    assert (mine.cache_info().entries, theirs.cache_info().entries) == (1, 1)
    mine.clear_cache()
    assert (mine.cache_info().entries, theirs.cache_info().entries) == (0, 1)
    assert not mine.get_visitor("v1").from_cache
    assert theirs.get_visitor("v1").from_cache
    mine.clear_cache(everything=True)
    assert (mine.cache_info().entries, theirs.cache_info().entries) == (0, 0)


def test_cache_false_caches_nothing(mocked):
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    mocked.get(f"{BASE}/visitor/v1", json={"id": "v1"})
    c = cached_client(cache=False)
    c.get_visitor("v1")
    assert not c.get_visitor("v1").from_cache
    assert c.cache_info().enabled is False


def test_the_cache_key_of_an_aggregation_is_found_without_reading_its_answer(mocked, monkeypatch):
    mocked.post(f"{BASE}/aggregation", json={"startTime": 1, "results": [{"n": 1}]})
    c = cached_client()
    assert c.aggregation_cache_key(VISITORS) is None  # nothing stored yet
    c.post_aggregation(VISITORS)

    def no_reading(*args, **kwargs):
        raise AssertionError("the stored answer was deserialized")

    # A big window's answer is megabytes of JSON: asking whether it is there must not parse it.
    monkeypatch.setattr(c._session.cache.responses, "deserialize", no_reading)
    key = c.aggregation_cache_key(VISITORS)
    assert key is not None and key.startswith(c._namespace)
    assert c.aggregation_cache_key([{"source": {"accounts": None}}]) is None
