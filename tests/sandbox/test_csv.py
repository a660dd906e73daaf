"""CSV output: the shared writer, and ``POST /aggregation`` with ``mimeType: "text/csv"``.

Expected CSV text is written out by hand; the HTTP comparison on generated data flattens the JSON
answer with pandas' own ``json_normalize`` and reads the CSV with Python's ``csv`` module.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from pendo_nb.sandbox.server._csv import flatten_row, rows_to_csv, to_csv


def test_fields_are_quoted_as_rfc_4180_says():
    rows = [
        {"plain": "a b", "comma": "x,y", "quote": 'say "hi"', "lines": "one\ntwo", "cr": "a\rb"},
    ]
    columns = ["plain", "comma", "quote", "lines", "cr"]
    assert to_csv(columns, rows) == (
        'plain,comma,quote,lines,cr\r\na b,"x,y","say ""hi""","one\ntwo","a\rb"\r\n'
    )


def test_values_print_as_in_json_and_null_or_missing_is_empty():
    rows = [{"n": 5.0, "f": 2.5, "t": True, "l": [1.0, "a,b"], "z": None}]
    assert to_csv(["n", "f", "t", "l", "z", "missing"], rows) == (
        'n,f,t,l,z,missing\r\n5,2.5,true,"[1,""a,b""]",,\r\n'
    )


def test_no_columns_is_empty_text():
    assert to_csv([], []) == ""
    assert rows_to_csv([]) == ""


def test_flatten_spreads_objects_into_dotted_names_keeps_lists_and_drops_empty_objects():
    row = {"id": "v1", "meta": {"agent": {"email": "e"}, "tags": ["a"], "none": {}}, "k": None}
    assert flatten_row(row) == {"id": "v1", "meta.agent.email": "e", "meta.tags": ["a"], "k": None}


def test_header_is_the_union_of_fields_in_order_of_first_sight():
    rows = [{"b": 1, "o": {"x": 1}}, {"a": 2, "b": 3}, {"o": {"y": "q"}, "o2": 4}]
    assert rows_to_csv(rows) == "b,o.x,a,o.y,o2\r\n1,1,,,\r\n3,,2,,\r\n,,,q,4\r\n"


# ------------------------------------------------------------------------------------- HTTP


def csv_body(pipeline: list, mime_type: str = "text/csv") -> dict:
    return {"response": {"mimeType": mime_type}, "request": {"pipeline": pipeline}}


def test_aggregation_answers_csv_when_asked(api):
    rows = [{"id": "a", "m": {"n": 1, "s": "x,y"}}, {"id": "b", "extra": True, "m": {"n": 2.5}}]
    response = api.post("/api/v1/aggregation", json=csv_body([{"source": {"const": rows}}]))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.text == 'id,m.n,m.s,extra\r\na,1,"x,y",\r\nb,2.5,,true\r\n'


def test_csv_and_json_answers_hold_the_same_rows(api, sandbox):
    pipeline = [
        {"source": {"visitors": None}},
        {"sort": ["visitorId"]},
        {"limit": 40},
        {"select": {"visitorId": "visitorId", "agent": "metadata.agent",
                    "account": "metadata.auto.accountid", "custom": "metadata.custom"}},
    ]  # fmt: skip
    as_json = api.post("/api/v1/aggregation", json=csv_body(pipeline, "application/json"))
    as_csv = api.post("/api/v1/aggregation", json=csv_body(pipeline))
    assert as_json.status_code == as_csv.status_code == 200
    json_rows = as_json.json()["results"]
    assert len(json_rows) == min(40, len(sandbox.subscription.visitors))
    # pandas flattens the rows with dotted names (it orders them its own way).
    expected_names = pd.json_normalize(json_rows).columns
    table = list(csv.reader(io.StringIO(as_csv.text, newline="")))
    header, body = table[0], table[1:]
    assert sorted(header) == sorted(expected_names)
    # Order of first sight: the selected fields' order, each object's fields after its name.
    first_seen = list(dict.fromkeys(name.split(".")[0] for name in header))
    assert first_seen == ["visitorId", "agent", "account", "custom"]
    assert len(body) == len(json_rows)
    kinds = set()
    for cells, row in zip(body, json_rows, strict=True):
        flat = pd.json_normalize(row).iloc[0].to_dict()
        for name, cell in zip(header, cells, strict=True):
            value = flat.get(name)
            kinds.add(type(value).__name__)
            if value is None or (isinstance(value, float) and pd.isna(value)):
                assert cell == ""
            elif isinstance(value, bool):
                assert cell == str(value).lower()
            elif isinstance(value, str):
                assert cell == value
            else:
                assert float(cell) == value
    assert {"str", "NoneType"} <= kinds  # missing agent fields of anonymous visitors too


@pytest.mark.parametrize("mime_type", ["text/xml", "application/csv"])
def test_other_formats_are_refused_naming_both_supported(api, mime_type):
    body = csv_body([{"source": {"const": [{"a": 1}]}}], mime_type)
    response = api.post("/api/v1/aggregation", json=body)
    assert response.status_code == 400
    assert response.text == (
        f"response.mimeType: {mime_type!r} is not supported; use application/json or text/csv"
    )
