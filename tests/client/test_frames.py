"""JSON rows -> DataFrames: flattening, dtypes, times, schema casts, both readers alike."""

from __future__ import annotations

import random

import orjson
import pandas as pd
import pytest

from pendo_nb.frames import casts, csv_reader, implied_columns, json_reader, plain_reader
from pendo_nb.frames.dtypes import TEXT_DTYPE

T0 = 1_761_955_200_000  # 2025-11-01T00:00:00Z


def test_nested_objects_become_dotted_columns_and_lists_stay_lists():
    rows = [
        {
            "visitorId": "a",
            "metadata": {"agent": {"email": "a@x"}, "auto": {"accountids": ["x", "y"]}},
        },
        {"visitorId": "b", "metadata": {"agent": {"email": "b@x", "role": "admin"}}},
    ]
    df = plain_reader.rows_to_frame(rows)
    # role first appears in row 2 but sits with its parent, before metadata.auto
    assert list(df.columns) == [
        "visitorId",
        "metadata.agent.email",
        "metadata.agent.role",
        "metadata.auto.accountids",
    ]
    assert df["metadata.auto.accountids"][0] == ["x", "y"]
    assert df["metadata.auto.accountids"][1] is None
    assert df["metadata.agent.role"].isna().tolist() == [True, False]


def test_nullable_dtypes():
    rows = [
        {"i": 1, "f": 1, "b": True, "s": "x", "m": 1, "n": None},
        {"i": None, "f": 2.5, "b": None, "s": None, "m": "one", "n": None},
    ]
    df = plain_reader.rows_to_frame(rows)
    assert str(df["i"].dtype) == "Int64"
    assert str(df["f"].dtype) == "Float64"
    assert str(df["b"].dtype) == "boolean"
    assert df["s"].dtype == TEXT_DTYPE and str(df["s"].dtype) == "str"  # pandas' default
    assert df["s"].value_counts().dtype == "int64"  # not int64[pyarrow]
    assert df["s"].isna().tolist() == [False, True]
    assert df["m"].dtype == object and df["m"].tolist() == [1, "one"]
    assert df["n"].dtype == object
    assert df["i"].isna().tolist() == [False, True]


def test_epoch_instants_become_tz_aware_and_buckets_calendar_datetimes():
    rows = [{"metadata": {"auto": {"lastvisit": T0}}, "day": T0, "count": T0}]
    df = plain_reader.rows_to_frame(rows)
    assert df["metadata.auto.lastvisit"][0] == pd.Timestamp("2025-11-01T00:00:00Z")
    assert str(df["metadata.auto.lastvisit"].dtype) == "datetime64[us, UTC]"
    assert df["day"][0] == pd.Timestamp("2025-11-01")  # a bucket: its calendar start, no zone
    assert str(df["day"].dtype) == "datetime64[us]"
    assert str(df["count"].dtype) == "Int64"  # not an epoch field name


def test_tz_converts_the_datetimes():
    df = plain_reader.rows_to_frame([{"ts": T0}], tz="Asia/Tokyo")
    assert str(df["ts"].dt.tz) == "Asia/Tokyo"
    assert df["ts"][0].hour == 9


def test_small_numbers_in_epoch_named_fields_stay_numbers():
    df = plain_reader.rows_to_frame([{"month": 3}, {"month": 11}])
    assert df["month"].tolist() == [3, 11]


def test_an_empty_result_keeps_the_implied_columns():
    df = json_reader.json_to_frame(b'{"startTime": 1, "results": []}', columns=["visitorId", "n"])
    assert list(df.columns) == ["visitorId", "n"] and len(df) == 0


def test_null_results_are_an_empty_frame():
    assert json_reader.json_to_frame(b'{"startTime": 1, "results": null}').empty


def test_rows_that_are_not_objects_are_refused():
    with pytest.raises(TypeError, match="row 1"):
        plain_reader.rows_to_frame([{"a": 1}, 5])


def test_implied_columns_come_first_in_request_order():
    df = plain_reader.rows_to_frame([{"b": 1, "a": 2, "z": 3}], columns=["a", "b"])
    assert list(df.columns) == ["a", "b", "z"]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([{"source": {"visitors": None}}, {"select": {"v": "visitorId", "e": "x"}}], ["v", "e"]),
        (
            [
                {"source": {"events": None}},
                {"group": {"group": ["visitorId", "day"], "fields": [{"n": {"sum": "numEvents"}}]}},
                {"sort": ["-n"]},
                {"limit": 5},
            ],
            ["visitorId", "day", "n"],
        ),
        ([{"source": {"visitors": None}}, {"count": None}], ["count"]),
        ([{"source": {"events": None}}, {"reduce": {"total": {"sum": "numEvents"}}}], ["total"]),
        (
            [{"source": {"visitors": None}}, {"select": {"a": "a"}}, {"eval": {"b": "1"}}],
            ["a", "b"],
        ),
        ([{"source": {"visitors": None}}, {"select": {"a": "a"}}, {"unwind": {"field": "a"}}], []),
        ([{"source": {"visitors": None}}], []),
    ],
)
def test_columns_implied_by(steps, expected):
    assert implied_columns.columns_implied_by(steps) == expected


def test_metadata_field_types_from_a_schema():
    schema = {
        "custom": {"plan": {"Type": "string"}, "seats": {"Type": "integer"}, "x": {"Type": ""}},
        "agent": {"signup": {"Type": "time"}},
    }
    assert implied_columns.metadata_field_types(schema) == {
        "metadata.custom.plan": "string",
        "metadata.custom.seats": "integer",
        "metadata.agent.signup": "time",
    }


def test_schema_casts_and_values_that_do_not_fit_are_reported_not_lost():
    rows = [
        {"seats": 3, "plan": "pro", "score": 1, "on": True, "since": T0},
        {
            "seats": "lots",
            "plan": 7,
            "score": "2.5",
            "on": "maybe",
            "since": "2025-11-01T00:00:00Z",
        },
    ]
    types = {
        "seats": "integer",
        "plan": "string",
        "score": "float",
        "on": "boolean",
        "since": "time",
    }
    with pytest.warns(casts.CastWarning, match="seats"):
        df = plain_reader.rows_to_frame(rows, field_types=types)
    assert df["seats"].tolist()[0] == 3 and df["seats"].isna().tolist() == [False, True]
    assert df["plan"].tolist() == ["pro", "7"]
    assert str(df["score"].dtype) == "Float64" and df["score"].tolist() == [1.0, 2.5]
    assert df["on"].tolist()[0] is True and pd.isna(df["on"][1])
    # Both are midnights: a date, kept zone-less as buckets are (issue 27).
    assert df["since"].tolist() == [pd.Timestamp("2025-11-01")] * 2
    assert df.attrs["uncast_values"] == {"seats": {1: "lots"}, "on": {1: "maybe"}}


def test_attrs_carry_provenance():
    df = plain_reader.rows_to_frame([{"a": 1}], attrs={"request_id": "r1", "from_cache": False})
    assert df.attrs["request_id"] == "r1" and df.attrs["from_cache"] is False


def _random_rows(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        row = {
            "visitorId": f"v{i}",
            "metadata": {
                "auto": {
                    "lastvisit": T0 + rnd.randrange(10**9),
                    "accountids": [f"a{rnd.randrange(9)}"],
                },
                "custom": {
                    "seats": rnd.randrange(100),
                    "score": rnd.random(),
                    "paid": rnd.random() < 0.5,
                },
            },
        }
        if rnd.random() < 0.3:
            del row["metadata"]["custom"]["score"]
        if rnd.random() < 0.2:
            row["metadata"]["agent"] = {"email": f"u{i}@x", "tags": []}
        if rnd.random() < 0.1:
            row["metadata"]["custom"]["seats"] = None
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columnar_and_plain_readers_agree(seed):
    content = orjson.dumps({"startTime": T0, "results": _random_rows(300, seed)})
    columnar = json_reader.json_to_frame(content, columnar=True)
    plain = json_reader.json_to_frame(content, columnar=False)
    pd.testing.assert_frame_equal(columnar, plain)
    expected = pd.json_normalize(_random_rows(300, seed))  # independent flattening
    assert set(columnar.columns) == set(expected.columns)
    assert columnar["metadata.custom.seats"].sum() == expected["metadata.custom.seats"].sum()


def test_columnar_reader_falls_back_on_mixed_types():
    rows = [{"x": 1}, {"x": "one"}]
    df = json_reader.json_to_frame(orjson.dumps({"results": rows}), columnar=True)
    assert df["x"].tolist() == [1, "one"]


def test_array_answers_read_with_key_none():
    content = orjson.dumps([{"a": 1}, {"a": 2}])
    for columnar in (True, False):
        assert json_reader.json_to_frame(content, key=None, columnar=columnar)["a"].tolist() == [
            1,
            2,
        ]


def test_csv_gives_the_dtypes_json_gives():
    rows = [
        {"visitorId": "a", "n": 3, "ratio": 0.5, "ok": True, "lastVisit": T0},
        {"visitorId": "b", "n": 4, "ratio": 1, "ok": False, "lastVisit": None},
    ]
    types = {
        "visitorId": "string",
        "n": "number",
        "ratio": "number",
        "ok": "boolean",
        "lastVisit": "time",
    }
    text = f"Visitor,n,ratio,ok,lastVisit\na,3,0.5,true,{T0}\nb,4,1,false,\n"
    from_csv = csv_reader.csv_to_frame(text, field_types=types, titles={"Visitor": "visitorId"})
    from_json = plain_reader.rows_to_frame(rows, field_types=types)
    pd.testing.assert_frame_equal(from_csv, from_json)
    # What both should be, written out: "number" is Int64 when every value is whole.
    assert {c: str(t) for c, t in from_csv.dtypes.items() if c != "lastVisit"} == {
        "visitorId": "str",
        "n": "Int64",
        "ratio": "Float64",
        "ok": "boolean",
    }
    assert str(from_csv["lastVisit"].dtype) == "datetime64[us]"  # T0 is a midnight: a date
    assert from_csv["lastVisit"][0] == pd.Timestamp("2025-11-01")
    assert pd.isna(from_csv["lastVisit"][1])
    assert from_csv["ok"].tolist() == [True, False] and from_csv["ratio"].tolist() == [0.5, 1.0]


def test_objects_that_are_always_empty_leave_no_column():
    content = orjson.dumps({"results": [{"a": 1, "e": {}, "m": {"x": {}}}, {"a": 2, "e": {}}]})
    for columnar in (True, False):
        assert list(json_reader.json_to_frame(content, columnar=columnar).columns) == ["a"]
