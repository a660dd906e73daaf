"""A committed notebook shows its forms without running: the static view of each widget.

Notebook 03, as it is committed (never run here), is opened in JupyterLab without running a cell,
and exported with nbconvert (as GitHub, nbviewer or a reviewer's HTML export shows it) and opened
in Chromium. The ReportPicker's list and its last table must be on both pages, with what the
sandbox serves (read with plain ``requests``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import requests
from nbconvert import HTMLExporter

from pendo_nb.sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03-reports-and-widgets.ipynb"
LAST_LOADED = "Paying accounts renewing within 90 days"  # the report the notebook loads last


def _sandbox_reports(sandbox) -> list[dict]:
    headers = {"x-pendo-integration-key": sandbox.key}
    listed = requests.get(f"{sandbox.url}/api/v1/report", headers=headers, timeout=10)
    listed.raise_for_status()
    return listed.json()


def _rows_of(sandbox, report_id: str) -> list[dict]:
    headers = {"x-pendo-integration-key": sandbox.key}
    url = f"{sandbox.url}/api/v1/report/{report_id}/results.json"
    answer = requests.get(url, headers=headers, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _names_listed(picker, reports: list[dict]) -> list[str]:
    """The report names a picker's list shows (each line starts with one, then its columns)."""
    lines = picker.locator("select option").all_inner_texts()
    names = [r["name"] for r in reports]
    longest_first = sorted(names, key=len, reverse=True)
    return sorted(next(n for n in longest_first if line.startswith(n)) for line in lines)


@pytest.fixture(scope="module")
def demo_sandbox():
    """The sandbox the notebook ran against: ``pn.connect(sandbox=True)`` serves the demo size."""
    with Sandbox(size="demo") as server:
        yield server


@pytest.fixture(scope="module")
def exported() -> str:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert "widgets" not in notebook.metadata  # no saved widget state: only the static view
    body, _ = HTMLExporter().from_notebook_node(notebook)
    return body


def test_the_html_export_holds_the_pickers_list_and_table(exported, demo_sandbox):
    names = [report["name"] for report in _sandbox_reports(demo_sandbox)]
    assert exported.count('data-widget="ReportPicker"') >= 2  # shown, then shown again loaded
    for name in names:
        assert name in exported
    assert "<table" in exported


def test_a_browser_shows_the_committed_notebooks_forms(
    exported, page, demo_sandbox, save_screenshot
):
    reports = _sandbox_reports(demo_sandbox)
    page.set_content(exported, wait_until="load")
    pickers = page.locator('.pendo-static[data-widget="ReportPicker"]')
    assert pickers.count() >= 2

    first, loaded = pickers.first, pickers.last
    # As first shown: every report listed.
    assert _names_listed(first, reports) == sorted(report["name"] for report in reports)
    # Shown again after the notebook searched "accounts" and loaded a report: the narrowed list,
    # the search text, the selection and the rows of the report loaded.
    assert loaded.locator("input").first.get_attribute("value") == "accounts"
    narrowed = sorted(r["name"] for r in reports if "accounts" in r["name"])
    assert _names_listed(loaded, reports) == narrowed
    selected = loaded.locator("select option:checked").inner_text()
    assert selected.startswith(LAST_LOADED)
    # Laid out as the live form: the list as wide as its column header, in the page's text
    # colour (not a disabled control's grey), and the note on its own line under it.
    header = loaded.locator("pre.pendo-list-header").bounding_box()
    listing = loaded.locator("select").bounding_box()
    note = loaded.get_by_text("⊘ Path, Funnel").bounding_box()
    assert header and listing and note
    assert abs(header["width"] - listing["width"]) <= 1
    assert note["y"] >= listing["y"] + listing["height"]
    colour = "e => getComputedStyle(e).color"
    search_box = loaded.locator("input").first
    assert loaded.locator("select option").first.evaluate(colour) == search_box.evaluate(colour)

    report_id = next(report["id"] for report in reports if report["name"] == LAST_LOADED)
    expected = _rows_of(demo_sandbox, report_id)
    table = loaded.locator("table")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == list(expected[0])
    shown = table.locator("tbody tr")
    assert shown.count() == min(len(expected), 20)
    first = dict(zip(headers, shown.first.locator("td").all_inner_texts(), strict=True))
    assert first["accountId"] == expected[0]["accountId"]
    save_screenshot(loaded, "static-report-picker")


def test_jupyterlab_shows_the_committed_forms_without_running(
    jupyter_lab, page, demo_sandbox, save_screenshot
):
    reports = _sandbox_reports(demo_sandbox)
    served = jupyter_lab.root_dir / "committed-03-reports-and-widgets.ipynb"
    shutil.copyfile(NOTEBOOK, served)  # a copy: JupyterLab saves into what it opens
    try:
        page.goto(f"{jupyter_lab.url}/lab/tree/{served.name}?token={jupyter_lab.token}")
        # JupyterLab sanitizes an untrusted notebook's HTML (styles and data attributes go), so
        # the views are found by the line each one ends with.
        pickers = page.locator(".jp-OutputArea-output").filter(
            has_text="ReportPicker: a static view of the form"
        )
        pickers.first.wait_for()
        # Once the kernel is up, the widgets' models are still missing (nothing ran): the
        # static view stays.
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000
        )
        assert page.get_by_text("Error displaying widget").count() == 0
        assert pickers.count() >= 2  # shown, then shown again after a report was loaded
        assert _names_listed(pickers.first, reports) == sorted(r["name"] for r in reports)
        assert pickers.last.locator("table tbody tr").count() > 0
        save_screenshot(pickers.first, "static-report-picker-in-lab")
    finally:
        served.unlink(missing_ok=True)
