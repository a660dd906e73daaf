"""ReportPicker driven without a browser: set traits, click buttons, check traits and tables.

Expectations come from the sandbox's raw HTTP answers (plain requests), not from pendo_nb.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
import traitlets

from pendo_nb.errors import AuthenticationError, ConfigurationError
from pendo_nb.widgets import ReportPicker


def _listed_names(picker: ReportPicker) -> list[str]:
    ids = [value for _label, value in picker.report_list.options]
    names = dict(zip(picker.reports["id"], picker.reports["name"], strict=True))
    return [names[i] for i in ids]


def _report_named(raw_get, name: str) -> dict:
    return next(r for r in raw_get("/report") if r["name"] == name)


def test_lists_every_public_report_with_type_kind_and_date(client, raw_get):
    raw = raw_get("/report")
    picker = ReportPicker(client=client)

    assert sorted(_listed_names(picker)) == sorted(r["name"] for r in raw)
    labels = [label for label, _value in picker.report_list.options]
    for report in raw:
        label = next(lb for lb in labels if lb.startswith(report["name"]))
        assert report["definition"]["type"] in label
        assert report["definition"]["kind"] in label
        updated = pd.Timestamp(report["lastUpdatedAt"], unit="ms", tz="UTC").strftime("%Y-%m-%d")
        assert label.endswith(updated)
    assert picker.value is None and picker.load_button.disabled


def test_search_narrows_the_list_as_you_type(client, raw_get):
    raw = raw_get("/report")
    picker = ReportPicker(client=client)

    picker.search.value = "ENTERPRISE"
    assert _listed_names(picker) == ["Enterprise accounts"]
    picker.search.value = "funnel"
    assert _listed_names(picker) == ["Trial to paid funnel"]
    picker.search.value = "account"
    expected = {
        r["name"]
        for r in raw
        if r["definition"]["kind"] == "account" or "account" in r["name"].lower()
    }
    assert set(_listed_names(picker)) == expected
    assert f"{len(expected)} of {len(raw)} reports" in picker.count.value
    picker.search.value = "no report is called this"
    assert picker.report_list.options == ()
    picker.search.value = ""
    assert len(picker.report_list.options) == len(raw)


@pytest.mark.parametrize(
    ("name", "report_type"),
    [("Paths from the Dashboard", "Path"), ("Trial to paid funnel", "Funnel")],
)
def test_path_and_funnel_reports_are_listed_but_cannot_be_loaded(
    client, raw_get, name, report_type
):
    report = _report_named(raw_get, name)
    picker = ReportPicker(client=client)
    label = next(lb for lb, value in picker.report_list.options if value == report["id"])
    assert "⊘" in label

    picker.value = report["id"]
    assert picker.load_button.disabled
    assert f"{report_type} reports cannot be loaded" in picker.status.value
    assert picker.load() is None
    assert picker.result is None


def test_load_json_shows_the_report_and_calls_on_load(client, raw_get):
    report = _report_named(raw_get, "Admins")
    rows = raw_get(f"/report/{report['id']}/results.json")
    picker = ReportPicker(client=client)
    received = []
    picker.on_load(received.append)

    picker.value = report["id"]
    assert picker.report_list.value == report["id"]
    assert not picker.load_button.disabled
    picker.load_button.click()

    assert picker.result["visitorId"].tolist() == [r["visitorId"] for r in rows]
    assert picker.result["email"].tolist() == [r["email"] for r in rows]
    assert received == [picker.result]
    assert f"{len(rows)} rows × 5 columns" in picker.table.value
    # The interactive table (issue 16) holds the rows; the HTML line holds the shape.
    assert picker.table.frame is picker.result
    assert picker.status.value == "" and picker.status.error is None

    picker.on_load(received.append, remove=True)
    picker.load_button.click()
    assert len(received) == 1


def test_load_csv_parses_the_csv_export(client, raw_get):
    report = _report_named(raw_get, "Enterprise accounts")
    text = raw_get(f"/report/{report['id']}/results.csv", text=True)
    expected = list(csv.DictReader(io.StringIO(text)))
    picker = ReportPicker(client=client)

    picker.value = report["id"]
    picker.format = "csv"
    assert picker.format_toggle.value == "csv"
    picker.load_button.click()

    assert picker.result["accountId"].tolist() == [r["accountId"] for r in expected]
    assert picker.result["name"].tolist() == [r["name"] for r in expected]


def test_load_button_is_disabled_and_busy_while_loading(client, raw_get):
    report = _report_named(raw_get, "Admins")
    picker = ReportPicker(client=client)
    picker.value = report["id"]
    seen = []
    picker.load_button.observe(lambda change: seen.append(("disabled", change["new"])), "disabled")
    picker.status.observe(
        lambda change: seen.append(("spinner", "pendo-spinner" in change["new"])), "value"
    )

    picker.load_button.click()

    assert seen[:2] == [("disabled", True), ("spinner", True)]
    assert seen[-1] == ("disabled", False)
    assert not picker.load_button.disabled


def test_value_must_be_a_listed_report(client):
    picker = ReportPicker(client=client)
    with pytest.raises(traitlets.TraitError, match="no public report has the id 'nope'"):
        picker.value = "nope"


def test_setting_value_outside_the_search_clears_the_search(client, raw_get):
    report = _report_named(raw_get, "Admins")
    picker = ReportPicker(client=client)
    picker.search.value = "funnel"
    picker.value = report["id"]
    assert picker.search.value == ""
    assert picker.report_list.value == report["id"]


def test_a_refused_key_is_one_readable_line_with_details(sandbox):
    from pendo_nb import connect

    picker = ReportPicker(client=connect(key="not-a-key", base_url=sandbox.url, cache=False))

    assert isinstance(picker.status.error, AuthenticationError)
    assert "Key refused (403)" in picker.status.value
    assert "<details" in picker.status.value and "/api/v1/report" in picker.status.value
    assert "Traceback" not in picker.status.value
    assert "not-a-key" not in picker.status.value
    assert picker.report_list.options == ()


def test_without_a_connection_the_picker_says_how_to_connect():
    picker = ReportPicker()
    assert isinstance(picker.status.error, ConfigurationError)
    assert "pn.connect" in picker.status.value


def test_widget_state_never_holds_the_key(client, sandbox, raw_get, widget_state):
    picker = ReportPicker(client=client)
    picker.value = _report_named(raw_get, "Admins")["id"]
    picker.load_button.click()
    state = widget_state(picker)
    assert "Admins" in state  # the walk did reach the table
    assert sandbox.key not in state
    assert sandbox.key not in repr(picker)


def test_non_exportable_options_are_greyed_where_they_are_listed(client, raw_get):
    not_exportable = {
        r["id"] for r in raw_get("/report") if r["definition"]["type"] in ("Path", "Funnel")
    }
    picker = ReportPicker(client=client)
    positions = [
        i + 1
        for i, (_label, value) in enumerate(picker.report_list.options)
        if value in not_exportable
    ]
    assert len(positions) == len(not_exportable) == 2
    assert re.findall(r"option:nth-child\((\d+)\)", picker._option_style.value) == [
        str(p) for p in positions
    ]

    picker.search.value = "funnel"
    assert re.findall(r"nth-child\((\d+)\)", picker._option_style.value) == ["1"]
    picker.search.value = "admins"
    assert picker._option_style.value == ""


def test_hundreds_of_reports_stay_searchable(monkeypatch):
    """A subscription with 600 reports (a stand-in for pn.reports; no HTTP in this test)."""
    many = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in range(600)],
            "name": [f"{'Churn' if i % 3 == 0 else 'Usage'} review {i:03d}" for i in range(600)],
            "definition.type": ["Funnel" if i % 100 == 0 else "List" for i in range(600)],
            "definition.kind": ["account" if i % 2 else "visitor" for i in range(600)],
            "lastUpdatedAt": pd.Timestamp("2026-10-01", tz="UTC"),
        }
    )
    monkeypatch.setattr("pendo_nb.widgets.report_picker.api.reports", lambda client=None: many)
    picker = ReportPicker()

    assert len(picker.report_list.options) == 600
    assert "600 reports" in picker.count.value
    picker.search.value = "churn account"
    # Multiples of 3 that are odd: 3, 9, ..., 597.
    assert [value for _label, value in picker.report_list.options] == [
        f"r{i:03d}" for i in range(3, 600, 6)
    ]
    picker.search.value = "churn review 300"
    assert picker.report_list.options[0][0].startswith("Churn review 300")
    picker.value = "r300"  # a Funnel
    assert picker.load_button.disabled and "Funnel reports cannot be loaded" in picker.status.value


def test_the_text_form_names_the_selection(client, raw_get):
    picker = ReportPicker(client=client)
    assert repr(picker) == "ReportPicker(value=None, format='json')"
    picker.value = _report_named(raw_get, "Admins")["id"]
    assert repr(picker) == f"ReportPicker(value={picker.value!r}, format='json')"


def test_a_loaded_report_never_stays_under_another_selection(client, raw_get):
    picker = ReportPicker(client=client)
    picker.value = _report_named(raw_get, "Admins")["id"]
    picker.load_button.click()
    assert picker.result is not None
    picker.format = "csv"  # the table shown was read as JSON
    assert picker.result is None and picker.table.value == ""
    picker.load_button.click()
    assert picker.result is not None
    picker.value = _report_named(raw_get, "Enterprise accounts")["id"]
    assert picker.result is None and picker.table.value == ""
