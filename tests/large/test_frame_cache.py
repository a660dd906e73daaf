"""Converted windows are kept beside the HTTP cache and live exactly as long as its answers."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import orjson
import pandas as pd
import pyarrow as pa
import pytest

import pendo_nb as pn
from pendo_nb.frames import casts, frame_file, json_reader
from pendo_nb.pulls.frame_cache import FrameCache

FIVE_DAYS = [
    {
        "source": {
            "events": None,
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -5},
        }
    }
]


def frame_files(client) -> list:
    return sorted(FrameCache(client).folder.glob("*.arrow"))


def test_a_rerun_reads_the_converted_windows(client):
    first = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    files = frame_files(client)
    assert len(files) == 5
    assert client.aggregation_cache_key([{"source": {"pages": None}}]) is None  # never sent
    misses = client.cache_info().misses
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert client.cache_info().misses == misses  # nothing asked of the server
    assert again.attrs["windows_cached"] == 5
    pd.testing.assert_frame_equal(again, first)


def test_frames_are_forgotten_with_their_answers(client):
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    client.clear_cache()
    assert len(frame_files(client)) == 5  # still on disk, but no longer served:
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert again.attrs["windows_fetched"] == 5


def test_frames_are_forgotten_after_a_metadata_write(fresh_sandbox, make_client):
    client = make_client(fresh_sandbox.url, fresh_sandbox.key)
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    visitor = pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}], client=client)
    pn.update_values(
        "visitor", [{"visitorId": visitor["visitorId"][0], "department": "x"}], client=client
    )
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert again.attrs["windows_fetched"] == 5


def test_a_damaged_file_is_fetched_again(client):
    first = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    damaged = frame_files(client)[0]
    damaged.write_bytes(b"not an arrow file")
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    pd.testing.assert_frame_equal(again, first)
    assert damaged.exists() and damaged.read_bytes() != b"not an arrow file"  # written anew


def write_as_version_1(path) -> None:
    """Rewrite a frame file as pendo_nb wrote it before frame format 2: text as string[pyarrow]
    (NA for missing), day buckets as UTC datetimes, no version in its metadata."""
    with pa.OSFile(str(path), "rb") as file:
        table = pa.ipc.open_file(file).read_all()
    frame = frame_file.from_table(table)
    old = frame.astype({name: "string" for name, t in frame.dtypes.items() if t == "str"})
    old["day"] = old["day"].dt.tz_localize("UTC")
    expires = frame_file.extra_of(table.schema)["expires"]
    table = frame_file.to_table(old, {"expires": expires})
    metadata = dict(table.schema.metadata)
    stored = orjson.loads(metadata[b"pendo_nb"])
    del stored["version"]
    table = table.replace_schema_metadata({**metadata, b"pendo_nb": orjson.dumps(stored)})
    with pa.OSFile(str(path), "wb") as file, pa.ipc.new_file(file, table.schema) as writer:
        writer.write_table(table)


def test_files_of_an_older_format_are_converted_again(client):
    first = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert str(first["day"].dtype) == "datetime64[us]" and first["visitorId"].dtype == "str"
    for path in frame_files(client):
        write_as_version_1(path)
    misses = client.cache_info().misses
    again = pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert client.cache_info().misses == misses  # the answers came from the HTTP cache
    pd.testing.assert_frame_equal(again, first)  # today's dtypes, not the files' old ones
    for path in frame_files(client):  # and stored anew in today's format
        with pa.OSFile(str(path), "rb") as file:
            frame_file.from_table(pa.ipc.open_file(file).read_all())


def test_no_files_without_a_cache_file(sandbox, make_client):
    client = make_client(sandbox.url, sandbox.key, cache=False)
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    assert FrameCache(client).folder is None


def test_the_key_is_in_no_cache_file(sandbox, make_client, tmp_path):
    import base64

    client = make_client(sandbox.url, sandbox.key, name="hygiene")
    pn.aggregate(FIVE_DAYS, client=client, windows="1D", progress=False)
    pn.aggregate([{"source": {"visitors": None}}], client=client, page_size=80, progress=False)
    key = sandbox.key.encode()
    forms = [key, base64.b64encode(key), base64.urlsafe_b64encode(key)]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "hygiene" in str(p)]
    assert len(files) >= 6  # the SQLite file (and its log) and the five frames
    for path in files:
        content = path.read_bytes()
        assert not [form for form in forms if form in content], path


# -- exact round trips -----------------------------------------------------------------------

ONE_VISITOR = [{"source": {"visitors": None}}, {"limit": 1}]
# Rows giving every dtype pendo_nb.frames produces: Int64, Float64, boolean, str, zoned
# datetimes (an epoch-ms field and a "time" metadata field), a zone-less day bucket, and object
# columns of lists, lists
# of objects, mixed values and nothing at all; a value that misses its schema type lands in
# df.attrs["uncast_values"], keyed by row label.
EVERY_DTYPE_ROWS = [
    {"visitorId": "v1", "n": 1, "x": 1.5, "ok": True, "lastTime": 1_790_000_000_000,
     "day": 1_789_963_200_000,
     "tags": ["a", "b"], "pairs": [{"k": 1, "f": 2.0}], "mixed": 1, "nothing": None,
     "metadata": {"custom": {"when": 1_790_000_000_000, "score": "7", "flag": "true"}}},
    {"visitorId": None, "n": None, "x": 2, "ok": None, "lastTime": None, "day": None, "tags": [],
     "pairs": None, "mixed": "one", "nothing": None,
     "metadata": {"custom": {"when": None, "score": "high", "flag": None}}},
]  # fmt: skip
FIELD_TYPES = {
    "metadata.custom.when": "time",
    "metadata.custom.score": "integer",
    "metadata.custom.flag": "boolean",
}
ATTRS = {
    "request_id": None,
    "url": "http://127.0.0.1:1/api/v1/aggregation",
    "from_cache": False,
    "fetched_at": datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC),
    "server_time": pd.Timestamp(1_793_534_400_000, unit="ms", tz="UTC").tz_convert("Asia/Tokyo"),
    "pipeline": {"request": {"pipeline": ONE_VISITOR}},
    "split_windows": [(pd.Timestamp(0, unit="ms", tz="UTC"), pd.Timestamp(1, unit="ms", tz="UTC"))],
}


def frame_with_every_dtype(columnar: bool) -> pd.DataFrame:
    rows = EVERY_DTYPE_ROWS
    if columnar:  # pyarrow's reader gives up on a mixed field and on objects in lists
        rows = [{k: v for k, v in row.items() if k not in ("mixed", "pairs")} for row in rows]
    content = orjson.dumps({"results": rows})
    parsed = json_reader.parse_json(content, columnar=columnar)
    assert (parsed._table is not None) == columnar  # the reader asked for is the one that ran
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", casts.CastWarning)  # "high" is not an integer
        return json_reader.json_to_frame(content, tz="America/New_York", field_types=FIELD_TYPES,
                                    attrs=ATTRS, columnar=columnar)  # fmt: skip


def exact_form(frame: pd.DataFrame) -> tuple:
    """What must survive the round trip: columns, dtypes (string storage, datetime zone and
    unit), each object cell's repr (a list stays a list, 1 stays 1) and each attr's repr."""
    dtypes = [
        (name, str(dtype), getattr(dtype, "storage", None)) for name, dtype in frame.dtypes.items()
    ]
    cells = {
        name: [repr(v) for v in frame[name]]
        for name in frame.columns
        if frame[name].dtype == object
    }
    attrs = {k: (type(v), repr(v), getattr(v, "unit", None)) for k, v in frame.attrs.items()}
    return dtypes, cells, attrs, type(frame.index), list(frame.index)


@pytest.mark.parametrize("columnar", [False, True])
def test_a_frame_of_every_dtype_comes_back_exactly(client, columnar):
    frame = frame_with_every_dtype(columnar)
    kinds = {str(dtype) for dtype in frame.dtypes}
    assert kinds == {"str", "Int64", "Float64", "boolean", "object",
                     "datetime64[us, America/New_York]", "datetime64[us]"}  # fmt: skip
    assert frame.attrs["uncast_values"] == {"metadata.custom.score": {1: "high"}}
    pn.aggregate(ONE_VISITOR, client=client)  # the answer the stored frame is filed under
    store = FrameCache(client)
    store.put(ONE_VISITOR, frame, expiry=60)
    again = store.get(ONE_VISITOR)
    assert again is not None
    assert again.attrs.pop("from_cache") is True
    frame.attrs.pop("from_cache")
    pd.testing.assert_frame_equal(again, frame, check_exact=True)
    assert exact_form(again) == exact_form(frame)
    assert again.attrs == frame.attrs


def test_an_empty_frame_keeps_its_columns_and_dtypes(client):
    frame = frame_with_every_dtype(columnar=False).iloc[:0]
    pn.aggregate(ONE_VISITOR, client=client)
    store = FrameCache(client)
    store.put(ONE_VISITOR, frame, expiry=60)
    again = store.get(ONE_VISITOR)
    pd.testing.assert_frame_equal(again, frame, check_exact=True)
    assert exact_form(again)[0] == exact_form(frame)[0]


def test_an_expired_file_is_deleted_not_served(client):
    pn.aggregate(ONE_VISITOR, client=client)
    store = FrameCache(client)
    store.put(ONE_VISITOR, frame_with_every_dtype(columnar=False), expiry=-1)
    assert len(frame_files(client)) == 1
    assert store.get(ONE_VISITOR) is None
    assert frame_files(client) == []


@pytest.mark.parametrize(
    "cells",
    [[(1, 2), None], [float("nan"), None], [2**70, None]],
    ids=["tuple", "nan", "big-int"],
)
def test_a_frame_that_would_come_back_changed_is_not_stored(client, cells):
    pn.aggregate(ONE_VISITOR, client=client)
    store = FrameCache(client)
    store.put(ONE_VISITOR, pd.DataFrame({"x": pd.array(cells, dtype=object)}), expiry=60)
    assert store.get(ONE_VISITOR) is None
    assert not store.folder.exists() or frame_files(client) == []
