"""What an analyst sees in JupyterLab (issue 16): a short error, an interactive table, a chart."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]


def _connect_cell(sandbox) -> str:
    return (
        "import pandas as pd\nimport pendo_nb as pn\n"
        f"client = pn.connect(key={sandbox.key!r}, base_url={sandbox.url!r}, cache=False)"
    )


def test_a_pendo_error_shows_in_a_few_lines(run_notebook, sandbox, save_screenshot):
    page = run_notebook([_connect_cell(sandbox), 'pn.report("Admins")'])
    error = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    error.first.wait_for()
    text = error.first.inner_text()
    assert text.startswith("NotFoundError: The report in question was not found.")
    assert "is a report's name, not its id" in text and "PENDO_NB_TRACEBACK=full" in text
    assert "client.py" not in text and len(text.strip().splitlines()) == 3
    save_screenshot(error.first, "error_short")


def test_pn_show_pages_sorts_and_filters_every_row(run_notebook, sandbox, save_screenshot):
    page = run_notebook(
        [
            _connect_cell(sandbox),
            "frame = pd.DataFrame({'n': range(1604), 'day': pd.date_range('2026-01-01', "
            "periods=1604, freq='D', tz='UTC')})\npn.show(frame)",
        ]
    )
    table = page.locator("table.dataTable")
    table.wait_for()
    info = page.locator(".dt-info").first
    assert "1,604" in info.inner_text()
    assert page.locator("table.dataTable tbody tr").first.locator("td").nth(1).inner_text() == (
        "2026-01-01"
    )  # a day shows as a date
    page.locator(".dt-paging button", has_text="65").first.wait_for()  # paging to the last page
    page.locator(".dt-search input").first.fill("1603")
    page.wait_for_function(
        "() => document.querySelectorAll('table.dataTable tbody tr').length === 1"
    )
    assert page.locator(".dt-buttons button").count() >= 2  # Copy, CSV
    save_screenshot(page.locator(".jp-OutputArea").last, "interactive_table")


def test_a_chart_is_interactive_vega(run_notebook, sandbox, save_screenshot):
    page = run_notebook(
        [
            _connect_cell(sandbox),
            "from pendo_nb import charts\n"
            "daily = pn.source.events(app_id='*').last(14, 'days')"
            ".group('day', visitors=pn.agg.count('visitorId')).run()\n"
            "charts.over_time(daily, 'day', 'visitors', title='Daily active visitors')",
        ]
    )
    chart = page.locator(".vega-embed")
    chart.wait_for()
    chart.locator("svg, canvas").first.wait_for()
    save_screenshot(chart, "chart_over_time")
