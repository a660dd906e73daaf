"""Fixtures shared by every test layer.

Tests cannot reach the network by accident: `PENDO_*` variables are cleared for each test, and
integration tests talk to a real sandbox server on loopback. No test leaves a process behind:
what a test (or the session) started and left running fails it, and is killed.
"""

from __future__ import annotations

import psutil
import pytest

# Helpers the standard library starts once and keeps for the life of the process that asked
# (Dask's process workers use them): not left behind by a test.
SHARED_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
# What a process that was told to stop gets to end before it counts as left behind.
GRACE_SECONDS = 10


def _running_children() -> set[psutil.Process]:
    """This process's descendants still running (an ended child not yet waited for is not)."""
    running = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if any(helper in part for part in child.cmdline() for helper in SHARED_HELPERS):
                continue
        except psutil.NoSuchProcess:  # ended while being looked at
            continue
        running.add(child)
    return running


def _owned_by(process: psutil.Process, owners: set[psutil.Process]) -> bool:
    """Whether ``process`` descends from one of ``owners``: a longer-lived fixture's server
    (JupyterLab starts a kernel when a test opens a notebook) ends its own children, and the
    session's check sees any it leaves."""
    try:
        return any(parent in owners for parent in process.parents())
    except psutil.NoSuchProcess:
        return False


def _kill_left_behind(before: set[psutil.Process]) -> list[str]:
    """Kill the descendants started since ``before`` still running; describe them."""
    left = {process for process in _running_children() - before if not _owned_by(process, before)}
    if not left:
        return []
    _, left = psutil.wait_procs(left, timeout=GRACE_SECONDS)
    described = []
    for process in left:
        try:
            described.append(f"pid {process.pid}: {' '.join(process.cmdline())}")
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(left, timeout=GRACE_SECONDS)
    return described


def _processes_end_with(what: str):
    """Fixture body: fail ``what`` (and kill the processes) if what it started still runs."""
    before = _running_children()
    yield
    left = _kill_left_behind(before)
    if left:
        pytest.fail(f"{what} left processes running (now killed): {left}")


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_by_the_session():
    """Session-wide fixtures' processes (a JupyterLab server...) end with the session."""
    yield from _processes_end_with("the test session")


@pytest.fixture(autouse=True)
def _no_process_left_by_the_test():
    """A process a test (or its function fixtures) started ends with the test."""
    yield from _processes_end_with("the test")


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
