"""Cache isolation: an answer cached for one key is never served to another key.

Point 4 of the reliability issue. Two clients with different keys share one cache file and one
host. Key A fills the cache; the server is stopped; key A is still answered from the cache (so
the entries are there), while key B gets a connection error for every request: a miss, not data.
"""

from __future__ import annotations

import pytest

from pendo_nb.errors import PendoConnectionError
from pendo_nb.sandbox import Sandbox

from .reliability_helpers import client_of

STEPS = [{"source": {"visitors": None}}, {"limit": 3}]


def reads(sandbox: Sandbox):
    """The cached reads to try: (label, call(client))."""
    vid, aid = sandbox.subscription.visitor_ids[0], sandbox.subscription.account_ids[0]
    report_id = next(r["id"] for r in sandbox.subscription.reports if r.get("shared"))
    return [
        ("reports", lambda c: c.get_reports()),
        ("visitor", lambda c: c.get_visitor(vid)),
        ("account", lambda c: c.get_account(aid)),
        ("report", lambda c: c.get_report_results(report_id)),
        ("aggregation", lambda c: c.post_aggregation(STEPS)),
        ("schema", lambda c: c.get_metadata_schema("visitor")),
    ]


def test_an_answer_cached_for_one_key_never_reaches_another(tmp_path):
    shared = tmp_path / "shared-cache.sqlite"
    with Sandbox(size="small") as sandbox:
        calls = reads(sandbox)
        owner = client_of(sandbox, cache=shared)
        # Both keys are valid on this server and would get the same data from it.
        other = client_of(sandbox, key=sandbox.read_only_key, cache=shared)
        fetched = {label: call(owner).content for label, call in calls}
        url = sandbox.url
    assert owner.cache_info().entries == len(calls)

    for label, call in calls:
        answer = call(owner)
        assert answer.from_cache and answer.content == fetched[label], label
        with pytest.raises(PendoConnectionError):
            call(other)
    assert other.cache_info().hits == 0
    assert url == owner.base_url == other.base_url


def test_the_same_key_on_another_host_is_another_cache(tmp_path):
    shared = tmp_path / "shared-cache.sqlite"
    with Sandbox(size="small") as sandbox:
        first = client_of(sandbox, cache=shared)
        first.get_reports()
        port = sandbox.url.rsplit(":", 1)[1]
        # Same server, other spelling of its host: cached answers follow the host as written.
        elsewhere = client_of(sandbox, cache=shared, base_url=f"http://localhost:{port}")
        assert not elsewhere.get_reports().from_cache
        assert first.get_reports().from_cache
