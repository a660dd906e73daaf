"""The fault injector itself (``pendo_nb.sandbox.server.faults``): plans, determinism, targeting,
wire behaviour of each fault, and the command-line flags.
"""

from __future__ import annotations

import signal
import socket

import pytest
import requests

from pendo_nb.sandbox import FaultPlan, Sandbox
from pendo_nb.sandbox import __main__ as cli
from pendo_nb.sandbox.server.faults import FAULT_KINDS, plan_from, request_kind

from ..sandbox.sandbox_helpers import command_line, served_url, stop

# -- plans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"faults": "429,timeout"}, "unknown fault kind"),
        ({"on": "reads"}, "unknown request kind"),
        ({"rate": 1.5}, "from 0 to 1"),
        ({"rate": -0.1}, "from 0 to 1"),
        ({"rate": True}, "from 0 to 1"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"slow_ms": "slow"}, "slow_ms"),
        ({"after": -3}, "after"),
        ({"limit": -1}, "limit"),
        ({"faults": "", "rate": 0.5}, "at least one fault kind"),
    ],
)
def test_a_bad_plan_is_refused_with_what_is_wrong(options, message):
    with pytest.raises(ValueError, match=message):
        FaultPlan(**options)


def test_fault_names_are_normalized():
    assert FaultPlan(faults=" 429, 503 ,429", on="write") == FaultPlan(
        faults=("429", "503"), on=("write",)
    )
    assert FaultPlan().faults == FAULT_KINDS


def test_sandbox_arguments_make_a_plan_only_when_something_is_on():
    assert plan_from(None) is None and Sandbox().faults is None
    assert plan_from(None, rate=0.3) == FaultPlan(rate=0.3)
    assert plan_from("reset", rate=0.3, seed=4) == FaultPlan(faults="reset", rate=0.3, seed=4)
    assert plan_from(None, latency_ms=20) == FaultPlan(latency_ms=20)
    ready = FaultPlan(rate=1.0, on="write")
    assert plan_from(ready) is ready
    with pytest.raises(ValueError, match="fault_rate is 0"):
        plan_from("429")
    with pytest.raises(ValueError, match="not both"):
        plan_from(ready, rate=0.5)
    with pytest.raises(ValueError, match="unknown fault kind"):
        Sandbox(faults="boom", fault_rate=0.1)


@pytest.mark.parametrize(
    ("method", "target", "kind"),
    [
        ("GET", "/api/v1/report", "read"),
        ("HEAD", "/api/v1/visitor/x", "read"),
        ("POST", "/api/v1/aggregation", "aggregation"),
        ("POST", "/api/v1/aggregation?cache=no", "aggregation"),
        ("POST", "/api/v1/metadata/visitor/custom/value?create=true", "write"),
        ("PUT", "/api/v1/metadata/visitor/custom/value/x/plan", "write"),
    ],
)
def test_request_kinds(method, target, kind):
    assert request_kind(method, target) == kind


# -- on a running sandbox ----------------------------------------------------------------------


def statuses(sandbox: Sandbox, count: int) -> list[int | str]:
    session = requests.Session()
    out: list[int | str] = []
    for _ in range(count):
        try:
            answer = session.get(
                sandbox.url + "/api/v1/report",
                headers={"x-pendo-integration-key": sandbox.key},
                timeout=10,
            )
            out.append(answer.status_code)
        except requests.RequestException as exc:
            out.append(type(exc).__name__)
            session = requests.Session()  # start over after a broken connection
    return out


def test_the_same_seed_gives_the_same_faults():
    def run(seed):
        plan = FaultPlan(faults=("429", "503", "reset", "truncate"), rate=0.4, seed=seed)
        with Sandbox(size="small", faults=plan) as sandbox:
            seen = statuses(sandbox, 40)
            return seen, [r.fault for r in sandbox.faults.seen]

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert first != other
    faults = first[1]
    assert 5 <= sum(f is not None for f in faults) <= 28  # about 40% of 40


def test_faults_hit_only_the_request_kinds_asked_for():
    plan = FaultPlan(faults="503", rate=1.0, on="write")
    with Sandbox(size="small", faults=plan) as sandbox:
        assert statuses(sandbox, 5) == [200] * 5
        write = requests.post(
            sandbox.url + "/api/v1/metadata/visitor/custom/value",
            json=[
                {"visitorId": sandbox.subscription.visitor_ids[0], "values": {"department": "x"}}
            ],
            headers={"x-pendo-integration-key": sandbox.key},
            timeout=10,
        )
        assert write.status_code == 503
        assert [r.kind for r in sandbox.faults.seen] == ["read"] * 5 + ["write"]


def test_after_and_limit_place_the_faults():
    with Sandbox(size="small", faults=FaultPlan(faults="503", rate=1.0, after=3, limit=2)) as sb:
        assert statuses(sb, 7) == [200, 200, 200, 503, 503, 200, 200]


def test_use_switches_plans_and_starts_over():
    with Sandbox(size="small", faults=FaultPlan(rate=0.0)) as sandbox:
        statuses(sandbox, 2)
        sandbox.faults.use(FaultPlan(faults="503", rate=1.0, limit=1))
        assert statuses(sandbox, 2) == [503, 200]
        assert [r.number for r in sandbox.faults.seen] == [1, 2]


def test_each_fault_on_the_wire():
    with Sandbox(size="small", faults=FaultPlan(rate=0.0)) as sandbox:
        url, headers = sandbox.url + "/api/v1/report", {"x-pendo-integration-key": sandbox.key}
        full = requests.get(url, headers=headers, timeout=10).content

        sandbox.faults.use(FaultPlan(faults="429", rate=1.0, retry_after=7))
        answer = requests.get(url, headers=headers, timeout=10)
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "7")

        sandbox.faults.use(FaultPlan(faults="503", rate=1.0))
        assert requests.get(url, headers=headers, timeout=10).status_code == 503

        sandbox.faults.use(FaultPlan(faults="reset", rate=1.0))
        with pytest.raises(requests.ConnectionError):
            requests.get(url, headers=headers, timeout=10)

        sandbox.faults.use(FaultPlan(faults="slow", rate=1.0, slow_ms=50))
        assert requests.get(url, headers=headers, timeout=10).content == full

        sandbox.faults.use(FaultPlan(faults="truncate", rate=1.0))
        head, body = raw_exchange(sandbox, "/api/v1/report")
        assert f"Content-Length: {len(full)}".encode() in head
        assert body == full[: len(full) // 2]  # then the server hung up


def raw_exchange(sandbox: Sandbox, path: str) -> tuple[bytes, bytes]:
    """GET ``path`` on a bare socket and read until the server closes: (head, body)."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nx-pendo-integration-key: {sandbox.key}\r\n"
    request += "Connection: close\r\n\r\n"
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


def test_a_truncated_write_was_carried_out():
    vid_body = [{"visitorId": "cut-off-visitor", "values": {"department": "written"}}]
    with Sandbox(size="small", faults=FaultPlan(faults="truncate", rate=1.0, on="write")) as sb:
        with pytest.raises(requests.RequestException):
            requests.post(
                sb.url + "/api/v1/metadata/visitor/custom/value?create=true",
                json=vid_body,
                headers={"x-pendo-integration-key": sb.key},
                timeout=10,
            )
        stored = sb.subscription.visitors["cut-off-visitor"]["metadata"]["custom"]
    assert stored["department"] == "written"


# -- command line ------------------------------------------------------------------------------


def test_the_command_line_refuses_named_faults_without_a_rate(capsys):
    assert cli.main(["--faults", "429", "--port", "0", "--size", "small"]) == 2
    assert "fault_rate" in capsys.readouterr().err


def test_the_command_line_flags_reach_the_server():
    flags = ("--faults", "503", "--fault-rate", "1", "--fault-seed", "3")
    with command_line(*flags) as server:
        answer = requests.get(
            served_url(server) + "/api/v1/report",
            headers={"x-pendo-integration-key": "pendo-sandbox-demo-rw"},
            timeout=10,
        )
        assert answer.status_code == 503
        assert stop(server, signal.SIGTERM) == 0
