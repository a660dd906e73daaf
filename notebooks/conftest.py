"""nbval runs the notebooks in the environment ``_execute.py`` executes them in.

The kernel inherits this process's environment when nbval starts it, so the environment is set
here, once, before any notebook is collected.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest


def _load_execute_script():
    """``_execute.py`` beside this file, whichever pytest import mode is in use."""
    path = Path(__file__).with_name("_execute.py")
    spec = importlib.util.spec_from_file_location("pendo_nb_notebooks_execute", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config: pytest.Config) -> None:
    cache_dir = tempfile.mkdtemp(prefix="pendo-nb-notebooks-")
    patch = pytest.MonkeyPatch()
    wanted = _load_execute_script().kernel_environment(os.environ, cache_dir)
    for name in set(os.environ) - set(wanted):
        patch.delenv(name)
    for name, value in wanted.items():
        patch.setenv(name, value)
    config.add_cleanup(lambda: shutil.rmtree(cache_dir, ignore_errors=True))
    config.add_cleanup(patch.undo)
