"""Fixtures shared by every test layer.

Tests cannot reach the network by accident: `PENDO_*` variables are cleared for each test, and
integration tests talk to a real sandbox server on loopback.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test sees a real key, a real region or the user's cache directory."""
    for name in ("PENDO_INTEGRATION_KEY", "PENDO_REGION", "PENDO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(tmp_path / "pendo-cache"))
    yield
    try:
        from pendo_nb.api import connect
    except ImportError:  # the client layer is optional for sandbox-only test runs
        return
    connect._reset_default_client()


@pytest.fixture(scope="session")
def sandbox():
    """A real sandbox server (size "small") on 127.0.0.1, shared by the session.

    Tests that write must use `fresh_sandbox` instead, so they never change what others read.
    """
    from pendo_nb.sandbox import Sandbox

    with Sandbox(size="small") as server:
        yield server


@pytest.fixture
def fresh_sandbox():
    """A sandbox of its own for a test that writes."""
    from pendo_nb.sandbox import Sandbox

    with Sandbox(size="small") as server:
        yield server
