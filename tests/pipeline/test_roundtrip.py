"""``Pipeline.from_json`` reads every aggregation body of the reference and of Pendo's own samples,
``to_json`` writes it back equal in meaning, and ``to_code`` gives code that rebuilds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pendo_nb.pipeline as pn
from pendo_nb.pipeline import Pipeline

from .normalize import normalize_body

BODIES = sorted((Path(__file__).parent / "bodies").glob("*.json"))


def _load(path: Path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_json_round_trip_keeps_the_meaning(path):
    body = _load(path)
    assert Pipeline.from_json(body).to_json() == normalize_body(body)


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_reading_the_written_json_gives_an_equal_pipeline(path):
    pipeline = Pipeline.from_json(_load(path))
    again = Pipeline.from_json(pipeline.to_json())
    assert again == pipeline
    assert hash(again) == hash(pipeline)


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_to_code_rebuilds_the_pipeline(path):
    pipeline = Pipeline.from_json(_load(path))
    rebuilt = eval(str(pipeline.to_code()), {"pn": pn})  # our own generated code
    assert rebuilt == pipeline


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_json_text_and_request_only_forms_are_read_alike(path):
    body = _load(path)
    pipeline = Pipeline.from_json(body)
    assert Pipeline.from_json(json.dumps(body)) == pipeline
    request = normalize_body(body)["request"]
    assert Pipeline.from_json(request) == pipeline
    assert Pipeline.from_json(request["pipeline"]).steps == pipeline.steps


def test_unknown_but_harmless_envelope_keys_are_dropped():
    body = _load(Path(__file__).parent / "bodies" / "etl_all_pages.json")
    written = Pipeline.from_json(body).to_json()
    assert "channelId" not in written
    assert written["response"] == {"mimeType": "application/json"}
    assert written["request"]["name"] == "" and written["request"]["requestId"] == ""


def test_time_series_beside_the_source_is_written_inside_it():
    body = [
        {
            "source": {"pageEvents": None},
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -1},
        }
    ]
    written = Pipeline.from_json(body).to_json()["request"]["pipeline"]
    assert written == [
        {
            "source": {
                "pageEvents": None,
                "timeSeries": {"period": "dayRange", "first": "now()", "count": -1},
            }
        }
    ]


def test_both_group_field_forms_are_kept_as_written():
    object_form = [{"group": {"group": ["v"], "fields": {"n": {"count": None}}}}]
    list_form = [{"group": {"group": ["v"], "fields": [{"n": {"count": None}}]}}]
    assert Pipeline.from_json(object_form).to_json()["request"]["pipeline"] == object_form
    assert Pipeline.from_json(list_form).to_json()["request"]["pipeline"] == list_form
    assert Pipeline.from_json(object_form) != Pipeline.from_json(list_form)
