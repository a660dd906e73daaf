"""What an analyst sees in JupyterLab (issue 16): a short error, an interactive table, a chart."""

from __future__ import annotations

import json

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


def _clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def test_the_pipeline_card_shows_server_dates_and_copies_each_view(
    run_notebook, jupyter_lab, sandbox, save_screenshot
):
    page = run_notebook(
        [
            _connect_cell(sandbox),
            "p = pn.source.events(app_id='*').last(7, 'days')"
            ".group('day', n=pn.agg.sum('numEvents'))\np",
        ]
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=jupyter_lab.url)
    card = page.locator(".pendo-nb-pipeline")
    card.wait_for()
    # The sandbox's clock is 2026-11-01 12:00 UTC: the seven whole days before today.
    assert card.locator(".pendo-nb-dates").inner_text() == (
        "dayRange: 2026-10-25 → 2026-11-01 (server clock)"
    )
    copy = card.locator("button.pendo-nb-copy")
    copy.click()
    page.wait_for_function(
        "() => document.querySelector('.pendo-nb-copy').textContent === 'Copied'"
    )
    copied = json.loads(_clipboard(page))
    assert copied["request"]["pipeline"][0]["source"]["timeSeries"] == {
        "period": "dayRange", "first": "now()", "count": -7,
    }  # fmt: skip
    save_screenshot(card, "pipeline_card_json")
    card.locator("button[data-show='python']").click()
    copy.click()
    assert _clipboard(page).startswith("(pn.source.events(app_id='*')")
    card.locator("button[data-show='curl']").click()
    copy.click()
    curl = _clipboard(page)
    assert curl.startswith(f"curl -X POST '{sandbox.url}/api/v1/aggregation'")
    assert sandbox.key not in curl
    save_screenshot(card, "pipeline_card_curl")


def test_the_composer_copies_its_code_and_fits_a_900px_pane(
    run_notebook, jupyter_lab, sandbox, save_screenshot
):
    page = run_notebook(
        [
            _connect_cell(sandbox),
            "from pendo_nb.widgets import AggregationComposer\n"
            "composer = AggregationComposer()\ncomposer.add_aggregator('minutes', 'sum', "
            "'numMinutes')\ncomposer",
        ]
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=jupyter_lab.url)
    form = page.locator(".pendo-aggregation-composer")
    form.wait_for()
    page.locator(".pendo-copy-code button").click()
    assert _clipboard(page).startswith("(pn.source.events(")
    # A notebook pane 900 px wide: the window narrowed by what the pane is wider than that.
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    window_width = page.viewport_size["width"] - (panel.bounding_box()["width"] - 900)
    page.set_viewport_size({"width": int(window_width), "height": 1000})
    page.wait_for_function(
        "() => Math.round(document.querySelector"
        "('.jp-NotebookPanel:not(.lm-mod-hidden)').getBoundingClientRect().width) === 900"
    )
    pane = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").last
    right = pane.bounding_box()["x"] + pane.bounding_box()["width"]
    filter_box = form.locator(".pendo-filter input, .pendo-filter textarea").first
    removes = form.locator(".pendo-remove-aggregator button, button.pendo-remove-aggregator")
    for control in [filter_box, *removes.all()]:
        box = control.bounding_box()
        assert box is not None and box["width"] > 0
        assert box["x"] + box["width"] <= right + 1, "cut off at the pane's right edge"
    save_screenshot(form, "composer_900px", width=int(window_width))
