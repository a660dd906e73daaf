"""``%load_ext pendo_nb`` and the ``%%pendo [name]`` cell magic, in a real IPython shell."""

from __future__ import annotations

import json

import pytest

import pendo_nb as pn
from pendo_nb.errors import PipelineError
from pendo_nb.pipeline.magic import cell_pipeline, parse_magic_line

IPython = pytest.importorskip("IPython")


@pytest.fixture
def shell(sandbox):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell()
    shell.run_line_magic("load_ext", "pendo_nb")
    shell.user_ns["sandbox_client"] = pn.connect(sandbox=sandbox, cache=False)
    yield shell
    shell.clear_instance()


BODY = {"request": {"pipeline": [{"source": {"visitors": None}}, {"select": {"id": "visitorId"}},
                                 {"sort": ["id"]}, {"limit": 3}]}}  # fmt: skip


def test_a_json_cell_runs_and_is_stored(shell, sandbox):
    frame = shell.run_cell_magic("pendo", "first", json.dumps(BODY, indent=2))
    assert shell.user_ns["first"] is frame
    assert frame["id"].tolist() == sorted(sandbox.subscription.visitors)[:3]


def test_a_builder_cell_runs_with_the_named_client(shell, sandbox):
    cell = 'limit = 2\npn.source.visitors().select(id="visitorId").sort("id").limit(limit)'
    shell.run_cell_magic("pendo", "two --client sandbox_client", cell)
    assert shell.user_ns["two"]["id"].tolist() == sorted(sandbox.subscription.visitors)[:2]
    assert shell.user_ns["limit"] == 2  # the cell ran in the notebook's namespace


def test_without_a_name_the_frame_is_only_returned(shell):
    before = set(shell.user_ns)
    frame = shell.run_cell_magic("pendo", "", json.dumps(BODY["request"]["pipeline"]))
    assert len(frame) == 3
    assert set(shell.user_ns) - before <= {"pn"}  # pn is imported for builder cells


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", (None, None)),
        ("df", ("df", None)),
        ("df --client c", ("df", "c")),
        ("--client c", (None, "c")),
    ],
)
def test_magic_line(line, expected):
    assert parse_magic_line(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("df extra", "unexpected argument 'extra'"),
        ("df --client", "--client needs"),
        ("1df", "unexpected argument"),
        ("df 'open", "cannot read the magic line"),
    ],
)
def test_bad_magic_lines(line, message):
    with pytest.raises(PipelineError, match=message):
        parse_magic_line(line)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "the cell is empty"),
        ("x = 1", "must end with an expression"),
        ("41 + 1", "must be a Pipeline or a JSON body, got int"),
        ('[{"skip": 1}]', "'skip' is not supported"),
    ],
)
def test_bad_cells(cell, message):
    with pytest.raises(PipelineError, match=message):
        cell_pipeline(cell, {"pn": pn})


def test_a_python_dict_cell_is_read_as_json():
    cell = "{'request': {'pipeline': [{'source': {'visitors': None}}]}}"
    assert cell_pipeline(cell, {}) == pn.source.visitors()
