"""Stitching parts: a column all missing in one part takes the dtype the other parts agree on."""

from __future__ import annotations

import pandas as pd

from pendo_nb.frames.parts import concat_parts, conform_to


def test_all_missing_columns_take_the_agreed_dtype():
    full = pd.DataFrame(
        {"n": pd.array([1, 2], dtype="Int64"), "s": pd.array(["a", "b"], dtype="string")}
    )
    empty_values = pd.DataFrame({"n": [None], "s": [None]}, dtype=object)
    combined = concat_parts([full, empty_values, full])
    assert combined["n"].dtype == "Int64" and combined["s"].dtype == "string"
    assert combined["n"].tolist() == [1, 2, pd.NA, 1, 2]


def test_columns_in_first_seen_order_and_empty_parts_keep_theirs():
    first = pd.DataFrame({"a": [1], "b": [2]})
    second = pd.DataFrame({"c": [3], "a": [4]})
    no_rows = pd.DataFrame({"d": pd.Series([], dtype="Int64")})
    combined = concat_parts([first, no_rows, second])
    assert list(combined.columns) == ["a", "b", "d", "c"]
    assert combined["a"].tolist() == [1, 4] and combined["d"].isna().all()


def test_no_rows_at_all_gives_the_first_part():
    empty = pd.DataFrame({"a": pd.Series([], dtype="Int64")})
    assert concat_parts([empty, empty.copy()]).dtypes.to_dict() == {"a": pd.Int64Dtype()}


def test_conform_to_a_schema():
    meta = pd.DataFrame({"a": pd.Series([], dtype="Int64"), "b": pd.Series([], dtype="string")})
    part = pd.DataFrame({"a": [None, None], "extra": [1, 2]}, dtype=object)
    conformed = conform_to(part, meta)
    assert conformed.dtypes.to_dict() == meta.dtypes.to_dict()
    assert len(conformed) == 2 and conformed.isna().all().all()
