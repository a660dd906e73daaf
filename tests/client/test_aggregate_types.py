"""Columns renamed or aggregated from typed fields keep their type; CSV aggregation answers.

Expected values come from the sandbox's raw subscription data or from plain ``requests`` calls
converted with pandas, never from pendo_nb's readers.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests

import pendo_nb as pn
from pendo_nb.frames import implied_columns, json_reader, plain_reader


@pytest.fixture
def client(sandbox):
    return pn.connect(sandbox=sandbox, rate_limit=None, cache=False)


def raw_results(sandbox, steps):
    response = requests.post(
        f"{sandbox.url}/api/v1/aggregation",
        json={"response": {"mimeType": "application/json"}, "request": {"pipeline": steps}},
        headers={"x-pendo-integration-key": sandbox.key},
    )
    response.raise_for_status()
    return response.json()["results"]


def utc(ms_values):
    return pd.to_datetime(pd.Series(list(ms_values), dtype="float64"), unit="ms", utc=True)


def plain(values):
    """Values as Python objects, missing ones as None (pandas NA and JSON null alike)."""
    return [None if pd.isna(value) else value for value in values]


# -- which types the steps imply (written out by hand) ------------------------------------------

SCHEMA = {"metadata.custom.signup": "time", "metadata.custom.seats": "integer"}


@pytest.mark.parametrize(
    ("steps", "expected_extra"),
    [
        (
            [{"select": {"s": "metadata.custom.signup", "v": "metadata.auto.lastvisit", "x": "a"}}],
            {"s": "time", "v": "epoch"},
        ),
        ([{"select": {"n": "metadata.custom.seats + 1"}}], {}),
        ([{"eval": {"s": "metadata.custom.signup"}}], {"s": "time"}),
        ([{"select": {"s": "metadata.custom.signup"}}, {"eval": {"s": "s * 2"}}], {}),
        (
            [{"group": {"group": ["visitorId"], "fields": {"last": {"max": "day"}}}}],
            {"last": "bucket"},
        ),
        (
            [
                {"select": {"s": "metadata.custom.signup", "id": "visitorId"}},
                {
                    "group": {
                        "group": ["s"],
                        "fields": [{"first": {"min": "s"}}, {"n": {"count": "id"}}],
                    }
                },
            ],
            {"s": "time", "first": "time"},
        ),
        (
            [{"reduce": {"top": {"max": "metadata.custom.seats"}, "n": {"sum": "x"}}}],
            {"top": "integer"},
        ),
        ([{"select": {"s": "metadata.custom.signup"}}, {"reduce": {"n": {"count": None}}}], {}),
    ],
)
def test_field_types_implied_by(steps, expected_extra):
    steps = [{"source": {"visitors": None}}, *steps]
    assert implied_columns.field_types_implied_by(steps, SCHEMA) == {**SCHEMA, **expected_extra}


def test_epoch_kind_leaves_small_numbers_alone():
    df = plain_reader.rows_to_frame([{"m": 3}, {"m": 11}], field_types={"m": "epoch"})
    assert df["m"].tolist() == [3, 11]


# -- against the sandbox ----------------------------------------------------------------------


def test_renamed_epoch_and_schema_time_fields_are_datetimes_and_dates(client, sandbox):
    df = pn.aggregate(
        [
            {"source": {"visitors": None}},
            {
                "select": {
                    "id": "visitorId",
                    "lastVisit": "metadata.auto.lastvisit",
                    "signup": "metadata.custom.signupdate",
                    "logins": "metadata.custom.logincount",
                }
            },
        ]
    )
    raw = pd.DataFrame(
        {
            "id": vid,
            "lastVisit": visitor["metadata"]["auto"]["lastvisit"],
            "signup": visitor["metadata"]["custom"].get("signupdate"),
            "logins": visitor["metadata"]["custom"].get("logincount"),
        }
        for vid, visitor in sandbox.subscription.visitors.items()
    ).set_index("id")
    df = df.set_index("id").loc[raw.index]
    assert str(df["lastVisit"].dtype) == "datetime64[us, UTC]"
    # Signup dates are UTC midnights: dates, kept zone-less as period buckets are.
    assert str(df["signup"].dtype) == "datetime64[us]"
    assert str(df["logins"].dtype) == "Int64"
    assert plain(df["lastVisit"]) == plain(utc(raw["lastVisit"]))
    assert plain(df["signup"]) == plain(utc(raw["signup"]).dt.tz_localize(None))
    assert raw["signup"].notna().any()


def test_max_of_day_renamed_is_a_day(client, sandbox):
    last_three_days = {"period": "dayRange", "first": "now()", "count": -3}
    fields = {"lastDay": {"max": "day"}, "n": {"sum": "numEvents"}}
    steps = [
        {"source": {"events": None}, "timeSeries": last_three_days},
        {"group": {"group": ["visitorId"], "fields": fields}},
    ]
    df = pn.aggregate(steps).set_index("visitorId").sort_index()
    raw = pd.DataFrame(raw_results(sandbox, steps)).set_index("visitorId").sort_index()
    assert len(df) == len(raw) > 0
    assert str(df["lastDay"].dtype) == "datetime64[us]"  # a bucket: its calendar start
    assert df["lastDay"].tolist() == utc(raw["lastDay"]).dt.tz_localize(None).tolist()
    assert df["n"].tolist() == raw["n"].tolist()


def test_a_csv_envelope_is_read_as_csv(client, sandbox):
    steps = [
        {"source": {"visitors": None}},
        {
            "select": {
                "id": "visitorId",
                "email": "metadata.agent.email",
                "logins": "metadata.custom.logincount",
                "beta": "metadata.custom.betaopt",
                "lastVisit": "metadata.auto.lastvisit",
            }
        },
        {"sort": ["id"]},
        {"limit": 20},
    ]
    df = pn.aggregate({"response": {"mimeType": "text/csv"}, "request": {"pipeline": steps}})
    raw = pd.DataFrame(raw_results(sandbox, steps))
    assert list(df.columns) == ["id", "email", "logins", "beta", "lastVisit"]
    for name in ("id", "email", "logins", "beta"):
        assert plain(df[name]) == plain(raw[name]), name
    assert plain(df["lastVisit"]) == plain(utc(raw["lastVisit"]))
    assert df.attrs["pipeline"]["response"]["mimeType"] == "text/csv"


def test_an_empty_csv_answer_keeps_the_selected_columns(client):
    steps = [
        {"source": {"visitors": None}},
        {"filter": 'visitorId == "nobody-has-this-id"'},
        {"select": {"a": "visitorId", "b": "metadata.agent.email"}},
    ]
    df = pn.aggregate({"response": {"mimeType": "text/csv"}, "request": {"pipeline": steps}})
    assert list(df.columns) == ["a", "b"] and len(df) == 0


# -- empty results of the object sources --------------------------------------------------------

DTYPE_OF_SCHEMA_TYPE = {
    "string": "str",
    "integer": "Int64",
    "float": "Float64",
    "boolean": "boolean",
    "time": "datetime64[us, UTC]",
}


@pytest.mark.parametrize("kind", ["visitor", "account"])
@pytest.mark.parametrize("mime_type", ["application/json", "text/csv"])
def test_an_empty_object_result_has_the_id_and_the_schema_fields(client, sandbox, kind, mime_type):
    steps = [
        {"source": {f"{kind}s": None}},
        {"filter": f'{kind}Id == "nobody-has-this-id"'},
        {"sort": [f"{kind}Id"]},
    ]
    df = pn.aggregate({"response": {"mimeType": mime_type}, "request": {"pipeline": steps}})
    schema = sandbox.subscription.schema[kind]
    expected = {f"{kind}Id": "str"}
    for group, fields in schema.items():
        for name, definition in fields.items():
            expected[f"metadata.{group}.{name}"] = DTYPE_OF_SCHEMA_TYPE.get(definition["Type"])
    assert len(df) == 0
    assert list(df.columns) == list(expected)
    for column, dtype in expected.items():
        if dtype is not None:  # untyped fields: nothing says what they hold
            assert str(df[column].dtype) == dtype, column


def test_an_empty_result_after_a_reshaping_step_has_no_invented_columns(client):
    steps = [
        {"source": {"visitors": None}},
        {"filter": 'visitorId == "nobody-has-this-id"'},
        {"unwind": {"field": "metadata.auto.accountids"}},
    ]
    assert pn.aggregate(steps).shape == (0, 0)


def test_source_columns_are_kept_by_row_keeping_steps_only():
    source = [{"source": {"visitors": None}}]
    kept = [*source, {"filter": "true"}, {"sort": ["a"]}, {"limit": 3}, {"eval": {"c": "1"}}]
    assert implied_columns.columns_implied_by(kept, source_columns=["a", "b"]) == ["a", "b", "c"]
    assert implied_columns.columns_implied_by(source, source_columns=["a"]) == ["a"]
    assert implied_columns.columns_implied_by(source) == []
    reshaped = [*source, {"unwind": {"field": "a"}}]
    assert implied_columns.columns_implied_by(reshaped, source_columns=["a"]) == []


def test_a_time_series_beside_the_source_still_implies_the_group_columns(client):
    two_days = {"period": "dayRange", "first": "now()", "count": -2}
    steps = [
        {"source": {"events": None}, "timeSeries": two_days},
        {"filter": 'visitorId == "nobody-has-this-id"'},
        {"group": {"group": ["visitorId"], "fields": {"n": {"sum": "numEvents"}}}},
    ]
    df = pn.aggregate(steps)
    assert list(df.columns) == ["visitorId", "n"] and len(df) == 0


# -- the server's clock ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"startTime": 1700000000000, "results": [{"startTime": 5}]}', 1700000000000),
        (b'{"results": [{"startTime": 5, "a": 1}], "startTime": 1700000000000}', 1700000000000),
        (b'{"results": [{"a": 1, "startTime": 5}], "startTime": 1700000000000}\n', 1700000000000),
        (b'{"results": [{"startTime": 5}]}', None),
        (b'{"results": [{"a": 1, "startTime": 5}]}', None),
    ],
)
def test_server_time_is_the_envelopes_not_a_rows(body, expected):
    from pendo_nb.pulls.aggregation import _Ends, _start_time

    assert _start_time(body[:128], body[-128:]) == expected
    for size in (1, 7, len(body)):  # a body read as it arrives
        ends = _Ends()
        assert b"".join(ends.watch(body[i : i + size] for i in range(0, len(body), size))) == body
        assert ends.start_time() == expected


# -- both readers flatten an object that is null in some rows alike ----------------------------


@pytest.mark.parametrize("columnar", [True, False])
@pytest.mark.parametrize(
    "body",
    [
        b'{"results": [{"x": 1, "a": null}, {"x": 2, "a": {"b": 7}}]}',
        b'{"results": [{"x": 1, "a": {"b": 7}}, {"x": 2, "a": null}]}',
    ],
)
def test_an_object_null_in_some_rows_is_only_its_childrens_columns(body, columnar):
    df = json_reader.json_to_frame(body, columnar=columnar)
    assert list(df.columns) == ["x", "a.b"]
    assert plain(df["a.b"]) == ([None, 7] if body.index(b"null") < body.index(b"7") else [7, None])


def test_a_field_null_in_every_row_stays_a_column():
    df = json_reader.json_to_frame(b'{"results": [{"x": 1, "a": null}, {"x": 2, "a": null}]}')
    assert list(df.columns) == ["x", "a"] and plain(df["a"]) == [None, None]
