"""The ``%%pendo`` cell magic: run a cell holding a Pendo JSON body or builder code.

::

    %load_ext pendo_nb

    %%pendo df
    {"request": {"pipeline": [{"source": {"visitors": null}}, {"limit": 5}]}}

    %%pendo active --client sandbox_client
    pn.source.events(app_id="*").last(7, "days").group("visitorId")

The cell's result is stored in the user's namespace under the given name (like BigQuery's
``%%bigquery df``) and shown. A JSON cell is read with ``Pipeline.from_json``; any other cell is
Python run in the notebook's namespace, whose last expression must be a ``Pipeline`` (or a JSON
body as a dict or list); ``pn`` is imported there first if the notebook has not done it.
"""

from __future__ import annotations

import ast
import shlex
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from pendo_nb.errors import PipelineError
from pendo_nb.pipeline.pipeline import Pipeline

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell


def parse_magic_line(line: str) -> tuple[str | None, str | None]:
    """``"df --client c"`` -> ``("df", "c")``: the target variable and the client variable."""
    try:
        words = shlex.split(line)
    except ValueError as error:  # an unbalanced quote
        raise PipelineError(f"%%pendo: cannot read the magic line {line!r}: {error}") from None
    name = client = None
    while words:
        word = words.pop(0)
        if word == "--client":
            if not words:
                raise PipelineError("%%pendo: --client needs the name of a client variable")
            client = words.pop(0)
        elif name is None and word.isidentifier():
            name = word
        else:
            raise PipelineError(
                f"%%pendo: unexpected argument {word!r}; usage: %%pendo [name] [--client VAR]"
            )
    return name, client


def cell_pipeline(cell: str, namespace: dict[str, Any]) -> Pipeline:
    """The pipeline a cell describes: JSON text, or Python whose last expression is one."""
    text = cell.strip()
    if not text:
        raise PipelineError("%%pendo: the cell is empty")
    if text[0] in "[{":
        try:
            return Pipeline.from_json(orjson.loads(text))
        except orjson.JSONDecodeError:
            pass  # not JSON: a Python dict/list literal or builder code
    value = _run_python(text, namespace)
    if isinstance(value, Pipeline):
        return value
    if isinstance(value, dict | list):
        return Pipeline.from_json(value)
    raise PipelineError(
        "%%pendo: the cell's last expression must be a Pipeline or a JSON body, "
        f"got {type(value).__name__}"
    )


def _run_python(text: str, namespace: dict[str, Any]) -> Any:
    # The cell is the user's own code in their own kernel, run exactly as a normal cell would
    # be; only the value of its last expression is kept.
    tree = ast.parse(text, "<%%pendo cell>")
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body.pop()
    else:
        last = None
    if tree.body:
        exec(compile(tree, "<%%pendo cell>", "exec"), namespace)
    if last is None:
        raise PipelineError("%%pendo: the cell must end with an expression giving the pipeline")
    return eval(compile(ast.Expression(last.value), "<%%pendo cell>", "eval"), namespace)


def pendo_cell_magic(shell: InteractiveShell, line: str, cell: str, pn: ModuleType) -> pd.DataFrame:
    """Run the cell's pipeline and return its DataFrame, stored under the name on the line.

    ``pn`` is the ``pendo_nb`` package, put in the notebook's namespace for builder cells.
    """
    name, client_name = parse_magic_line(line)
    namespace = shell.user_ns
    namespace.setdefault("pn", pn)
    client = None
    if client_name is not None:
        if client_name not in namespace:
            raise PipelineError(f"%%pendo: no variable named {client_name!r} for --client")
        client = namespace[client_name]
    frame = cell_pipeline(cell, namespace).run(client=client)
    if name is not None:
        namespace[name] = frame
    return frame


def register_cell_magic(ipython: InteractiveShell, pn: ModuleType) -> None:
    """Register ``%%pendo`` in ``ipython``; its builder cells see ``pn`` (the package)."""
    # IPython's decorator on register_magic_function types it as unbound (it hides `self`).
    ipython.register_magic_function(  # type: ignore[call-arg]
        lambda line, cell: pendo_cell_magic(ipython, line, cell, pn),  # type: ignore[arg-type]
        magic_kind="cell",
        magic_name="pendo",
    )
