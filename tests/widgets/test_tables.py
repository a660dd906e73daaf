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
    assert shown["seen"].tolist() == ["2026-11-13 10:22:33", ""]  # missing: blank
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


def test_durations_read_as_hours_minutes_seconds_and_missing_text_is_blank():
    frame = pd.DataFrame(
        {
            "duration": pd.to_timedelta(pd.array([141_681, None, 3_600_000], "Int64"), unit="ms"),
            "name": pd.array(["Home", None, "Settings"], dtype="string"),
        }
    )
    shown = readable(frame)
    assert shown["duration"].tolist() == ["0:02:22", "", "1:00:00"]
    assert shown["name"].tolist() == ["Home", "", "Settings"]
    assert "<NA>" not in json.dumps(rows_sent(pn.show(frame)))


def test_text_and_dates_are_left_aligned_numbers_are_not():
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-10-25 11:39:03"], utc=True),
            "n": [3],
            "name": ["Home"],
            "share": [0.5],
            "flag": [True],
        }
    )
    definitions = pn.show(frame)._dt_args["columnDefs"]  # itables adds its float formats
    assert {"className": "dt-left", "targets": [0, 2, 4]} in definitions


def test_a_shown_table_carries_a_static_view_for_pages_without_a_kernel():
    """GitHub, nbviewer and the documentation site draw no widget: they show the first rows,
    formatted as the live table formats them."""
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime([f"2026-10-{d:02d}" for d in range(1, 26)]),
            "account": [f"acct-{d}" for d in range(25)],
            "arr": [125412.83 + d * 0.97 for d in range(25)],
            "seats": [10] * 25,
        }
    )
    bundle = pn.show(frame, caption="ARR by day")._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data  # the live table, with a kernel
    static = data["text/html"]
    assert static.count("<tr>") == 1 + 20  # the header and the first 20 rows
    assert 'left">2026-10-01</td>' in static  # a date, not a timestamp
    assert 'right">125,412.83</td>' in static  # thousands separators, right-aligned
    assert 'right">125,413.80</td>' in static  # one number of decimals a column
    assert "the first 20 of 25 rows" in static and "ARR by day" in static
