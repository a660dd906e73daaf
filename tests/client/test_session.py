"""The HTTP session: timeouts, body encoding, cache location and backends."""

from __future__ import annotations

import pytest
import requests_cache

from pendo_nb.http import session


def test_timeouts_from_a_number_a_pair_or_none():
    assert session.Timeouts.coerce(None) == session.Timeouts()
    assert session.Timeouts.coerce(30).for_request() == (10.0, 30.0)
    assert session.Timeouts.coerce((2, 5)).for_request() == (2, 5)
    # aggregations always get Pendo's 5-minute cap plus a margin
    assert session.Timeouts.coerce(5).for_request(aggregation=True) == (5.0, 330.0)
    assert session.Timeouts.coerce(900).for_request(aggregation=True) == (10.0, 900.0)


def test_timeouts_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        session.Timeouts.coerce(0)


def test_bodies_are_encoded_with_sorted_keys():
    a = {"request": {"pipeline": [{"limit": 1}], "name": "x"}, "response": {}}
    b = {"response": {}, "request": {"name": "x", "pipeline": [{"limit": 1}]}}
    assert session.encode_json(a) == session.encode_json(b)
    assert (
        session.encode_json(a) == b'{"request":{"name":"x","pipeline":[{"limit":1}]},"response":{}}'
    )


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(tmp_path / "here"))
    assert session.cache_dir() == tmp_path / "here"


def test_cache_true_is_sqlite_in_the_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(tmp_path))
    s = session.build_session("k", "http://127.0.0.1:1")
    assert isinstance(s.cache, requests_cache.SQLiteCache)
    assert str(s.cache.db_path).startswith(str(tmp_path))


def test_cache_false_is_disabled_and_a_path_or_backend_is_used(tmp_path):
    assert session.build_session("k", "http://h", cache=False).settings.disabled
    s = session.build_session("k", "http://h", cache=tmp_path / "sub" / "c.sqlite")
    assert str(s.cache.db_path) == str(tmp_path / "sub" / "c.sqlite")
    backend = requests_cache.BaseCache()
    assert session.build_session("k", "http://h", cache=backend).cache is backend
    with pytest.raises(TypeError, match="cache must be"):
        session.build_session("k", "http://h", cache=3)
