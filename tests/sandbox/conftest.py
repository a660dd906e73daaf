"""Fixtures of the sandbox tests: an :class:`Api` on the shared sandbox and on a fresh one."""

from __future__ import annotations

import pytest

from .sandbox_helpers import Api


@pytest.fixture
def api(sandbox):
    """HTTP helper on the session's shared (read-only use) sandbox."""
    return Api(sandbox)


@pytest.fixture
def fresh_api(fresh_sandbox):
    """HTTP helper on a sandbox of its own, for tests that write."""
    return Api(fresh_sandbox)
