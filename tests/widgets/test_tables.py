"""Interactive tables: what the widgets' result tables and pn.show hand to the browser."""

from __future__ import annotations

import json

import pandas as pd
from itables.widget import ITable

import pendo_nb as pn
from pendo_nb.tables import TABLE_OPTIONS, format_cell, readable
from pendo_nb.widgets._common import TableView


def rows_sent(table: ITable) -> list:
    return json.loads(table._dt_args["data_json"])


def test_every_row_reaches_the_table_paged_with_search_filters_and_download():
    frame = pd.DataFrame({"n": range(1604)})
    table = pn.show(frame)
    assert isinstance(table, ITable)
    assert len(rows_sent(table)) == 1604  # paging reaches the last row (no 200-row cap)
    assert table._dt_args["pageLength"] == TABLE_OPTIONS["pageLength"]
    assert table._dt_args["buttons"] == ["copyHtml5", "csvHtml5"]
    assert table._dt_args["column_filters"] == "header"


def test_day_buckets_show_as_dates_and_instants_to_the_second():
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-10-25", "2026-10-26"]),  # buckets have no zone
            "seen": pd.to_datetime(["2026-11-13 10:22:33.123", None], utc=True),
            "ids": [["a", "b"], []],
            "events": pd.array([3, None], dtype="Int64"),
        }
    )
    shown = readable(frame)
    assert shown["day"].tolist() == ["2026-10-25", "2026-10-26"]
    assert shown["seen"].iloc[0] == "2026-11-13 10:22:33" and pd.isna(shown["seen"].iloc[1])
    assert shown["ids"].tolist() == ["a, b", ""]
    assert shown["events"].dtype == "Int64"  # numbers still sort as numbers
    assert str(frame["day"].dtype) == "datetime64[us]"  # the frame itself is unchanged


def test_a_cell_shows_a_time_as_its_column_does_without_the_zone():
    day, instant = pd.Timestamp("2026-11-13"), pd.Timestamp("2026-11-13 10:22:33", tz="UTC")
    assert format_cell(day) == format_cell(day.tz_localize("UTC")) == "2026-11-13"
    assert format_cell(instant) == "2026-11-13 10:22:33"
    frame = pd.DataFrame({"day": [day], "seen": [instant]})
    assert readable(frame).iloc[0].tolist() == [format_cell(day), format_cell(instant)]


def test_table_view_swaps_between_interactive_and_custom_html():
    view = TableView()
    frame = pd.DataFrame({"a": [1, 2]})
    view.show(frame, caption="Admins")
    assert view.frame is frame and isinstance(view.children[-1], ITable)
    assert "Admins · 2 rows × 1 column" in view.value
    view.show_html("diff", "<table></table>")
    assert view.frame is None and "<table></table>" in view.value
    view.clear()
    assert view.value == "" and len(view.children) == 1
