"""The server's caps on each run: configurable on ``Sandbox`` and on the command line.

Pendo cuts aggregations at 5 minutes or 4 GB and tells users to split the range (reference 1.6);
the sandbox's caps answer 408 (run time) and 413 (result size), each saying to split the range.
The row counts the caps are compared with come from the subscription's own objects, not from the
engine.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from pendo_nb.sandbox import DEMO_KEY, Limits, Sandbox

from .sandbox_helpers import Api, command_line, served_url, stop

ROW_CAP = 30  # between the 25 accounts and the 200 visitors of the small subscription
VISITORS = [{"source": {"visitors": None}}, {"count": None}]
ACCOUNTS = [{"source": {"accounts": None}}, {"count": None}]


@pytest.fixture(scope="module")
def capped():
    with Sandbox(size="small", limits=Limits(max_rows=ROW_CAP)) as server:
        yield server


def test_the_small_data_straddles_the_cap(capped):
    assert len(capped.subscription.accounts) < ROW_CAP < len(capped.subscription.visitors)


def test_rows_over_the_cap_answer_413_asking_to_split(capped):
    answer = Api(capped).aggregate(VISITORS)
    assert answer.status_code == 413
    assert f"more than {ROW_CAP:,} rows" in answer.text and "split the time range" in answer.text
    assert "pipeline[0].source" in answer.text  # the place where the rows piled up


def test_rows_under_the_cap_are_answered(capped):
    answer = Api(capped).aggregate(ACCOUNTS)
    assert answer.status_code == 200
    assert answer.json()["results"] == [{"count": len(capped.subscription.accounts)}]


def test_reports_run_under_the_same_caps(capped):
    # The "Active users" list starts from 30 days of events: far more grouped rows than the cap.
    report = next(r for r in capped.subscription.reports if r["name"].startswith("Active users"))
    answer = Api(capped).get(f"/api/v1/report/{report['id']}/results.json")
    assert answer.status_code == 413 and "split the time range" in answer.text


def test_run_time_over_the_cap_answers_408():
    with Sandbox(size="small", limits=Limits(max_seconds=0)) as server:
        answer = Api(server).aggregate(ACCOUNTS)
    assert answer.status_code == 408
    assert "longer than 0 seconds" in answer.text and "split the time range" in answer.text


def test_default_caps_are_the_engines():
    assert Sandbox(size="small").limits == Limits()


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"limits": {"max_rows": 5}}, TypeError, "limits must be a pendo_nb.sandbox.Limits"),
        ({"limits": Limits}, TypeError, "limits must be a pendo_nb.sandbox.Limits"),
    ],
)
def test_limits_of_the_wrong_type_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        Sandbox(size="small", **arguments)


@pytest.mark.parametrize(
    ("cap", "value"),
    [("max_seconds", -1), ("max_rows", 1.5), ("max_rows", True), ("max_depth", "8")],
)
def test_bad_cap_values_are_refused_naming_the_cap(cap, value):
    with pytest.raises(ValueError, match=f"Limits.{cap} must be a number >= 0"):
        Limits(**{cap: value})


def test_command_line_caps_reach_the_server():
    with command_line("--max-rows", str(ROW_CAP), "--max-seconds", "60") as process:
        url = served_url(process)

        def status(pipeline: list) -> int:
            body = {"response": {}, "request": {"pipeline": pipeline}}
            headers = {"x-pendo-integration-key": DEMO_KEY}
            return requests.post(
                url + "/api/v1/aggregation", json=body, headers=headers, timeout=60
            ).status_code

        assert (status(VISITORS), status(ACCOUNTS)) == (413, 200)
        assert stop(process) == 0


def test_command_line_refuses_a_negative_cap():
    result = subprocess.run(
        [sys.executable, "-m", "pendo_nb.sandbox", "--port", "0", "--max-seconds", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Limits.max_seconds must be a number >= 0" in result.stderr
