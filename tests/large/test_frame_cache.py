"""Converted windows are kept beside the HTTP cache and live exactly as long as its answers."""

from __future__ import annotations

import pandas as pd

import pendo_nb as pn
from pendo_nb.frame_cache import FrameCache

FIVE_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -5},
        }
    }
]


def frame_files(client) -> list:
    return sorted(FrameCache(client).folder.glob("*.pickle"))


def test_a_rerun_reads_the_converted_windows(client):
    first = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    files = frame_files(client)
    assert len(files) == 5
    assert client.aggregation_cache_key([{"source": {"pages": None}}]) is None  # never sent
    misses = client.cache_info().misses
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert client.cache_info().misses == misses  # nothing asked of the server
    assert again.attrs["windows_cached"] == 5
    pd.testing.assert_frame_equal(again, first)


def test_frames_are_forgotten_with_their_answers(client):
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    client.clear_cache()
    assert len(frame_files(client)) == 5  # still on disk, but no longer served:
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert again.attrs["windows_fetched"] == 5


def test_frames_are_forgotten_after_a_metadata_write(fresh_sandbox, make_client):
    client = make_client(fresh_sandbox.url, fresh_sandbox.key)
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    visitor = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}], client=client)
    pn.update_values(
        "visitor", [{"visitorId": visitor["visitorId"][0], "department": "x"}], client=client
    )
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert again.attrs["windows_fetched"] == 5


def test_a_damaged_file_is_fetched_again(client):
    first = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    damaged = frame_files(client)[0]
    damaged.write_bytes(b"not a pickle")
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    pd.testing.assert_frame_equal(again, first)
    assert damaged.exists() and damaged.read_bytes() != b"not a pickle"  # written anew


def test_no_files_without_a_cache_file(sandbox, make_client):
    client = make_client(sandbox.url, sandbox.key, cache=False)
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert FrameCache(client).folder is None


def test_the_key_is_in_no_cache_file(sandbox, make_client, tmp_path):
    import base64

    client = make_client(sandbox.url, sandbox.key, name="hygiene")
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=80, progress=False)
    key = sandbox.key.encode()
    forms = [key, base64.b64encode(key), base64.urlsafe_b64encode(key)]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "hygiene" in str(p)]
    assert len(files) >= 6  # the SQLite file (and its log) and the five frames
    for path in files:
        content = path.read_bytes()
        assert not [form for form in forms if form in content], path
