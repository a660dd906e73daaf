"""visitor_history has the same dtypes whether the range holds items or none."""

from __future__ import annotations

import pandas as pd
import pytest

import pendo_nb as pn

DAY_MS = 86_400_000
EXPECTED = {
    "visitorId": "str",
    "windowStart": "datetime64[us, Europe/Paris]",
    "type": "str",
    "ts": "datetime64[us, Europe/Paris]",
    "lastTs": "datetime64[us, Europe/Paris]",
}


@pytest.fixture
def client(sandbox):
    return pn.connect(sandbox=sandbox, rate_limit=None, cache=False, tz="Europe/Paris")


def test_empty_and_full_histories_share_their_dtypes(client, sandbox):
    subscription = sandbox.subscription
    vid = next(iter(subscription.visitors))
    # One millisecond at midnight, well inside the 180 days kept: no item starts there.
    day = (subscription.now_ms // DAY_MS - 170) * DAY_MS
    empty = pn.visitor_history(vid, start=day, end=day + 1)
    assert len(empty) == 0
    assert {name: str(dtype) for name, dtype in empty.dtypes.items()} == EXPECTED

    last_day = (subscription.now_ms // DAY_MS - 1) * DAY_MS
    full = None
    for candidate in list(subscription.visitors)[:50]:
        frame = pn.visitor_history(candidate, start=last_day, end=last_day + DAY_MS)
        if len(frame):
            full = frame
            break
    assert full is not None, "no visitor of the first 50 was active yesterday"
    assert {name: str(full[name].dtype) for name in EXPECTED} == EXPECTED
    first_ts = full["ts"].iloc[0]
    assert pd.Timestamp(last_day, unit="ms", tz="UTC") <= first_ts
    assert first_ts < pd.Timestamp(last_day + DAY_MS, unit="ms", tz="UTC")
