"""The tutorial notebooks as committed: executed, clean, and free of keys and machine details.

nbval (``pytest notebooks/``) re-runs them and compares with these outputs; the tests here check
what nbval cannot see: what the committed files hold, the sanitize file, and the script that
executes them (``make notebooks``, ``make demo``).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from pendo_nb.sandbox import DEMO_KEY, DEMO_READ_ONLY_KEY

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01-quickstart.ipynb",
    "02-aggregation-builder.ipynb",
    "03-reports-and-widgets.ipynb",
    "04-product-analytics.ipynb",
    "05-updating-metadata.ipynb",
    "06-sharing-notebooks.ipynb",
    "07-offline-exploration.ipynb",
]


def _load_execute_script():
    spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOKS / "_execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute_script = _load_execute_script()


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _output_texts(notebook: nbformat.NotebookNode) -> list[str]:
    """Every text an output holds: streams, errors, and each text-like mime type."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts.append(output.text)
            elif output.output_type == "error":
                texts.append("\n".join([output.ename, output.evalue, *output.traceback]))
            else:
                texts += [
                    value if isinstance(value, str) else str(value)
                    for mime, value in output.data.items()
                    if not mime.startswith("image/")
                ]
    return texts


def _sanitized(text: str) -> str:
    for regex, replace in get_sanitize_patterns((NOTEBOOKS / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_tutorial_notebooks_are_there_in_order():
    assert [path.name for path in execute_script.tutorial_notebooks()] == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_executed_top_to_bottom_without_errors(name):
    notebook = _read(name)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # nbval never compares a cell without an execution count, so each must have one, in order.
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    for cell in code_cells:
        assert cell.source.strip(), f"empty code cell {cell.id}"
        kinds = [output.output_type for output in cell.outputs]
        assert "error" not in kinds, f"cell {cell.id} failed"
        stderr = [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"cell {cell.id} wrote to stderr: {stderr}"


@pytest.mark.parametrize("name", EXPECTED)
def test_no_widget_state_or_volatile_metadata(name):
    notebook = _read(name)
    assert set(notebook.metadata) == {"kernelspec"}
    for cell in notebook.cells:
        assert "execution" not in cell.metadata, f"timings left in cell {cell.id}"


@pytest.mark.parametrize("name", EXPECTED)
def test_outputs_never_hold_a_key(name):
    outputs = "\n".join(_output_texts(_read(name)))
    assert outputs, "no outputs at all"
    for key in (DEMO_KEY, DEMO_READ_ONLY_KEY):
        assert key not in outputs


@pytest.mark.parametrize("name", EXPECTED)
def test_outputs_hold_nothing_of_this_machine_once_sanitized(name):
    for text in _output_texts(_read(name)):
        clean = _sanitized(text)
        for machine_specific in (
            r"127\.0\.0\.1:\d",  # a port of this run
            r"/tmp/",
            r"/home/",
            r"/root/",
            str(ROOT),
            r"site-packages",
            r"\b0x[0-9a-f]{6,}",  # a memory address
        ):
            assert not re.search(machine_specific, clean), (machine_specific, clean[:300])


@pytest.mark.parametrize("name", EXPECTED)
def test_shows_how_to_use_pendo_without_running_it(name):
    notebook = _read(name)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert any("PENDO_INTEGRATION_KEY" in text for text in markdown)
    assert not any("PENDO_INTEGRATION_KEY" in text for text in code)
    assert any("pn.connect(sandbox=True)" in text for text in code)


@pytest.mark.parametrize(
    ("volatile", "masked"),
    [
        (
            "403 from GET http://127.0.0.1:43727/api/v1/token/verify",
            "403 from GET http://127.0.0.1:PORT/api/v1/token/verify",
        ),
        ("<PendoClient host=localhost:8765 key=***>", "<PendoClient host=localhost:PORT key=***>"),
        ("<Figure at 0x7f3a9c2b1d90>", "<Figure at 0xADDRESS>"),
        ("cache: /tmp/pendo-nb-notebooks-k2j4/http_cache.sqlite", "cache: TMPPATH"),
        (
            "'fetched_at': datetime.datetime(2026, 11, 27, tzinfo=datetime.timezone.utc), 'x'",
            "'fetched_at': FETCHED_AT, 'x'",
        ),
        ("  request id: 9f8e7d6c5b4a", "  request id: REQUEST_ID"),
    ],
)
def test_sanitize_file_masks_volatile_text(volatile, masked):
    assert _sanitized(volatile) == masked


def test_sanitize_file_leaves_ordinary_output_alone():
    text = "elena.ito@example  814 events on 2026-10-30 00:00:00+00:00, NPS +52"
    assert _sanitized(text) == text


def test_kernel_environment_drops_pendo_settings_and_isolates_the_cache():
    base = {"PATH": "/usr/bin", "PENDO_INTEGRATION_KEY": "secret", "PENDO_REGION": "eu"}
    environment = execute_script.kernel_environment(base, "/somewhere/cache")
    assert environment == {"PATH": "/usr/bin", "PENDO_NB_CACHE_DIR": "/somewhere/cache"}


def test_strip_volatile_keeps_only_the_kernelspec_and_cell_content():
    notebook = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python", "version": "3.11.7"},
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
        }
    )
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
    cell.metadata.update({"execution": {"iopub.status.busy": "2026-11-27"}, "tags": ["keep"]})
    notebook.cells.append(cell)
    stripped = execute_script.strip_volatile(notebook)
    assert set(stripped.metadata) == {"kernelspec"}
    assert stripped.cells[0].metadata == {"tags": ["keep"]}
    assert stripped.cells[0].execution_count == 1


def test_text_of_reads_like_the_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title\nSome prose.\n## Section"),
        nbformat.v4.new_code_cell(
            "x = 1\nx",
            execution_count=3,
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
                nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=3),
                nbformat.v4.new_output("display_data", {"image/png": "", "text/plain": "<Fig>"}),
            ],
        ),
    ]
    assert list(execute_script.text_of(notebook)) == [
        "# Title",
        "## Section",
        "In [3]:\n    x = 1\n    x",
        "hello",
        "1",
        "[figure]",
    ]


def test_demo_prints_the_quickstart_as_committed():
    """``make demo``: the quickstart runs headless, and what it prints is what the file shows."""
    done = subprocess.run(
        [sys.executable, str(NOTEBOOKS / "_execute.py"), "--show", "01-quickstart"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    committed = "\n".join(execute_script.text_of(_read("01-quickstart.ipynb")))
    assert _sanitized(done.stdout) == _sanitized(f"=== 01-quickstart.ipynb ===\n{committed}\n")
