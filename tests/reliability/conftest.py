"""Fixtures of the reliability tests (helpers live in ``reliability_helpers``).

Every test here talks to a real sandbox on 127.0.0.1. Retry waits go to a virtual clock instead of
sleeping: the client still computes and "takes" each wait (and its time budget sees them pass),
so a test can check what was waited without waiting.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pendo_nb.http import session

from .reliability_helpers import VirtualClock


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    """Retry waits recorded on a virtual clock that the retry time budget also reads."""
    virtual = VirtualClock()
    monkeypatch.setattr(session, "_sleep", virtual.sleep)
    monkeypatch.setattr(
        session, "time", SimpleNamespace(monotonic=virtual.monotonic, sleep=virtual.sleep)
    )
    return virtual
