"""The distributions: `python -m build` makes a wheel and an sdist that `twine check` accepts; the
wheel holds the whole package and nothing of the tests; installed (not editable) into a fresh
virtual environment, it connects to the sandbox, reads reports, runs a pipeline, makes a widget.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

import pendo_nb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command, cwd=ROOT, timeout=600, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No isolation: the build backend (setuptools, pinned in constraints.txt) is already in this
    # environment, so the build needs no download and takes a second or two.
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def only(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_twine_accepts_both_distributions(dist):
    run(BIN / "twine", "check", "--strict", only(dist, "*.whl"), only(dist, "*.tar.gz"))


def test_the_metadata_has_one_version_and_an_spdx_license(dist):
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        names = wheel.namelist()
        metadata = email.message_from_bytes(
            wheel.read(next(n for n in names if n.endswith("METADATA")))
        )
    assert metadata["Version"] == pendo_nb.__version__
    assert metadata["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_the_wheel_holds_the_package_and_nothing_else(dist):
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        names = {n for n in wheel.namelist() if ".dist-info/" not in n}
    in_repository = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "pendo_nb").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert names == in_repository  # every module and data file (py.typed), and only those
    assert "pendo_nb/py.typed" in names
    assert not any(n.startswith(("tests/", "notebooks/", "docs/", "benchmarks/")) for n in names)


def test_the_sdist_has_no_tests(dist):
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    assert "pyproject.toml" in names and "LICENSE" in names and "CHANGELOG.md" in names
    assert not any(n.startswith("tests") for n in names)


SMOKE = textwrap.dedent(
    """
    import pathlib, sys
    import pendo_nb as pn
    import pendo_nb.widgets

    assert "site-packages" in pathlib.Path(pn.__file__).as_posix(), pn.__file__
    pn.connect(sandbox=True)
    reports = pn.reports()
    assert len(reports) > 0, reports
    top = pn.source.events(app_id="*").last(7, "days").group(
        "visitorId", events=pn.agg.sum("numEvents")
    ).sort("-events").limit(3).run()
    assert list(top.columns) == ["visitorId", "events"] and len(top) == 3, top
    picker = pendo_nb.widgets.ReportPicker()
    assert picker.reports is not None and len(picker.reports) == len(reports)
    print("smoke ok", pn.__version__, len(reports))
    """
)


def test_the_wheel_installs_in_a_fresh_environment_and_works(dist, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The released dependencies as pinned for the repository (pip's cache makes this quick after
    # the first run); the package itself from the wheel, never editable.
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-c",
        ROOT / "constraints.txt",
        only(dist, "*.whl"),
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PENDO_", "PYTHON"))}
    clean["PENDO_NB_CACHE_DIR"] = str(tmp_path / "cache")
    result = run(python, "-c", SMOKE, cwd=tmp_path, env=clean, timeout=300)
    assert "smoke ok" in result.stdout
