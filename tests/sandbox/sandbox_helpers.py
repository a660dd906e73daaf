"""Helpers for the sandbox tests: an HTTP helper bound to a sandbox, and the raw events as pandas.

Expected values in these tests come from the generator's raw data (the ``EventTable`` arrays and
the metadata dicts) through pandas, never from the engine or the server under test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import requests

from pendo_nb.sandbox.subscription.model import CLICK, PAGE_LOAD, TRACK, Subscription

DAY_MS = 86_400_000


class Api:
    """``requests`` calls to one sandbox, with its read-write key unless told otherwise."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def request(self, method: str, path: str, *, key: str | None = "rw", headers=None, **kwargs):
        all_headers = dict(headers or {})
        if key == "rw":
            all_headers["x-pendo-integration-key"] = self.sandbox.key
        elif key == "ro":
            all_headers["x-pendo-integration-key"] = self.sandbox.read_only_key
        elif key is not None:
            all_headers["x-pendo-integration-key"] = key
        return self.session.request(
            method, self.sandbox.url + path, headers=all_headers, timeout=60, **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def aggregate(self, pipeline: list, **kwargs):
        body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
        return self.post("/api/v1/aggregation", json=body, **kwargs)


# How a shell starts a background job, and what a detached CI step inherits: SIGINT ignored.
SIGINT_IGNORED = ("/bin/sh", "-c", 'trap "" INT QUIT; exec "$0" "$@"')


@contextmanager
def command_line(*arguments: str, sigint_ignored: bool = False) -> Iterator[subprocess.Popen]:
    """``python -m pendo_nb.sandbox --port 0 --size small *arguments``, killed if still running.

    The process ends with the block whatever happens in it: a failed assertion does not leave a
    server running.
    """
    command = [sys.executable, "-m", "pendo_nb.sandbox", "--port", "0", "--size", "small"]
    prefix = SIGINT_IGNORED if sigint_ignored else ()
    process = subprocess.Popen(
        [*prefix, *command, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def stop(process: subprocess.Popen, signum: int = signal.SIGINT) -> int:
    """Send ``signum`` and return the exit status (``TimeoutExpired`` if it does not end)."""
    process.send_signal(signum)
    return process.wait(timeout=20)


def served_url(process: subprocess.Popen) -> str:
    """The base URL from the first line of the command line's banner."""
    url = process.stdout.readline().split(": ", 1)[1].split(" ")[0]
    assert url.startswith("http://127.0.0.1:")
    return url


def raw_events(sub: Subscription) -> pd.DataFrame:
    """One row per raw event, with ids resolved from the lookup lists."""
    e = sub.events
    visitor_ids = np.array(sub.visitor_ids, dtype=object)
    account_ids = np.array([*sub.account_ids, ""], dtype=object)  # index -1 -> ""
    app_ids = np.array([a["id"] for a in sub.apps])
    object_ids = np.full(len(e), None, dtype=object)
    for kind, objects in ((PAGE_LOAD, sub.pages), (CLICK, sub.features), (TRACK, sub.track_types)):
        ids = np.array([o["id"] for o in objects] + [None], dtype=object)  # index -1 -> None
        mask = e.kind == kind
        object_ids[mask] = ids[e.object[mask]]
    return pd.DataFrame(
        {
            "ts": e.ts,
            "visitorId": visitor_ids[e.visitor],
            "accountId": account_ids[e.account],
            "appId": app_ids[e.app],
            "kind": e.kind,
            "objectId": object_ids,
            "remoteIp": np.array(sub.remote_ips, dtype=object)[e.ip],
            "server": np.array(sub.servers, dtype=object)[e.server],
            "userAgent": np.array(sub.user_agents, dtype=object)[e.user_agent],
        }
    )


def utc_day_start(ms: int) -> int:
    return ms - ms % DAY_MS
