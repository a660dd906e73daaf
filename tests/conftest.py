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


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory):
    """The documentation site, built once per session as ``make docs`` builds it.

    Warnings are errors and references are checked (``-W -n``); the guides' code runs against
    the sandbox during the build. Returns the HTML folder and the finished build process.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("docs")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    command += ["-d", str(out / "doctrees"), str(root / "docs"), str(out / "html")]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1800)
    return out / "html", result
