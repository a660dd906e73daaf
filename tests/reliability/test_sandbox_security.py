"""Security of the sandbox itself: loopback by default, a warning elsewhere, capped bodies, no
path traversal, no evaluation of input as code.

Point 8 of the reliability issue. Binding to another address is only ever attempted through a
stand-in server class that refuses to listen, so the warning path is tested without opening a
port beyond loopback.
"""

from __future__ import annotations

import ast
import http.client
import socket
import warnings
from pathlib import Path

import pytest

import pendo_nb
import pendo_nb.sandbox as sandbox_module
from pendo_nb.sandbox import Sandbox
from pendo_nb.sandbox import __main__ as cli
from pendo_nb.sandbox.server.http_server import MAX_BODY_BYTES

PACKAGE = Path(pendo_nb.__file__).parent


class NotListening(Exception):
    """Raised by the stand-in server instead of binding."""


class StandInServer:
    """Takes the place of SandboxHTTPServer: records the address asked for, never binds."""

    asked: list[tuple] = []

    def __init__(self, address, *args, **kwargs) -> None:
        StandInServer.asked.append(address)
        raise NotListening(address)


@pytest.fixture
def stand_in(monkeypatch):
    StandInServer.asked = []
    monkeypatch.setattr(sandbox_module, "SandboxHTTPServer", StandInServer)
    return StandInServer


@pytest.fixture(scope="module")
def running():
    with Sandbox(size="small") as server:
        yield server


def raw_get(sandbox: Sandbox, path: str, **headers) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalization of dots or escapes)."""
    connection = http.client.HTTPConnection(sandbox.url.removeprefix("http://"), timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in {"x-pendo-integration-key": sandbox.key, **headers}.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


# -- binding -------------------------------------------------------------------------------


def test_loopback_is_the_default_everywhere(running):
    assert Sandbox().host == "127.0.0.1"
    assert cli._parser().parse_args([]).host == "127.0.0.1"
    assert running._server.socket.getsockname()[0] == "127.0.0.1"
    assert running.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "sandbox.example.org"])
def test_other_addresses_warn_before_binding(stand_in, host):
    with pytest.warns(UserWarning, match="reachable from other machines"):
        with pytest.raises(NotListening):
            Sandbox(size="small", host=host).start()
    assert stand_in.asked == [(host, 0)]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_addresses_do_not_warn(stand_in, host):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        with pytest.raises(NotListening):
            Sandbox(size="small", host=host).start()
    assert stand_in.asked == [(host, 0)]


def test_the_command_line_warns_too(stand_in):
    with pytest.warns(UserWarning, match="reachable from other machines"):
        with pytest.raises(NotListening):
            cli.main(["--host", "0.0.0.0", "--port", "0", "--size", "small"])


# -- request bodies --------------------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_unread(running):
    host, port = running.url.removeprefix("http://").split(":")
    head = (
        "POST /api/v1/aggregation HTTP/1.1\r\n"
        f"Host: {host}\r\nx-pendo-integration-key: {running.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())  # and no body: the answer must not wait for it
        answer = b""
        while chunk := sock.recv(65536):  # the server answers, then closes the connection
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert str(MAX_BODY_BYTES).encode() in answer
    assert raw_get(running, "/api/v1/report")[0] == 200


def test_the_cap_is_a_sane_size():
    assert 1024 * 1024 <= MAX_BODY_BYTES <= 64 * 1024 * 1024


# -- path traversal ----------------------------------------------------------------------------

TRAVERSALS = [
    "/api/v1/../../../../etc/passwd",
    "/../../../../etc/passwd",
    "/etc/passwd",
    "//etc/passwd",
    "/api/v1/report/..%2f..%2f..%2f..%2fetc%2fpasswd/results.json",
    "/api/v1/report/%2e%2e/%2e%2e/results.csv",
    "/api/v1/visitor/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/v1/metadata/schema/..%2f..%2f..%2fpyproject.toml",
    "/api/v1/../../pyproject.toml",
    "/api/v1/report/....//....//etc/passwd/results.json",
    "/api/v1/visitor/%00../../etc/passwd",
    "/api/v1/visitor/b64_Li4vLi4vLi4vZXRjL3Bhc3N3ZA",  # b64 of ../../../etc/passwd
    "/pendo_nb/sandbox/server.py",
    "/api/v1/file:///etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_never_reach_the_file_system(running, path):
    status, body = raw_get(running, path, **{"x-pendo-base64-encoded-params": "true"})
    assert 400 <= status < 500
    for secret_ish in (b"root:", b"[project]", b"import ", b"\x7fELF"):
        assert secret_ish not in body


# -- no evaluation of input as code -------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
# The %%pendo cell magic runs the user's own cell in the user's own kernel, as any cell runs:
# that is the user's code, not input from a request or an answer.
ALLOWED = {PACKAGE / "pipeline" / "magic.py"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "subprocess", "dill", "cloudpickle"}


def test_no_module_of_the_package_evaluates_or_unpickles():
    offenders = []
    for source in sorted(set(PACKAGE.rglob("*.py")) - ALLOWED):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in FORBIDDEN_CALLS:
                    offenders.append(f"{source.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]  # fmt: skip
                offenders += [f"{source.name}:{node.lineno} import {n}" for n in names
                              if n.split(".")[0] in FORBIDDEN_MODULES]  # fmt: skip
            if isinstance(node, ast.Attribute) and node.attr in ("system", "popen"):
                if isinstance(node.value, ast.Name) and node.value.id == "os":
                    offenders.append(f"{source.name}:{node.lineno} os.{node.attr}")
    assert offenders == []


def python_payloads(marker: Path) -> list[str]:
    return [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w').write('x')",
        f"exec(\"open('{marker}','w')\")",
        f'eval(\'open("{marker}","w")\')',
        "().__class__.__bases__[0].__subclasses__()",
        "lambda: 1",
        "[x for x in range(10**9)]",
        f"globals()['__builtins__'].open('{marker}', 'w')",
    ]


def aggregation_bodies(payload: str) -> list[list[dict]]:
    return [
        [{"source": {"visitors": None}}, {"filter": payload}],
        [{"source": {"visitors": None}}, {"eval": {"x": payload}}],
        [{"source": {"visitors": None}}, {"select": {"x": payload}}],
        [{"source": {"visitors": None}}, {"sort": [payload]}],
        [{"source": {"visitors": None}}, {"group": {"group": [payload], "fields": {}}}],
        [{"source": {"events": None, "timeSeries": {"period": "dayRange", "first": payload,
                                                     "count": 1}}}],
        [{"source": {payload: None}}],
    ]  # fmt: skip


def test_aggregations_never_run_python(running, tmp_path):
    import requests

    marker = tmp_path / "evaluated"
    statuses = []
    for payload in python_payloads(marker):
        for pipeline in aggregation_bodies(payload):
            body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
            answer = requests.post(
                running.url + "/api/v1/aggregation",
                json=body,
                headers={"x-pendo-integration-key": running.key},
                timeout=10,
            )
            statuses.append(answer.status_code)
            assert 400 <= answer.status_code < 500, (pipeline, answer.text[:200])
    assert not marker.exists()
    assert len(statuses) == len(python_payloads(marker)) * 7
