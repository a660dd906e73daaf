"""The widgets in a real JupyterLab: type, pick, click, and see the data the sandbox serves.

Expected values come straight from the sandbox's HTTP API (a plain ``requests`` GET), never from
pendo_nb, so the widget, the client and the DataFrame readers are all under test.
"""

from __future__ import annotations

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def _get(sandbox, path: str):
    response = requests.get(
        f"{sandbox.url}/api/v1{path}", headers={"x-pendo-integration-key": sandbox.key}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _connect_cell(sandbox) -> str:
    return (
        "import pendo_nb as pn\n"
        f"client = pn.connect(key={sandbox.key!r}, base_url={sandbox.url!r}, cache=False)"
    )


def _first_row(table) -> dict[str, str]:
    """The first body row of an HTML table, keyed by its column headers."""
    # Interactive tables put a filter box in each header, its placeholder naming the column.
    headers = [
        th.locator("input").get_attribute("placeholder") or th.inner_text()
        for th in table.locator("thead tr").first.locator("th").all()
    ]
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    return dict(zip(headers, cells, strict=True))


def _catalog_names(sandbox) -> dict[str, str]:
    """Every page, feature, track type and guide: id -> name."""
    return {
        item["id"]: item["name"]
        for path in ("/page", "/feature", "/tracktype", "/guide")
        for item in _get(sandbox, f"{path}?expand=*")
    }


def test_report_picker_search_pick_and_load(run_notebook, sandbox, save_screenshot):
    admins = next(r for r in _get(sandbox, "/report") if r["name"] == "Admins")
    expected = _get(sandbox, f"/report/{admins['id']}/results.json")[0]

    page = run_notebook(
        [
            _connect_cell(sandbox),
            "from pendo_nb.widgets import ReportPicker\n"
            "picker = ReportPicker(client=client)\n"
            "picker",
        ]
    )
    picker = page.locator(".pendo-report-picker")
    options = picker.locator("select option")
    options.first.wait_for()
    assert options.count() == len(_get(sandbox, "/report"))

    picker.locator("input[type=text]").press_sequentially("admi")
    page.wait_for_function(
        "() => document.querySelectorAll('.pendo-report-picker select option').length === 1"
    )
    assert options.first.inner_text().startswith("Admins")
    picker.locator("select").select_option(index=0)
    load = picker.locator("button", has_text="Load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pendo-report-picker button')]"
        ".some(b => b.textContent.includes('Load') && !b.disabled)"
    )
    load.click()

    # The result table is interactive (itables, issue 16): DataTables draws it client-side.
    table = picker.locator(".pendo-table-view table.dataTable")
    table.wait_for()
    first = _first_row(table)
    for column in ("visitorId", "email", "name", "accountId"):
        assert first[column] == expected[column]
    assert "row" in picker.locator(".pendo-shape").inner_text()
    save_screenshot(picker, "report_picker")


def test_visitor_lookup_enter_an_id_and_see_the_visitor(run_notebook, sandbox, save_screenshot):
    visitor_id = sandbox.subscription.visitor_ids[0]
    expected = _get(sandbox, f"/visitor/{visitor_id}")

    page = run_notebook(
        [
            _connect_cell(sandbox),
            "from pendo_nb.widgets import VisitorLookup\n"
            "lookup = VisitorLookup(client=client)\n"
            "lookup",
        ]
    )
    lookup = page.locator(".pendo-visitor-lookup")
    id_box = lookup.locator("input[type=text]").first
    id_box.wait_for()
    id_box.fill(visitor_id)
    id_box.press("Enter")

    table = lookup.locator(".pendo-table table").first
    table.wait_for()
    fields = dict(
        zip(
            table.locator("tbody tr td:first-child").all_inner_texts(),
            table.locator("tbody tr td:last-child").all_inner_texts(),
            strict=True,
        )
    )
    assert fields["id"] == expected["id"]
    assert fields["email"] == expected["metadata"]["agent"]["email"]
    assert fields["name"] == expected["metadata"]["agent"]["name"]
    links = lookup.locator(".pendo-account-link")
    assert links.all_inner_texts() == expected["accountIds"]

    lookup.locator("button", has_text="Show activity").click()
    lookup.locator(".pendo-chart").wait_for()
    # The history table names what each item is about, its id last (issue 16).
    history = lookup.locator(".pendo-visitor-details table.dataTable")
    history.wait_for()
    first = _first_row(history)
    assert list(first) == ["ts", "type", "name", "duration", "id"]
    names = _catalog_names(sandbox)
    if first["id"]:
        assert first["name"] == names[first["id"]]
    else:  # an untagged page: its URL
        assert first["type"] == "untagged" and first["name"].startswith("http")
    assert "NaN" not in history.inner_text() and "<NA>" not in history.inner_text()
    save_screenshot(lookup.locator(".pendo-visitor-details"), "visitor_history")
    links.first.click()
    account = lookup.locator(".pendo-account-lookup .pendo-table table")
    account.wait_for()
    assert expected["accountIds"][0] in account.inner_text()
    save_screenshot(lookup, "visitor_lookup")


def test_the_composer_picks_a_feature_by_name_and_names_the_results(
    run_notebook, sandbox, save_screenshot
):
    features = {item["id"]: item["name"] for item in _get(sandbox, "/feature?expand=*")}
    wanted = sorted(features.values(), key=str.casefold)[0]
    page = run_notebook(
        [
            _connect_cell(sandbox),
            "from pendo_nb.widgets import AggregationComposer\n"
            "composer = AggregationComposer(client=client)\n"
            "composer.group_by.value = ['featureId']\n"
            "composer",
        ]
    )
    form = page.locator(".pendo-aggregation-composer")
    form.locator("select").first.select_option("featureEvents")
    picker = form.locator(".pendo-object-select select")
    page.wait_for_function(
        "() => document.querySelectorAll('.pendo-object-select option').length > 1"
    )
    picker.select_option(label=wanted)
    feature_id = next(i for i, name in features.items() if name == wanted)
    form.locator(".pendo-filter input").fill(f'featureId == "{feature_id}"')
    form.locator(".pendo-filter input").press("Enter")
    form.locator(".pendo-filter-names", has_text=wanted).wait_for()
    form.locator("button", has_text="Run").click()

    table = form.locator(".pendo-table-view table.dataTable")
    table.wait_for()
    first = _first_row(table)
    assert list(first) == ["featureId", "featureName", "events"]
    assert (first["featureId"], first["featureName"]) == (feature_id, wanted)
    save_screenshot(form, "composer_names")
