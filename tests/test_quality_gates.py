"""The quality gates of `make test`: ruff (lint and format), deptry (declared dependencies) and
mypy (the package's types; strict on the whole package, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# What is linted and formatted: the package, its tests, benchmarks and notebooks, the docs config.
SOURCES = ["pendo_nb", "tests", "benchmarks", "notebooks", "docs/conf.py"]


def run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", *SOURCES], ["ruff", "format", "--check", "--diff", *SOURCES]],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(command):
    result = run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def test_dependencies_are_declared_and_used():
    # Configured in pyproject.toml [tool.deptry]: imports of the package, notebooks and benchmarks
    # against [project] dependencies and the runtime extras.
    result = run(str(BIN / "deptry"), ".")
    assert result.returncode == 0, f"deptry:\n{result.stdout}{result.stderr}"


def test_types_check():
    # [tool.mypy] in pyproject.toml: the whole package, strict.
    # About 30 s without its cache (a fresh clone), a few seconds with it.
    result = run(str(BIN / "mypy"), timeout=300)
    assert result.returncode == 0, f"mypy:\n{result.stdout}{result.stderr}"
