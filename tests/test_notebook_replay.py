"""A tutorial notebook recorded against the sandbox replays under nbval with no key and no server.

The notebook is not edited: ``PENDO_NB_RECORD`` records its own ``pn.connect(sandbox=True)``
session, and ``PENDO_NB_REPLAY`` makes the same line replay the file.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pendo_nb as pn
from pendo_nb.http.snapshot import write_snapshot

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04-product-analytics.ipynb"


def execute_script():
    path = ROOT / "notebooks" / "_execute.py"
    spec = importlib.util.spec_from_file_location("pendo_nb_notebooks_execute", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_under_nbval(snapshot: Path) -> subprocess.CompletedProcess:
    """nbval over the notebook with ``PENDO_NB_REPLAY`` set and no other PENDO_* setting."""
    replay = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PENDO_") or name == "PENDO_NB_CACHE_DIR"
    }
    replay["PENDO_NB_REPLAY"] = str(snapshot)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(NOTEBOOK)],
        cwd=ROOT,
        env=replay,
        capture_output=True,
        text=True,
        check=False,
    )


def test_notebook_04_replays_from_its_snapshot_with_identical_outputs(tmp_path):
    snapshot = tmp_path / "04-product-analytics.pendo"
    script = execute_script()
    environment = script.kernel_environment(os.environ, str(tmp_path / "record-cache"))
    environment["PENDO_NB_RECORD"] = str(snapshot)
    script.execute(NOTEBOOK, environment)  # the kernel (and its sandbox) is gone afterwards
    assert not pn.snapshot_info(snapshot).empty

    result = run_under_nbval(snapshot)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout

    # The answers really come from the file: a snapshot without them fails the same run.
    empty = tmp_path / "empty.pendo"
    write_snapshot(empty, [], created_by="test", pseudonymized=False, summary={}, compressed={})
    result = run_under_nbval(empty)
    assert result.returncode != 0
    assert "NotRecordedError" in result.stdout
