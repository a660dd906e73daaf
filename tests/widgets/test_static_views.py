"""Each widget's display bundle carries a kernel-free HTML view of what the form shows now."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from pendo_nb.widgets import (
    AccountLookup,
    AggregationComposer,
    MetadataEditor,
    ReportPicker,
    VisitorLookup,
)

LIVE_VIEW = "application/vnd.jupyter.widget-view+json"


def static_view(widget) -> str:
    bundle = widget._repr_mimebundle_()
    assert LIVE_VIEW in bundle  # a kernel's front end still draws the live widget
    return html.unescape(bundle["text/html"])


@pytest.mark.parametrize(
    "make", [ReportPicker, VisitorLookup, AccountLookup, AggregationComposer, MetadataEditor]
)
def test_every_widget_shows_a_static_view_naming_itself(client, make):
    view = static_view(make(client=client))
    assert f'data-widget="{make.__name__}"' in view
    assert "<script" not in view  # a page without a kernel runs nothing of ours


def test_the_pickers_view_holds_its_list_selection_and_last_table(client, raw_get):
    listed = raw_get("/report")
    picker = ReportPicker(client=client)
    view = static_view(picker)
    for report in listed:
        assert report["name"] in view

    chosen = next(report for report in listed if report["name"] == "Enterprise accounts")
    picker.value = chosen["id"]
    picker.load()
    view = static_view(picker)
    rows = raw_get(f"/report/{chosen['id']}/results.json")
    assert "<option selected>Enterprise" in view.replace("\u00a0", " ")
    assert f"{len(rows)} row" in view  # the shape line (singular for one row)
    assert rows[0]["accountId"] in view


def test_the_pickers_view_keeps_its_columns_and_its_note_under_the_list(client):
    view = static_view(ReportPicker(client=client))
    options = re.findall(r"<option[^>]*>(.*?)</option>", view)
    # An option's text collapses runs of plain spaces, which would break the columns.
    assert options and not any("  " in option for option in options)
    updated = {option.rindex("2026-") for option in options if "2026-" in option}
    assert len(updated) == 1  # every date starts in the same column
    # The note is a line of its own under the list, not text flowing beside it.
    assert re.search(r"</select></div><div><span [^>]*>⊘ Path, Funnel", view)


def test_the_editors_view_holds_the_diff(client, sandbox, raw_get):
    visitor_id = sandbox.subscription.visitor_ids[0]
    old = raw_get(f"/visitor/{visitor_id}")["metadata"]["custom"].get("department")
    new = "Legal" if old != "Legal" else "Research"
    editor = MetadataEditor(
        client=client, data=pd.DataFrame({"visitorId": [visitor_id], "department": [new]})
    )
    editor.preview_button.click()
    view = static_view(editor)
    assert visitor_id in view and new in view
    assert "1 would-change" in view


def test_the_composers_view_holds_its_choices(client):
    composer = AggregationComposer(client=client)
    composer.source_select.value = "featureEvents"
    composer.limit.value = 5
    view = static_view(composer)
    assert 'value="5"' in view
    assert "featureEvents" in view or "feature events" in view.lower()
