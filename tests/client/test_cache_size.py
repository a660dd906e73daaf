"""cache_info().size_bytes counts what the cache holds, answers still in the SQLite log included."""

from __future__ import annotations

import requests

import pendo_nb as pn

VISITORS = [{"source": {"visitors": None}}]


def test_size_covers_a_cached_answer_before_any_checkpoint(sandbox, tmp_path):
    raw = requests.post(
        f"{sandbox.url}/api/v1/aggregation",
        json={"response": {"mimeType": "application/json"}, "request": {"pipeline": VISITORS}},
        headers={"x-pendo-integration-key": sandbox.key},
    )
    raw.raise_for_status()
    client = pn.connect(sandbox=sandbox, cache=tmp_path / "cache.sqlite", rate_limit=None)
    empty = pn.cache_info().size_bytes
    pn.aggregate(VISITORS)
    info = pn.cache_info()
    assert info.entries >= 1
    # The answer's bytes are stored (not compressed), so the store grew by at least that much.
    assert info.size_bytes - empty >= len(raw.content)
    client.close()
