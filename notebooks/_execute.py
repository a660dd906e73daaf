"""Execute the tutorial notebooks in place, or show one as text (``make notebooks``, ``make demo``).

::

    python notebooks/_execute.py                         # re-execute every notebook, in place
    python notebooks/_execute.py 02-aggregation-builder  # just this one
    python notebooks/_execute.py --show 01-quickstart    # run it and print what it shows

The notebooks are committed executed, because nbval compares a fresh run with the stored
outputs. Each one runs top to bottom in a kernel of the current environment, against the
sandbox, with the environment nbval gives it too (see ``kernel_environment``). Afterwards the
widget state (several KB of ``metadata.widgets``) and other volatile metadata are removed, so
re-running a notebook whose outputs did not change rewrites the same file (widget model ids in
outputs aside: they are random, and nbval ignores them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent
#: Seconds a single cell may run: every notebook as a whole must finish in under a minute.
CELL_TIMEOUT = 60
#: Notebook-level metadata worth keeping; the rest (widget state, the exact Python version,
#: editor settings) changes with the machine and run, not with the notebook.
KEPT_METADATA = ("kernelspec",)
#: The PENDO_* settings a kernel inherits (see kernel_environment).
SNAPSHOT_SETTINGS = ("PENDO_NB_RECORD", "PENDO_NB_REPLAY", "PENDO_NB_LOCAL")


def tutorial_notebooks() -> list[Path]:
    """The numbered notebooks (``01-quickstart.ipynb`` ...), in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def kernel_environment(base: Mapping[str, str], cache_dir: str) -> dict[str, str]:
    """The environment a notebook kernel runs with.

    No ``PENDO_*`` setting of the machine leaks in (the notebooks use the sandbox, and a real key
    must never be able to reach an output), except the snapshot files to record into or replay
    (``PENDO_NB_RECORD``, ``PENDO_NB_REPLAY``) and the local extract to answer from
    (``PENDO_NB_LOCAL``): paths, never secrets, and the way a notebook is recorded, replayed or
    answered from an extract unchanged. The HTTP cache lives in ``cache_dir``, a throw-away
    directory, so no answer cached by an earlier run can change what a notebook shows.
    """
    environment = {
        name: value
        for name, value in base.items()
        if not name.startswith("PENDO_") or name in SNAPSHOT_SETTINGS
    }
    environment["PENDO_NB_CACHE_DIR"] = cache_dir
    return environment


def strip_volatile(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove widget state and per-run metadata from ``notebook`` (in place); return it."""
    notebook.metadata = nbformat.from_dict(
        {key: notebook.metadata[key] for key in KEPT_METADATA if key in notebook.metadata}
    )
    for cell in notebook.cells:
        for key in ("execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    return notebook


def execute(path: Path, environment: Mapping[str, str]) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` top to bottom and return it with its new outputs.

    Raises ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        # "python3" is ipykernel's own spec: jupyter_client starts it with sys.executable, the
        # Python running this script, as nbval --nbval-current-env does.
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute(env=dict(environment))
    return notebook


def text_of(notebook: nbformat.NotebookNode) -> Iterator[str]:
    """The notebook as a newcomer would read it in a terminal: headings, code, text outputs."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            yield from (line for line in cell.source.splitlines() if line.startswith("#"))
        elif cell.cell_type == "code":
            yield f"In [{cell.execution_count}]:\n" + _indented(cell.source, "    ")
            for output in cell.outputs:
                yield _output_text(output)


def _output_text(output: nbformat.NotebookNode) -> str:
    if output.output_type == "stream":
        return output.text.rstrip("\n")
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}"
    if "image/png" in output.data:
        return "[figure]"
    return output.data.get("text/plain", "")


def _indented(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _resolve(name: str) -> Path:
    """A notebook named by path, file name, or file name without ``.ipynb``."""
    for candidate in (Path(name), NOTEBOOKS / name, NOTEBOOKS / f"{name}.ipynb"):
        if candidate.is_file():
            return candidate.resolve()
    known = ", ".join(path.stem for path in tutorial_notebooks())
    raise SystemExit(f"no notebook {name!r} (known: {known})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every numbered notebook")
    parser.add_argument(
        "--show", action="store_true", help="print the notebooks' text instead of saving them"
    )
    args = parser.parse_args(argv)
    paths = [_resolve(name) for name in args.notebooks] or tutorial_notebooks()
    cache_dir = tempfile.mkdtemp(prefix="pendo-nb-notebooks-")
    try:
        environment = kernel_environment(os.environ, cache_dir)
        for path in paths:
            started = time.monotonic()
            notebook = execute(path, environment)
            seconds = time.monotonic() - started
            if args.show:
                print(f"=== {path.name} ===")
                print("\n".join(text_of(notebook)))
            else:
                nbformat.write(strip_volatile(notebook), path)
                print(f"executed {path.name} in {seconds:.1f} s", file=sys.stderr)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
