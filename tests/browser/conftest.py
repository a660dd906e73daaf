"""Real-browser harness: JupyterLab on loopback, driven by Debian's Chromium through Playwright.

Every pitfall listed in ../shared/reference/testing.md is handled here, once:

- JupyterLab runs on 127.0.0.1 with a random token and ``--allow-root`` (CI runs as root), with its
  own config, settings, data, runtime and workspace directories in a temporary directory, the
  preferred kernel started automatically (otherwise "run all" can open a kernel picker and hang),
  and news/update checks off.
- Chromium is Debian's ``/usr/bin/chromium`` (``make browser-deps``), never a Playwright download.
- Every request that does not go to 127.0.0.1 is aborted, so nothing leaves loopback.
- Notebooks are temporary files written for the test: JupyterLab autosaves and checkpoints whatever
  it opens, so it never sees the repository's own notebooks.
- A failing test leaves a screenshot under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT_S = 60
# Generous ceilings for waits inside a flow; pytest-timeout bounds the whole test.
KERNEL_IDLE_TIMEOUT_MS = 60_000
WIDGET_TIMEOUT_MS = 30_000

# JupyterLab user settings, keyed by "<extension package>/<plugin>" as they are stored on disk.
LAB_SETTINGS = {
    # Without auto-start, "run all" can open a kernel-picker dialog and the test hangs forever.
    # Windowing off: every cell is rendered, so a test finds outputs below the fold too.
    "@jupyterlab/notebook-extension/tracker": {
        "autoStartDefaultKernel": True,
        "windowingMode": "none",
    },
    # No news or update checks: they would try to reach the internet.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


#: The ceiling of a browser test that sets none: a hung page must never hang the suite.
DEFAULT_TEST_TIMEOUT_S = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test gets a timeout; all are skipped, saying why, without the browser."""
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run `make browser-deps`")
    for item in items:
        if "browser" not in item.keywords:
            continue
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TEST_TIMEOUT_S))
        if not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: its base URL, its token and the directory it serves."""

    url: str
    token: str
    root_dir: Path

    def api(self, path: str) -> requests.Response:
        """GET a Jupyter REST path (``/api/...``) with the token."""
        response = requests.get(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}, timeout=10
        )
        response.raise_for_status()
        return response


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_serving(server: LabServer, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            server.api("/api/status")
            return
        except requests.RequestException:
            time.sleep(0.25)
    tail = log.read_text()[-3000:]
    raise RuntimeError(f"JupyterLab did not answer in {SERVER_START_TIMEOUT_S} s:\n{tail}")


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on 127.0.0.1, isolated from the user's Jupyter setup, stopped at session end."""
    home = tmp_path_factory.mktemp("jupyter")
    root_dir = home / "notebooks"
    root_dir.mkdir()
    settings_dir = home / "lab-settings"
    _write_lab_settings(settings_dir)
    env = {
        # No real key, region or cache of the user's ever reaches the kernel.
        **{k: v for k, v in os.environ.items() if not k.startswith("PENDO_")},
        "PENDO_NB_CACHE_DIR": str(home / "pendo-cache"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        # The kernel imports pendo_nb from this checkout whatever the notebook's directory is.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")) if p
        ),
    }
    token = secrets.token_hex(24)
    port = _free_loopback_port()
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # Lets the test run JupyterLab's own "run all cells" command, exactly as the menu does.
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    log = home / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=root_dir
        )
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root_dir=root_dir)
    try:
        _wait_until_serving(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium, launched by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


# Only requests leaving loopback reach a Python handler: the sync API runs handlers only while the
# test is inside a Playwright call, so routing every request through Python would stall the page.
OFF_LOOPBACK = re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1(:\d+)?(/|$))")


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):
    """A fresh browser page that can only reach 127.0.0.1; screenshot saved if the test fails."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.route(OFF_LOOPBACK, lambda route: route.abort())
    context.route_web_socket(OFF_LOOPBACK, lambda socket: socket.close())
    browser_page = context.new_page()
    browser_page.set_default_timeout(WIDGET_TIMEOUT_MS)
    try:
        yield browser_page
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            artifacts = request.config.rootpath / "test-artifacts" / "browser"
            artifacts.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "_").replace("[", "-").rstrip("]")
            browser_page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        context.close()


def notebook_json(cells: list[str]) -> dict:
    """A minimal nbformat-4 notebook with one code cell per source string."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{index}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for index, source in enumerate(cells)
        ],
    }


@pytest.fixture
def run_notebook(jupyter_lab: LabServer, page, request: pytest.FixtureRequest):
    """Open a temporary notebook in JupyterLab, wait for its kernel, run all cells.

    Call it with a list of cell sources, or with the path of a notebook to copy (the original is
    never served: JupyterLab would autosave into it). Returns the Playwright page, with every
    cell executed or executing (wait for the output you need).
    """
    written: list[Path] = []

    def _run(cells: list[str] | Path):
        name = f"{request.node.name.replace('[', '-').rstrip(']')}-{secrets.token_hex(4)}.ipynb"
        path = jupyter_lab.root_dir / name
        if isinstance(cells, Path):
            shutil.copyfile(cells, path)
        else:
            path.write_text(json.dumps(notebook_json(cells)))
        written.append(path)
        page.goto(f"{jupyter_lab.url}/lab/tree/{name}?token={jupyter_lab.token}")
        _wait_for_idle_kernel(page, jupyter_lab, name)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        return page

    yield _run
    for path in written:
        path.unlink(missing_ok=True)
    shutil.rmtree(jupyter_lab.root_dir / ".ipynb_checkpoints", ignore_errors=True)


def _wait_for_idle_kernel(page, server: LabServer, notebook_name: str) -> None:
    """Wait until the notebook's kernel runs and is idle, as seen by the server and the page."""
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=KERNEL_IDLE_TIMEOUT_MS)
    deadline = time.monotonic() + KERNEL_IDLE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        sessions = server.api("/api/sessions").json()
        states = [
            s["kernel"]["execution_state"] for s in sessions if s["path"].endswith(notebook_name)
        ]
        if states == ["idle"]:
            break
        page.wait_for_timeout(200)  # not time.sleep: the page's requests need Playwright running
    else:
        raise AssertionError(f"the kernel of {notebook_name} never became idle")
    # The page's own connection to the kernel is ready when its status indicator says idle.
    page.wait_for_selector(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
        timeout=KERNEL_IDLE_TIMEOUT_MS,
    )


@pytest.fixture
def save_screenshot(request: pytest.FixtureRequest):
    """Save a screenshot of one element under ``test-artifacts/widgets/`` (for design review)."""
    artifacts = request.config.rootpath / "test-artifacts" / "widgets"

    def _save(locator, name: str, width: int = 1400) -> Path:
        artifacts.mkdir(parents=True, exist_ok=True)
        path = artifacts / f"{name}.png"
        # The notebook scrolls inside its panel: make the window tall enough for the whole widget.
        height = locator.bounding_box()["height"]
        locator.page.set_viewport_size({"width": width, "height": int(max(1000, height + 400))})
        locator.screenshot(path=str(path))
        return path

    return _save
