"""Property tests: random builder chains survive ``to_json``/``from_json`` and ``to_code``, and
well-typed random chains run on the sandbox without being refused."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings

import pendo_nb as pn
import pendo_nb.pipeline as pipeline_namespace
from pendo_nb.errors import BadRequestError
from pendo_nb.pipeline import Pipeline

from .strategies import any_pipeline, runnable_pipeline


# any_pipeline uses arbitrary names: its chains read fields their rows lack, on purpose.
@pytest.mark.filterwarnings("ignore::pendo_nb.errors.FieldWarning")
@given(any_pipeline)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_json_round_trip_of_random_chains(p):
    assert Pipeline.from_json(p.to_json()) == p
    assert hash(Pipeline.from_json(p.to_json())) == hash(p)


@pytest.mark.filterwarnings("ignore::pendo_nb.errors.FieldWarning")
@given(any_pipeline)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_code_round_trip_of_random_chains(p):
    assert eval(str(p.to_code()), {"pn": pipeline_namespace}) == p  # our own generated code


@pytest.fixture(scope="module")
def client(sandbox):
    return pn.connect(sandbox=sandbox, cache=False)


@given(p=runnable_pipeline())
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_well_typed_chains_run_on_the_sandbox(sandbox, client, p):
    assert Pipeline.from_json(p.to_json()) == p
    try:
        frame = p.run(client=client)
    except BadRequestError as error:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the sandbox refused {p.to_json()}: {error}")
    # One row per result row of the same body posted with plain requests.
    answer = requests.post(
        f"{sandbox.url}/api/v1/aggregation",
        json=p.to_json(),
        headers={"x-pendo-integration-key": sandbox.key},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert len(frame) == len(answer.json()["results"])
