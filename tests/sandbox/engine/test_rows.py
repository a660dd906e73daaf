"""Row shapes (rows.py): column batches turned into dicts, and writes that copy their path."""

from __future__ import annotations

import pandas as pd

from pendo_nb.sandbox.engine.rows import ColumnBatch, write_path


def _batch() -> ColumnBatch:
    return ColumnBatch(pd.DataFrame({
        "visitorId": pd.Categorical.from_codes([1, 0, 1], categories=["a", "b"]),
        "numEvents": [3, 1, 2],
        "share": [0.5, 1.0, 0.25],
    }))  # fmt: skip


def test_records_hold_plain_python_values():
    rows = _batch().records()
    assert rows == [
        {"visitorId": "b", "numEvents": 3, "share": 0.5},
        {"visitorId": "a", "numEvents": 1, "share": 1.0},
        {"visitorId": "b", "numEvents": 2, "share": 0.25},
    ]
    assert [type(v) for v in rows[0].values()] == [str, int, float]


def test_chunked_records_equal_all_at_once():
    batch = _batch()
    for chunk_rows in (1, 2, 3, 10):
        assert list(batch.iter_records(chunk_rows)) == batch.records()


def test_keep_by_label_decides_per_string():
    seen = []

    def keep(labels):
        seen.extend(labels)
        return labels == "b"

    kept = _batch().keep_by_label("visitorId", keep)
    assert kept.records() == [
        {"visitorId": "b", "numEvents": 3, "share": 0.5},
        {"visitorId": "b", "numEvents": 2, "share": 0.25},
    ]
    assert sorted(seen) == ["a", "b"]  # once per distinct string, not per row
    assert _batch().keep_by_label("numEvents", keep) is None  # not a string column


def test_write_path_copies_the_objects_on_its_way():
    shared = {"auto": {"id": "v1"}, "agent": {"email": "e"}}
    first, second = {"metadata": shared}, {"metadata": shared}
    write_path(first, "metadata.agent.email", "changed")
    assert first["metadata"]["agent"]["email"] == "changed"
    assert second["metadata"]["agent"]["email"] == "e"
    assert first["metadata"]["auto"] is shared["auto"]  # untouched branches stay shared
    write_path(first, "metadata.auto.id.deeper", 1)  # a scalar on the way becomes an object
    assert first["metadata"]["auto"]["id"] == {"deeper": 1}
    assert shared == {"auto": {"id": "v1"}, "agent": {"email": "e"}}
