"""Names for page, feature, track type and guide ids (pn.object_names, pn.with_names).

Expected names come from the sandbox's catalog endpoints read with plain `requests`.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests

import pendo_nb as pn
from pendo_nb.frames.dtypes import TEXT_DTYPE

# The catalog behind each kind, as the sandbox serves it.
PATHS = {"page": "page", "feature": "feature", "trackType": "tracktype", "guide": "guide"}


@pytest.fixture
def client(sandbox):
    return pn.connect(sandbox=sandbox, cache=False)


def catalog(sandbox, kind: str) -> dict[str, str]:
    response = requests.get(
        f"{sandbox.url}/api/v1/{PATHS[kind]}",
        params={"expand": "*"},
        headers={"x-pendo-integration-key": sandbox.key},
        timeout=10,
    )
    response.raise_for_status()
    return {item["id"]: item["name"] for item in response.json()}


def test_object_names_lists_every_catalog_as_id_kind_name(sandbox, client):
    names = pn.object_names()
    assert list(names.columns) == ["id", "kind", "name"]
    assert all(dtype == TEXT_DTYPE for dtype in names.dtypes)
    assert list(dict.fromkeys(names["kind"])) == ["page", "feature", "trackType", "guide"]
    for kind in PATHS:
        rows = names[names["kind"] == kind]
        assert dict(zip(rows["id"], rows["name"], strict=True)) == catalog(sandbox, kind)


def test_object_names_of_one_kind(sandbox, client):
    features = client.object_names("feature")
    assert set(features["kind"]) == {"feature"}
    assert set(features["id"]) == set(catalog(sandbox, "feature"))


def test_object_names_refuses_an_unknown_kind(client):
    with pytest.raises(pn.ValidationError, match="page, feature, trackType, guide"):
        client.object_names("pages")


def test_get_catalog_takes_the_four_catalog_paths_only(client):
    assert client.get_catalog("tracktype").json_array()
    with pytest.raises(pn.ValidationError, match="page, feature, tracktype, guide"):
        client.get_catalog("visitor")


def test_names_are_fetched_once_per_client_until_refresh_or_clear_cache(client, monkeypatch):
    calls: list[str] = []
    get_catalog = client.get_catalog

    def counting(kind, **kwargs):
        calls.append(kind)
        return get_catalog(kind, **kwargs)

    monkeypatch.setattr(client, "get_catalog", counting)
    client.object_names("page")
    client.object_names("page")
    client.with_names(pd.DataFrame({"pageId": ["x"]}))
    assert calls == ["page"]
    client.object_names("page", refresh=True)
    assert calls == ["page", "page"]
    client.clear_cache()
    client.object_names("page")
    assert calls == ["page", "page", "page"]


def values(column: pd.Series) -> list:
    """The column's values, None where missing (text columns hold NaN there)."""
    return [None if pd.isna(value) else value for value in column]


def test_with_names_puts_a_name_after_each_id_column(sandbox, client):
    pages, features = catalog(sandbox, "page"), catalog(sandbox, "feature")
    tracks, guides = catalog(sandbox, "trackType"), catalog(sandbox, "guide")
    page, feature = next(iter(pages)), next(iter(features))
    track, guide = next(iter(tracks)), next(iter(guides))
    frame = pd.DataFrame(
        {
            "visitorId": ["a", "b"],
            "pageId": pd.array([page, None], dtype=TEXT_DTYPE),
            "featureId": [feature, "no-such-feature"],
            "n": [1, 2],
            "trackTypeId": [track, track],
            "event.guideId": [guide, None],
        }
    )
    frame.attrs["source"] = "test"
    named = pn.with_names(frame)
    assert list(named.columns) == [
        "visitorId", "pageId", "pageName", "featureId", "featureName", "n",
        "trackTypeId", "trackTypeName", "event.guideId", "event.guideName",
    ]  # fmt: skip
    assert values(named["pageName"]) == [pages[page], None]
    assert values(named["featureName"]) == [features[feature], None]  # unknown id: no name
    assert named["trackTypeName"].tolist() == [tracks[track]] * 2
    assert values(named["event.guideName"]) == [guides[guide], None]
    assert named["pageName"].dtype == TEXT_DTYPE
    assert named.attrs == {"source": "test"}
    assert list(frame.columns)[:3] == ["visitorId", "pageId", "featureId"]  # unchanged
    assert pn.with_names(named).equals(named)  # naming twice changes nothing


def test_with_names_leaves_a_frame_without_ids_as_it_is(client):
    frame = pd.DataFrame({"visitorId": ["a"], "n": [1]})
    assert pn.with_names(frame).equals(frame)
    assert pn.with_names(frame.iloc[:0]).columns.tolist() == ["visitorId", "n"]


def test_with_names_on_an_aggregation(client):
    pipeline = pn.source.featureEvents().last(7, "days").group("featureId", n=pn.agg.count())
    named = pn.with_names(pn.aggregate(pipeline))
    assert named.columns.tolist() == ["featureId", "featureName", "n"]
    assert named["featureName"].notna().all()


def test_names_never_show_the_key(sandbox, client):
    names = client.object_names()
    assert sandbox.key not in repr(names) + repr(names.attrs)
