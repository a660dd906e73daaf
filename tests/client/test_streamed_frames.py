"""Aggregation answers read as they arrive: the frames of whole answers, cut bodies, errors."""

from __future__ import annotations

import json

import orjson
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_nb import PendoClient
from pendo_nb.errors import BadRequestError, PendoConnectionError, ServerError
from pendo_nb.frames import columnar_reader, json_reader, streamed_reader
from pendo_nb.http import session
from pendo_nb.pulls.aggregation import aggregation_frame

KEY = "stream-test-key-0123456789"
JSON = {"Content-Type": "application/json"}
PIPELINE = [{"source": {"guides": None}}]  # no metadata schema to fetch
TRICKY = ['a "quoted" }],{ word', "},{", '"},{"', "back\\slash\\", "ünïcödé ✓", "", "\n"]

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.sampled_from(TRICKY)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=6,
)
rows = st.lists(st.dictionaries(st.sampled_from(["x", "y", "l"]), values), max_size=25)


def chunked(content: bytes, size: int):
    return (content[start : start + size] for start in range(0, len(content), size))


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 100 bytes, so small answers are read in many pieces."""
    monkeypatch.setattr(columnar_reader, "PIECE_BYTES", 100)
    monkeypatch.setattr(streamed_reader, "STREAMED_PIECE_BYTES", 100)


@pytest.fixture
def waits(monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(session, "_sleep", recorded.append)
    return recorded


def client_for(server, **options):
    policy = session.RetryPolicy(max_tries=3, backoff=0.25)
    return PendoClient(
        KEY, base_url=server.url, rate_limit=None, retry=policy, **{"cache": False, **options}
    )


def big_answer(count: int = 3000, value=lambda i: i) -> bytes:
    """An answer above COLUMNAR_MIN_BYTES, so pn.aggregate reads it in pieces."""
    results = [{"i": value(i), "s": "x" * 80, "l": ["a", str(i % 7)]} for i in range(count)]
    content = orjson.dumps({"startTime": 1_761_955_200_000, "results": results})
    assert len(content) > json_reader.COLUMNAR_MIN_BYTES
    return content


# -- the reader ------------------------------------------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # the fixture only sets the piece size
@given(
    rows=rows, trap=st.sampled_from(["", "},{", '"},{"']), size=st.sampled_from([1, 5, 64, 9999])
)
def test_an_answer_read_in_chunks_gives_the_whole_answers_frame(small_pieces, rows, trap, size):
    # Strings holding "},{" and lists of objects put cuts inside rows: those pieces fail and are
    # extended. Rows pyarrow cannot type may need the answer again, once pieces are dropped.
    content = orjson.dumps({"startTime": 1, "results": [{**row, "t": trap} for row in rows]})
    whole = json_reader.parse_json(content, columnar=True).to_frame()
    try:
        streamed = streamed_reader.parse_json_chunks(
            chunked(content, size), columnar=True
        ).to_frame()
    except streamed_reader.WholeAnswerNeeded:
        assert columnar_reader.columnar_table(content, "results") is None  # the plain reader's rows
        return
    pd.testing.assert_frame_equal(streamed, whole)


typed_rows = st.lists(
    st.fixed_dictionaries(
        {"s": st.sampled_from(TRICKY) | st.text(max_size=6), "n": st.integers(0, 9)},
        optional={
            "o": st.lists(st.sampled_from(TRICKY), max_size=4),
            "m": st.fixed_dictionaries({"k": st.lists(st.sampled_from(TRICKY), max_size=3)}),
        },
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=typed_rows, size=st.sampled_from([1, 7, 250]))
def test_rows_of_one_type_are_read_in_pieces_whatever_the_cuts(small_pieces, rows, size):
    # Every field keeps one type and no list holds objects: no answer here needs the plain
    # reader, so the pieces (cut in strings holding "},{") must all end up read, and equal the
    # whole.
    content = orjson.dumps({"startTime": 1, "results": rows})
    streamed = streamed_reader.parse_json_chunks(chunked(content, size), columnar=True).to_frame()
    pd.testing.assert_frame_equal(streamed, json_reader.json_to_frame(content, columnar=True))


def test_objects_in_lists_send_the_rows_to_the_plain_reader(small_pieces):
    # Seen in the first piece: every byte is still held, and the plain reader reads them.
    early = orjson.dumps({"startTime": 1, "results": [{"o": [{}, {"a": 1}]}] * 60})
    streamed = streamed_reader.parse_json_chunks(chunked(early, 50), columnar=True).to_frame()
    assert streamed["o"].tolist() == [[{}, {"a": 1}]] * 60
    # Seen after pieces were dropped: the caller asks for the answer again.
    late = orjson.dumps({"results": [{"o": []}] * 60 + [{"o": [{}, {"a": 1}]}] * 60})
    with pytest.raises(streamed_reader.WholeAnswerNeeded):
        streamed_reader.parse_json_chunks(chunked(late, 50), columnar=True)


def test_only_a_few_pieces_are_held_at_a_time(monkeypatch):
    monkeypatch.setattr(streamed_reader, "STREAMED_PIECE_BYTES", 1000)
    held = []
    add = streamed_reader._PieceStream.add
    monkeypatch.setattr(
        streamed_reader._PieceStream,
        "add",
        lambda self, chunk: (add(self, chunk), held.append(len(self.buffer))),
    )
    content = big_answer()
    streamed = streamed_reader.parse_json_chunks(chunked(content, 500)).to_frame()
    pd.testing.assert_frame_equal(streamed, json_reader.json_to_frame(content))
    assert len(held) > 100 and max(held) < 5 * 1000  # about three pieces, never the answer


@pytest.mark.parametrize(
    "document",
    [
        {"results": [{"a": i, "b": [{"c": i}]} for i in range(40)]},  # no startTime
        {"startTime": 1, "note": '"results":[', "results": [{"a": i} for i in range(40)]},
        {"x": {"results": [{"a": 1}]}, "results": [{"a": i} for i in range(40)]},
        {"startTime": 1, "results": []},
        {"startTime": 1, "results": None},
    ],
)
@pytest.mark.parametrize("pretty", [False, True])
def test_answers_of_other_shapes_give_the_whole_answers_frame(small_pieces, document, pretty):
    content = json.dumps(document, indent=1 if pretty else None).encode()
    for size in (1, 13, len(content)):
        streamed = streamed_reader.parse_json_chunks(
            chunked(content, size), columnar=True
        ).to_frame()
        pd.testing.assert_frame_equal(streamed, json_reader.json_to_frame(content, columnar=True))


def test_small_answers_and_columnar_false_use_the_plain_reader():
    content = orjson.dumps({"startTime": 1, "results": [{"v": 1}, {"v": "one"}]})
    for columnar in (None, False):
        parsed = streamed_reader.parse_json_chunks(chunked(content, 3), columnar=columnar)
        assert parsed.to_frame()["v"].tolist() == [1, "one"]


def test_rows_typed_apart_after_a_piece_was_dropped_need_the_whole_answer(small_pieces):
    content = orjson.dumps({"results": [{"v": 1}] * 30 + [{"v": "one"}] * 30})
    with pytest.raises(streamed_reader.WholeAnswerNeeded):
        streamed_reader.parse_json_chunks(chunked(content, 50), columnar=True)


def test_lists_of_text_share_their_strs_and_equal_to_pylist():
    column = pa.chunked_array(
        [
            pa.array([["a", "b"], None, [], ["a", None]]).slice(1),
            pa.array([], pa.list_(pa.string())),
            pa.array([["b"], ["a", "a"]]),
        ]
    )
    lists = columnar_reader._python_lists(column.chunks, column.type).tolist()
    assert lists == column.to_pylist() == [None, [], ["a", None], ["b"], ["a", "a"]]
    assert lists[2][0] is lists[4][0] is lists[4][1]
    numbers = pa.chunked_array([pa.array([[1, 2], None])])
    assert columnar_reader._python_lists(numbers.chunks, numbers.type).tolist() == [[1, 2], None]


# -- over HTTP -------------------------------------------------------------------------------


def test_pn_aggregate_streams_a_live_answer_and_gives_the_whole_answers_frame(
    scripted, monkeypatch
):
    monkeypatch.setattr(streamed_reader, "STREAMED_PIECE_BYTES", 10_000)
    content = big_answer()
    scripted.script = [(200, JSON, content)]
    client = client_for(scripted)
    assert client.streams_answers
    frame = aggregation_frame(client, PIPELINE)
    expected = json_reader.json_to_frame(content)
    pd.testing.assert_frame_equal(frame, expected, check_flags=False)
    assert frame.attrs["server_time"] == pd.Timestamp(1_761_955_200_000, unit="ms", tz="UTC")
    assert frame.attrs["url"].endswith("/api/v1/aggregation") and not frame.attrs["from_cache"]


def test_a_cached_or_recording_client_reads_answers_whole(scripted, tmp_path):
    assert not client_for(scripted, cache=tmp_path / "cache.sqlite").streams_answers
    assert not client_for(scripted, record=tmp_path / "snap.zip").streams_answers
    content = big_answer()
    scripted.script = [(200, JSON, content)]
    frame = aggregation_frame(client_for(scripted, cache=tmp_path / "c2.sqlite"), PIPELINE)
    pd.testing.assert_frame_equal(frame, json_reader.json_to_frame(content), check_flags=False)


def test_a_body_cut_short_is_sent_again_and_read_afresh(scripted, waits, monkeypatch):
    monkeypatch.setattr(streamed_reader, "STREAMED_PIECE_BYTES", 10_000)
    content = big_answer()
    scripted.script = [(200, JSON, content, len(content) // 2), (200, JSON, content)]
    frame = aggregation_frame(client_for(scripted), PIPELINE)
    pd.testing.assert_frame_equal(frame, json_reader.json_to_frame(content), check_flags=False)
    assert len(scripted.received) == 2 and len(waits) == 1


def test_bodies_that_keep_being_cut_become_a_connection_error(scripted, waits):
    content = big_answer()
    scripted.script = [(200, JSON, content, 1000)] * 3
    with pytest.raises(PendoConnectionError, match="no answer"):
        aggregation_frame(client_for(scripted), PIPELINE)
    assert len(scripted.received) == 3 and len(waits) == 2


def test_error_answers_are_read_whole_and_raised_without_the_key(scripted, waits):
    scripted.script = [(400, JSON, b'{"message": "bad pipeline ' + KEY.encode() + b'"}')]
    with pytest.raises(BadRequestError) as caught:
        aggregation_frame(client_for(scripted), PIPELINE)
    assert "bad pipeline" in str(caught.value) and KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    scripted.script = [(500, {}, b"boom 1"), (500, {}, b"boom 2"), (500, {}, b"boom 3")]
    with pytest.raises(ServerError, match="boom 3"):
        aggregation_frame(client_for(scripted), PIPELINE)


def test_rows_that_need_the_whole_answer_are_asked_for_again(scripted, monkeypatch):
    monkeypatch.setattr(streamed_reader, "STREAMED_PIECE_BYTES", 10_000)
    content = big_answer(value=lambda i: i if i < 2000 else f"n{i}")  # ints, then text
    scripted.script = [(200, JSON, content), (200, JSON, content)]
    frame = aggregation_frame(client_for(scripted), PIPELINE)
    pd.testing.assert_frame_equal(frame, json_reader.json_to_frame(content), check_flags=False)
    assert frame["i"].dtype == object and len(scripted.received) == 2
