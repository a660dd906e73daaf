"""Splitting a JSON array between rows without parsing it."""

from __future__ import annotations

import json

import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_nb.frames import columnar_reader, json_reader, json_split

TRICKY = ['a "quoted" }],{ word', "back\\slash\\", '\\"', "ünïcödé ✓", "[{", "", "\\\\", "\n\t"]

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
scalars |= st.sampled_from(TRICKY)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner)
    ),
    max_leaves=8,
)
rows = st.lists(st.dictionaries(st.sampled_from(["x", "y", "[z]", 'q"']), values), max_size=25)


@pytest.fixture
def monkeypatch_rows(monkeypatch):
    """Pieces of 100 bytes, so small answers are read in many pieces."""
    monkeypatch.setattr(columnar_reader, "PIECE_BYTES", 100)


def rows_of(content: bytes, spans) -> list:
    out = []
    for start, end in spans:
        out += json.loads(b"[" + content[start:end] + b"]")
    return out


@settings(max_examples=150, deadline=None)
@given(rows=rows, piece=st.integers(1, 200), pretty=st.booleans())
def test_pieces_hold_every_row_once_in_order(rows, piece, pretty):
    document = {"startTime": 1, "results": rows, "details": {"a": [1, {"b": "],"}]}}
    content = json.dumps(document, indent=1 if pretty else None).encode()
    spans = json_split.row_pieces(content, "results", piece)
    assert spans is not None
    assert rows_of(content, spans) == rows


@settings(max_examples=50, deadline=None)
@given(rows=rows, piece=st.integers(1, 200))
def test_a_top_level_array_splits_too(rows, piece):
    content = orjson.dumps(rows)
    assert rows_of(content, json_split.row_pieces(content, None, piece)) == rows


def test_pieces_are_about_the_size_asked():
    content = orjson.dumps({"results": [{"i": i, "s": "x" * 20} for i in range(1000)]})
    spans = json_split.row_pieces(content, "results", 3000)
    assert len(spans) == len(content) // 3000 + 1 or len(spans) == len(content) // 3000
    assert all(end - start < 3000 + 40 for start, end in spans)


def test_unexpected_layouts_give_none():
    assert json_split.row_pieces(b'{"other": [1, 2]}', "results", 10) is None
    assert json_split.row_pieces(b'{"results": [1, 2', "results", 10) is None
    assert json_split.row_pieces(b'{"x": "results", "y": [1]}', "results", 10) is None
    assert json_split.row_pieces(b'{"a": 1}', None, 10) is None


def test_frames_read_in_pieces_match_the_plain_reader(monkeypatch):
    monkeypatch.setattr(columnar_reader, "PIECE_BYTES", 300)
    data = [
        {"id": f"v{i}", "m": {"n": i, "s": TRICKY[i % len(TRICKY)], "l": [i, i + 1]}}
        if i % 3
        else {"id": f"v{i}", "m": {"f": i / 2, "d": {"deep": True}}}
        for i in range(60)
    ]
    content = orjson.dumps({"startTime": 5, "results": data})
    assert len(json_split.row_pieces(content, "results", 300)) > 5
    columnar = json_reader.json_to_frame(content, columnar=True)
    pd.testing.assert_frame_equal(columnar, json_reader.json_to_frame(content, columnar=False))
    expected = pd.json_normalize(data)  # independent flattening
    assert set(columnar.columns) == set(expected.columns)
    assert columnar["id"].tolist() == expected["id"].tolist()
    assert columnar["m.s"].dropna().tolist() == expected["m.s"].dropna().tolist()
    assert columnar["m.n"].sum() == expected["m.n"].sum()


def test_pieces_that_type_a_field_differently_are_unified(monkeypatch):
    monkeypatch.setattr(columnar_reader, "PIECE_BYTES", 100)
    data = [{"v": None} for _ in range(10)] + [{"v": 3}] * 10 + [{"v": 2.5}] * 10
    content = orjson.dumps({"results": data})
    columnar = json_reader.json_to_frame(content, columnar=True)
    pd.testing.assert_frame_equal(columnar, json_reader.json_to_frame(content, columnar=False))
    assert str(columnar["v"].dtype) == "Float64"
    assert columnar["v"].isna().tolist() == [True] * 10 + [False] * 20
    assert columnar["v"].dropna().tolist() == [3.0] * 10 + [2.5] * 10


def test_pieces_with_conflicting_types_fall_back_to_the_plain_reader(monkeypatch):
    monkeypatch.setattr(columnar_reader, "PIECE_BYTES", 100)
    data = [{"v": 1}] * 10 + [{"v": "one"}] * 10
    df = json_reader.json_to_frame(orjson.dumps({"results": data}), columnar=True)
    assert df["v"].tolist() == [1] * 10 + ["one"] * 10


# Proposed cuts: found with bytes.find, checked by parsing each piece on its own.


def test_a_compact_answer_is_cut_between_rows_without_a_scan():
    rows = [{"i": i, "s": "x" * 20, "l": [i, -i], "m": {"a": i}} for i in range(1000)]
    content = orjson.dumps({"startTime": 1, "results": rows})
    spans = json_split.proposed_pieces(content, "results", 3000)
    assert spans is not None and len(spans) > 5
    assert all(end - start <= 2 * 3000 for start, end in spans)
    assert rows_of(content, spans) == rows  # no object in a list here: "},{" is between rows


def test_proposals_are_refused_where_a_compact_answer_does_not_end_with_its_rows():
    assert json_split.proposed_pieces(b'{"results":[{"a":1}],"x":{}}', "results", 4) is None
    assert json_split.proposed_pieces(b'{"x":{"results":[{"a":1}]}}', "results", 4) is None
    assert json_split.proposed_pieces(b'{"x":"\\"results\\":[{}]"}', "results", 4) is None
    assert json_split.proposed_pieces(b'{"a": 1}', None, 4) is None
    pretty = json.dumps({"results": [{"a": i} for i in range(50)]}, indent=1).encode()
    assert json_split.proposed_pieces(pretty, "results", 40) is None  # no "},{": one long piece


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # the fixture only sets the piece size
@given(
    rows=st.lists(st.dictionaries(st.sampled_from(["x", "y"]), values), max_size=30),
    trap=st.sampled_from(["", '"},{"']),
)
def test_frames_from_proposed_cuts_match_those_of_the_exact_scan(monkeypatch_rows, rows, trap):
    # Strings holding "},{" and nested lists of objects put proposed cuts inside rows; those
    # pieces do not parse and the exact scan cuts again. Either way: the exact scan's frame.
    document = {"startTime": 1, "results": [{**row, "t": trap} for row in rows]}
    content = orjson.dumps(document)
    proposed = json_reader.json_to_frame(content, columnar=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(columnar_reader, "proposed_pieces", lambda *args: None)
        exact = json_reader.json_to_frame(content, columnar=True)
    pd.testing.assert_frame_equal(proposed, exact)


def test_a_member_after_the_rows_is_not_read_as_rows(monkeypatch_rows):
    rows = [{"a": i, "b": [{"c": i}]} for i in range(40)]
    content = orjson.dumps({"results": rows, "more": [{"a": -1, "b": []}]})
    assert json_split.proposed_pieces(content, "results", 100) is not None
    frame = json_reader.json_to_frame(content, columnar=True)
    assert frame["a"].tolist() == list(range(40))


@pytest.mark.parametrize(
    "rows",
    [
        [{"x": [{}]}, {"x": [{"a": None}]}],
        [{"x": [{}, {"a": 1}]}, {"x": []}],
        [{"x": [{"l": [{"b": 1}, {"c": "s"}]}, {"l": []}]}],
        [{"x": [[{"a": 1}], [{}]]}],
    ],
)
def test_objects_in_lists_are_kept_as_written(monkeypatch_rows, rows):
    # pyarrow gives every object of a list the keys of all of them; the plain reader does not.
    content = orjson.dumps({"startTime": 1, "results": rows * 20})
    columnar = json_reader.json_to_frame(content, columnar=True)
    assert columnar.to_dict("records") == json_reader.json_to_frame(content).to_dict("records")
    assert [row["x"] for row in columnar.to_dict("records")[: len(rows)]] == [
        row["x"] for row in rows
    ]
