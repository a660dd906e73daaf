"""The Examples sections (what `?` shows in a notebook) run as written, against the sandbox."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

from pendo_nb import errors
from pendo_nb.api import client, connect
from pendo_nb.frames import convert
from pendo_nb.http import connection, session


def written_examples(module) -> int:
    """The examples in the module's source that doctest should run: ``>>>`` lines not skipped."""
    lines = [line.strip() for line in inspect.getsource(module).splitlines()]
    return sum(line.startswith(">>>") and "doctest: +SKIP" not in line for line in lines)


def modules_with_examples() -> list:
    """The client's layers, and every module where a documented public name lives (wherever a
    restructure puts them): the API reference (docs/api) shows their docstrings."""
    import pendo_nb.charts
    import pendo_nb.dask
    import pendo_nb.metrics
    import pendo_nb.pipeline
    import pendo_nb.sandbox
    import pendo_nb.widgets

    namespaces = [pendo_nb, pendo_nb.pipeline, pendo_nb.widgets, pendo_nb.dask, pendo_nb.metrics]
    objects = [getattr(ns, name) for ns in namespaces for name in ns.__all__]
    objects.append(pendo_nb.sandbox.Sandbox)
    names = {ns.__name__ for ns in namespaces} | {"pendo_nb.sandbox", pendo_nb.charts.__name__}
    # A public module (pn.metrics) is its own home.
    names |= {
        obj.__name__
        if inspect.ismodule(obj)
        else getattr(obj, "__module__", None) or type(obj).__module__
        for obj in objects
    }
    names |= {m.__name__ for m in (client, connect, connection, errors, convert, session)}
    # pendo_nb.api.functions carries the docstrings of the PendoClient methods
    # (pendo_nb.api.client), whose examples run once, there.
    names.discard("pendo_nb.api.functions")
    return [importlib.import_module(name) for name in sorted(names)]


@pytest.mark.parametrize("module", modules_with_examples(), ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    # Every example written is one doctest ran (a module without examples runs none).
    assert result.attempted == written_examples(module)


def test_the_client_layer_has_examples_to_run():
    assert written_examples(client) > 0
