"""The ``Sandbox`` object, determinism across servers, the JSON writer, and the command line."""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import pytest
import requests

from pendo_nb.sandbox import DEMO_KEY, DEMO_READ_ONLY_KEY, Sandbox
from pendo_nb.sandbox import __main__ as cli
from pendo_nb.sandbox.server._json import dumps

from .sandbox_helpers import Api, command_line, served_url, stop

# Endpoints whose answers must be byte-identical for identical (seed, size).
DETERMINISTIC_GETS = [
    "/api/v1/report",
    "/api/v1/metadata/schema/visitor",
    "/api/v1/metadata/schema/account",
    "/api/v1/page?expand=*",
    "/api/v1/feature?expand=*",
    "/api/v1/guide?expand=*",
    "/api/v1/tracktype?expand=*",
]
EVENTS_BY_VISITOR = [
    {
        "source": {
            "events": {"appId": 'expandAppIds("*")'},
            "timeSeries": {"period": "dayRange", "first": "now()", "count": -30},
        }
    },
    {"group": {"group": ["visitorId"], "fields": {"numEvents": {"sum": "numEvents"}}}},
    {"sort": ["visitorId"]},
]


def _answers(sandbox: Sandbox) -> list[bytes]:
    """The bodies of many endpoints (each answered 200, with content)."""
    api = Api(sandbox)
    sub = sandbox.subscription
    lists = [r["id"] for r in sub.reports if r["definition"]["type"] == "List"]
    paths = [
        *DETERMINISTIC_GETS,
        f"/api/v1/account/{sub.account_ids[0]}",
        f"/api/v1/visitor/{sub.visitor_ids[0]}",
        *(f"/api/v1/report/{report_id}/results.json" for report_id in lists),
        *(f"/api/v1/report/{report_id}/results.csv" for report_id in lists),
    ]
    responses = [api.get(path) for path in paths]
    responses.append(api.aggregate(EVENTS_BY_VISITOR))
    series = {"period": "dayRange", "first": "now()", "count": -30}
    for source in ("guideEvents", "pollEvents"):
        responses.append(api.aggregate([{"source": {source: None, "timeSeries": series}}]))
    last = max(sub.visitor_ids, key=lambda v: sub.visitors[v]["metadata"]["auto"]["lastvisit"])
    start = sub.now_ms - 86_400_000
    responses.append(api.get(f"/api/v1/visitor/{last}/history", params={"starttime": start}))
    assert all(r.status_code == 200 and len(r.content) > 2 for r in responses)
    return [r.content for r in responses]


def test_two_generations_give_byte_identical_answers():
    # seed 11 is used nowhere else, so each sandbox generates its own subscription afresh.
    with Sandbox(seed=11, size="small") as first:
        first_answers = _answers(first)
    from pendo_nb.sandbox import _pristine

    _pristine.cache_clear()
    with Sandbox(seed=11, size="small") as second:
        assert _answers(second) == first_answers
    with Sandbox(seed=12, size="small") as other:
        assert _answers(other) != first_answers


def test_defaults_and_masked_repr():
    sandbox = Sandbox(size="small")
    assert sandbox.key == DEMO_KEY == "pendo-sandbox-demo-rw"
    assert sandbox.read_only_key == DEMO_READ_ONLY_KEY == "pendo-sandbox-demo-ro"
    assert "not running" in repr(sandbox)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.url
    with sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:") and not sandbox.url.endswith("/")
        assert sandbox.start() is sandbox  # already running: no second server
        text = repr(sandbox)
        assert sandbox.url in text and DEMO_KEY not in text and DEMO_READ_ONLY_KEY not in text
    assert not sandbox.running


def test_custom_keys_clock_and_time_zone():
    with Sandbox(
        size="small",
        key="rw-123",
        read_only_key="ro-456",
        now="2026-06-01T00:00:00Z",
        timezone="Asia/Tokyo",
    ) as sandbox:
        headers = {"x-pendo-integration-key": "rw-123"}
        assert (
            requests.get(
                sandbox.url + "/api/v1/token/verify", headers=headers, timeout=10
            ).status_code
            == 200
        )
        headers = {"x-pendo-integration-key": DEMO_KEY}
        assert (
            requests.get(sandbox.url + "/api/v1/report", headers=headers, timeout=10).status_code
            == 403
        )
        assert sandbox.subscription.now_ms == int(
            datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000
        )
        assert sandbox.subscription.timezone.key == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "non-empty strings"),
        ({"size": "huge"}, "size='huge' is not one of"),
        ({"seed": -3}, "non-negative integer"),
        ({"key": "same", "read_only_key": "same"}, "must differ"),
        ({"port": 70000}, "port must be an integer"),
        ({"now": "soon"}, "not an ISO 8601 time"),
        ({"timezone": "Nowhere/Land"}, "not a known IANA time zone"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Sandbox(**kwargs)


def test_json_writer_prints_integral_floats_as_integers():
    value = {"a": 5.0, "b": [1.5, -2.0, {"c": 1e15}], "d": "5.0", "e": True, "f": None, "g": 1e300}
    assert (
        dumps(value)
        == b'{"a":5,"b":[1.5,-2,{"c":1000000000000000}],"d":"5.0","e":true,"f":null,"g":1e+300}'
    )


def test_json_writer_leaves_its_input_as_it_was():
    rows = [
        {"n": 2, "s": "x", "p": {}, "q": {"f": 3.0, "g": (np.float64(4.0), 4.5)}},
        {"n": 3, "p": {"deep": [1.0]}},
    ]
    before = copy.deepcopy(rows)
    assert dumps(rows) == (
        b'[{"n":2,"s":"x","p":{},"q":{"f":3,"g":[4,4.5]}},{"n":3,"p":{"deep":[1]}}]'
    )
    assert rows == before
    assert type(rows[0]["q"]["f"]) is float


def test_command_line_serves_until_stopped():
    with command_line("--key", "cli-rw", "--read-only-key", "cli-ro") as process:
        url = served_url(process)
        banner = [process.stdout.readline() for _ in range(2)]
        assert "cli-rw" in banner[0] and "cli-ro" in banner[1]
        response = requests.get(
            url + "/api/v1/token/verify", headers={"x-pendo-integration-key": "cli-rw"}, timeout=10
        )
        assert response.status_code == 200
        assert stop(process) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["attached", "sigint-ignored"])
def test_command_line_stops_cleanly_on_sigint_and_sigterm(signum, sigint_ignored):
    # Started as a detached run starts it (SIGINT ignored), it must still stop on Ctrl-C.
    with command_line(sigint_ignored=sigint_ignored) as process:
        url = served_url(process)
        assert stop(process, signum) == 0
        out, err = process.communicate()
        assert "Traceback" not in err
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/api/v1/token/verify", timeout=10)


def test_command_line_wall_clock_ends_the_data_now():
    with command_line("--wall-clock") as process:
        url = served_url(process)
        banner = [process.stdout.readline() for _ in range(3)]
        clock = datetime.fromisoformat(banner[2].split(": ", 1)[1].strip().replace("Z", "+00:00"))
        assert abs(clock.timestamp() - time.time()) < 600
        body = {
            "response": {"mimeType": "application/json"},
            "request": {"pipeline": [{"source": {
                "events": None, "timeSeries": {"period": "dayRange", "first": "now()", "count": -2}
            }}]},
        }  # fmt: skip
        response = requests.post(
            url + "/api/v1/aggregation",
            json=body,
            headers={"x-pendo-integration-key": DEMO_KEY},
            timeout=60,
        )
        rows = response.json()["results"]
        # The last two days before the real today have events: an outside client's window
        # computed from the machine's clock finds data.
        assert rows and max(r["lastTime"] for r in rows) < clock.timestamp() * 1000
        assert stop(process) == 0


def test_command_line_rejects_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "pendo_nb.sandbox", "--port", "0", "--timezone", "Nowhere/Land"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a known IANA time zone" in result.stderr


def test_command_line_run_in_process_leaves_the_signal_handlers_as_they_were():
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    before = [signal.getsignal(signum) for signum in stop_signals]
    assert cli.main(["--port", "0", "--size", "small", "--timezone", "Nowhere/Land"]) == 2
    assert [signal.getsignal(signum) for signum in stop_signals] == before
