"""Dotted field paths: reading (missing -> None) and writing (intermediate objects created)."""

from __future__ import annotations

import pytest

from pendo_nb.sandbox.engine.paths import get_path, set_path

ROW = {
    "visitorId": "v1",
    "zero": 0,
    "metadata": {"auto": {"id": "v1", "accountids": ["a1", "a2"]}, "custom": {"flag": False}},
    "steps": [{"id": "s0"}, {"id": "s1"}],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("visitorId", "v1"),
        ("zero", 0),
        ("metadata.auto.id", "v1"),
        ("metadata.custom.flag", False),
        ("metadata.auto.accountids", ["a1", "a2"]),
        ("metadata.auto.accountids.1", "a2"),
        ("steps.0.id", "s0"),
        ("steps.-1.id", "s1"),
        ("steps.2.id", None),
        ("steps.x", None),
        ("missing", None),
        ("metadata.missing.deeper", None),
        ("visitorId.length", None),  # a string has no fields
        ("zero.x", None),
    ],
)
def test_get_path(path, expected):
    assert get_path(ROW, path) == expected


def test_get_path_on_a_non_object_is_none():
    assert get_path(None, "a") is None
    assert get_path("text", "a.b") is None


def test_set_path_top_level_and_nested():
    row = {"a": 1}
    set_path(row, "b", 2)
    set_path(row, "c.d.e", 3)
    assert row == {"a": 1, "b": 2, "c": {"d": {"e": 3}}}


def test_set_path_keeps_siblings_and_replaces_scalars_on_the_way():
    row = {"metadata": {"auto": {"id": "v1"}}, "x": 5}
    set_path(row, "metadata.auto.lastvisit", 10)
    set_path(row, "x.y", 6)
    assert row == {"metadata": {"auto": {"id": "v1", "lastvisit": 10}}, "x": {"y": 6}}
