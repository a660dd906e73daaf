"""A sandbox in its own process, so its work does not share the benchmark's interpreter."""

from __future__ import annotations

import socket
import subprocess
import sys
import time


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sandbox(size: str, *options: str) -> tuple[subprocess.Popen, str]:
    """Start ``python -m pendo_nb.sandbox --size SIZE OPTIONS...``; return it and its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pendo_nb.sandbox", "--size", size, "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # generating a large subscription takes a while
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"the {size} sandbox did not start within 3 minutes")


def stop_sandbox(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)
