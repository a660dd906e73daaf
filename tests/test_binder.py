"""The binder/ folder makes the notebooks launchable on Binder (repo2docker)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_repo2docker_accepts_the_repository():
    done = subprocess.run(
        [_bin("repo2docker"), "--no-build", "--no-run", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dockerfile = done.stdout
    # repo2docker picked our requirements file and our postBuild script.
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "./binder/postBuild" in dockerfile


def test_binder_has_no_environment_yml_shadowing_requirements():
    # With both files present repo2docker silently ignores requirements.txt.
    assert not (BINDER / "environment.yml").exists()
    assert (BINDER / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_binder_requirements_are_what_this_environment_runs(tmp_path):
    """The pins resolve together, to exactly the versions installed here (which produced the
    committed outputs). ``--no-index``: tests never leave loopback, so no package index is asked."""
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-index"]
    command += ["--report", str(report), "-r", str(BINDER / "requirements.txt")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    would_install = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert would_install == []


def test_binder_pins_match_the_project_constraints():
    """Notebook outputs were produced with constraints.txt: Binder must run the same versions."""
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    )
    lowered = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, version = line.split("==")
        assert lowered[name.lower().replace("_", "-")] == version, line


@pytest.mark.parametrize(
    "required", ["pandas", "ipywidgets", "jupyterlab_widgets", "requests-cache"]
)
def test_binder_lists_the_runtime_essentials(required):
    names = [line.split("==")[0] for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert required in names


def binder_url() -> str:
    """The Binder link of the quickstart, made from the one repository setting (pyproject.toml)."""
    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    owner_repo = urlsplit(repository["Repository"]).path.strip("/")
    return f"https://mybinder.org/v2/gh/{owner_repo}/main?labpath=notebooks%2F01-quickstart.ipynb"


def test_the_binder_link_of_the_repository_setting_opens_the_quickstart():
    target = urlsplit(binder_url())
    assert target.netloc == "mybinder.org" and target.path.count("/") == 5  # /v2/gh/owner/repo/ref
    labpath = parse_qs(target.query)["labpath"][0]
    assert labpath == "notebooks/01-quickstart.ipynb"
    assert (ROOT / labpath).is_file()


def test_a_readme_binder_badge_names_the_configured_repository():
    # The repository is not published yet, so the README has no badge (it links only to places
    # that exist); once it is, CONTRIBUTING says to add this one, made from the same setting.
    readme = (ROOT / "README.md").read_text()
    badges = re.findall(r"\(https://mybinder\.org/[^)]*\)", readme)
    assert all(badge == f"({binder_url()})" for badge in badges)
