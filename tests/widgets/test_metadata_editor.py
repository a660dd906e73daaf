"""MetadataEditor driven without a browser; writes go to a sandbox of their own.

Old values come from plain GETs of the objects; after Apply, the written values are read back
the same way.
"""

from __future__ import annotations

import html

import pandas as pd
import pytest
import requests
import traitlets

from pendo_nb import connect
from pendo_nb.errors import AuthenticationError, ValidationError, WriteAccessError
from pendo_nb.widgets import MetadataEditor
from pendo_nb.widgets.metadata_editor import parse_csv


def _raw_visitor(server, visitor_id: str) -> dict:
    response = requests.get(
        f"{server.url}/api/v1/visitor/{visitor_id}",
        headers={"x-pendo-integration-key": server.key},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _updates(server, n: int = 3) -> pd.DataFrame:
    ids = server.subscription.visitor_ids[:n]
    return pd.DataFrame(
        {
            "visitorId": [*ids, "nobody-has-this-id"],
            "department": ["Legal", "Research", "Legal", "Sales"][: n + 1],
            "logincount": [1000 + i for i in range(n + 1)],
        }
    )


def test_parse_csv_keeps_ids_as_text_and_types_the_rest():
    frame = parse_csv("visitorId, logincount, department\n007,12,Sales\n008,,Legal\n")
    assert frame["visitorId"].tolist() == ["007", "008"]
    assert frame["logincount"].iloc[0] == 12 and pd.isna(frame["logincount"].iloc[1])
    assert frame["department"].tolist() == ["Sales", "Legal"]
    with pytest.raises(ValidationError, match="paste CSV first"):
        parse_csv("  \n")
    with pytest.raises(ValidationError, match="not CSV"):
        parse_csv('a,b\n1,"unclosed\n')


def test_inputs_come_from_notebook_dataframes_or_pasted_csv(client, sandbox):
    frame = _updates(sandbox)
    editor = MetadataEditor(client=client, namespace={"updates": frame, "n": 3, "_hidden": frame})

    assert [label for label, _ in editor.variable_select.options] == ["updates"]
    assert editor.rows is frame

    editor.source_toggle.value = "csv"
    assert editor.csv_text.layout.display is None and editor.variable_row.layout.display == "none"
    assert editor.rows is None and editor.input_status.value == ""  # nothing pasted yet
    editor.csv_text.value = f"visitorId,department\n{sandbox.subscription.visitor_ids[0]},Legal"
    assert editor.rows["department"].tolist() == ["Legal"]
    editor.csv_text.value = 'a,b\n1,"unclosed\n'
    assert editor.rows is None and "not CSV" in editor.input_status.value

    empty = MetadataEditor(client=client, namespace={})
    assert empty.variable_select.options == (("(no DataFrame variables)", None),)
    assert "no DataFrame chosen" in empty.input_status.value


def test_preview_shows_old_and_new_values_per_field(client, sandbox):
    frame = _updates(sandbox)
    editor = MetadataEditor(client=client, data=frame)
    assert editor.apply_button.disabled

    editor.preview_button.click()

    preview = editor.preview
    assert preview["outcome"].tolist() == ["would-change"] * 3 + ["missing"]
    table = html.unescape(editor.table.value)
    changed = 0
    for visitor_id, new in zip(frame["visitorId"][:3], frame["department"][:3], strict=True):
        old = _raw_visitor(sandbox, visitor_id)["metadata"]["custom"]["department"]
        if old != new:
            changed += 1
            assert (
                f'<span class="pendo-old">{old}</span> → <span class="pendo-new">{new}</span>'
                in table
            )
    assert changed > 0
    assert "3 would-change, 1 missing" in table
    assert not editor.apply_button.disabled


def test_apply_confirms_writes_chunk_by_chunk_and_reports_each_row(fresh_sandbox):
    client = connect(sandbox=fresh_sandbox, cache=False)
    frame = _updates(fresh_sandbox)
    editor = MetadataEditor(client=client, data=frame, chunk_size=3)
    outcomes = []
    editor.on_apply(outcomes.append)
    editor.preview_button.click()

    editor.apply_button.click()
    assert editor.confirm_box.layout.display is None
    assert "Write to 3 visitors" in editor.confirm_text.value
    assert "in 2 request(s)" in editor.confirm_text.value
    assert editor.apply_button.disabled

    editor.confirm_button.click()

    result = editor.result
    assert result["visitorId"].tolist() == frame["visitorId"].tolist()
    assert result["outcome"].tolist() == ["updated"] * 3 + ["missing"]
    assert result["chunk"].tolist() == [0, 0, 0, 1]
    assert (editor.progress.value, editor.progress.max) == (2, 2)
    assert outcomes == [result]
    for visitor_id, department, logins in frame.iloc[:3].itertuples(index=False):
        custom = _raw_visitor(fresh_sandbox, visitor_id)["metadata"]["custom"]
        assert (custom["department"], custom["logincount"]) == (department, logins)
    assert editor.preview is None and editor.apply_button.disabled  # preview again first


def test_cancel_writes_nothing(fresh_sandbox):
    client = connect(sandbox=fresh_sandbox, cache=False)
    frame = _updates(fresh_sandbox, n=1)
    visitor_id = frame["visitorId"].iloc[0]
    before = _raw_visitor(fresh_sandbox, visitor_id)["metadata"]["custom"]
    editor = MetadataEditor(client=client, data=frame)
    editor.preview_button.click()
    editor.apply_button.click()

    editor.cancel_button.click()

    assert editor.confirm_box.layout.display == "none"
    assert "Nothing was written" in editor.status.value
    assert editor.result is None
    assert _raw_visitor(fresh_sandbox, visitor_id)["metadata"]["custom"] == before


def test_a_read_only_key_turns_apply_off_with_the_reason(fresh_sandbox):
    client = connect(key=fresh_sandbox.read_only_key, base_url=fresh_sandbox.url, cache=False)
    frame = _updates(fresh_sandbox, n=2)
    before = _raw_visitor(fresh_sandbox, frame["visitorId"].iloc[0])["metadata"]["custom"]
    editor = MetadataEditor(client=client, data=frame, chunk_size=1)
    editor.preview_button.click()  # reading works with a read-only key
    assert editor.preview is not None

    editor.apply_button.click()
    editor.confirm_button.click()

    assert editor.read_only
    assert isinstance(editor.status.error, WriteAccessError)
    assert editor.apply_button.disabled
    assert "can read but not write" in editor.apply_note.value
    assert "stopped at chunk 1 of 3" in editor.progress_label.value
    assert editor.result is None
    assert _raw_visitor(fresh_sandbox, frame["visitorId"].iloc[0])["metadata"]["custom"] == before
    editor.preview_button.click()
    assert editor.apply_button.disabled  # stays off


def test_a_read_only_key_turns_apply_off_before_anything_is_tried(sandbox):
    client = connect(key=sandbox.read_only_key, base_url=sandbox.url, cache=False)
    editor = MetadataEditor(client=client, data=_updates(sandbox, n=2))

    assert editor.read_only
    assert editor.apply_button.disabled
    assert "can read but not write" in editor.apply_note.value
    assert editor.status.error is None  # a read-only key is not an error: reading works

    editor.preview_button.click()
    assert editor.preview is not None
    assert editor.apply_button.disabled
    assert "can read but not write" in editor.apply_note.value


def test_a_read_write_key_leaves_apply_to_the_preview(client, sandbox):
    editor = MetadataEditor(client=client, data=_updates(sandbox, n=2))
    assert not editor.read_only
    assert editor.apply_button.disabled and "Preview first" in editor.apply_note.value
    editor.preview_button.click()
    assert not editor.apply_button.disabled


def test_a_key_the_server_does_not_know_is_shown_not_taken_for_read_only(sandbox):
    client = connect(key="not-a-key-of-this-sandbox", base_url=sandbox.url, cache=False)
    editor = MetadataEditor(client=client, data=_updates(sandbox, n=1))
    assert not editor.read_only
    assert isinstance(editor.status.error, AuthenticationError)
    assert "not-a-key-of-this-sandbox" not in editor.status.value


def test_changing_kind_or_group_drops_the_preview(client, sandbox):
    editor = MetadataEditor(client=client, data=_updates(sandbox))
    editor.preview_button.click()
    editor.group = "agent"
    assert editor.group_select.value == "agent"
    assert editor.preview is None and editor.apply_button.disabled and editor.table.value == ""
    with pytest.raises(traitlets.TraitError, match="group must be one of custom, agent"):
        editor.group = "salesforce"


def test_an_unknown_field_is_one_readable_line(client, sandbox):
    frame = pd.DataFrame({"visitorId": sandbox.subscription.visitor_ids[:1], "nosuchfield": [1]})
    editor = MetadataEditor(client=client, data=frame)
    editor.preview_button.click()
    assert isinstance(editor.status.error, ValidationError)
    assert "nosuchfield" in editor.status.value
    assert editor.preview is None and editor.apply_button.disabled


def test_editor_state_never_holds_the_key(client, sandbox, widget_state):
    editor = MetadataEditor(client=client, data=_updates(sandbox))
    editor.preview_button.click()
    editor.apply_button.click()
    state = widget_state(editor)
    assert "would-change" in state
    assert sandbox.key not in state


def test_the_text_form_names_kind_group_and_row_count(client, sandbox):
    editor = MetadataEditor(client=client, data=_updates(sandbox))
    assert repr(editor) == "MetadataEditor(kind='visitor', group='custom', rows=4)"


def test_tables_leave_out_columns_that_hold_nothing():
    import pandas as pd

    from pendo_nb.widgets.metadata_editor import without_empty_columns

    frame = pd.DataFrame(
        {
            "visitorId": ["a", "b"],
            "error": pd.Series([None, ""], dtype="string"),
            "chunk": pd.Series([pd.NA, pd.NA], dtype="Int64"),
            "note": ["", "kept"],
        }
    )
    assert list(without_empty_columns(frame).columns) == ["visitorId", "note"]


def test_a_bad_csv_cell_is_named_alone_with_its_line(client, sandbox):
    first, second, third = sandbox.subscription.visitor_ids[:3]
    editor = MetadataEditor(client=client)
    editor.source_toggle.value = "csv"
    # logincount is an integer field: one cell of text turns the column into text.
    editor.csv_text.value = (
        f"visitorId,logincount,betaopt\n{first},12,true\n{second},twelve,false\n{third},7,true"
    )
    assert editor.run_preview() is None
    message = str(editor.status.error)
    assert f"line 3 ('{second}'): logincount='twelve' is not integer" in message
    assert "'12'" not in message and "'7'" not in message and "betaopt" not in message

    editor.csv_text.value = editor.csv_text.value.replace("twelve", "13")
    preview = editor.run_preview()
    assert preview["new.logincount"].tolist() == [12, 13, 7]
    assert preview["new.betaopt"].tolist() == [True, False, True]
