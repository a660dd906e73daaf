"""The Examples sections (what `?` shows in a notebook) run as written, against the sandbox."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

from pendo_nb import errors
from pendo_nb.api import client, connect
from pendo_nb.frames import csv_reader, json_reader, plain_reader
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
    frames = (csv_reader, json_reader, plain_reader)
    names |= {m.__name__ for m in (client, connect, connection, errors, session, *frames)}
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


# -- Where users live: the builder's methods, the sources and the aggregators ---------------------


def builder_methods() -> list[str]:
    """The public methods of ``Pipeline`` (what tab completion offers after a pipeline)."""
    from pendo_nb import Pipeline

    return [
        name
        for name, member in vars(Pipeline).items()
        if not name.startswith("_") and callable(getattr(Pipeline, name))
    ]


def aggregator_names() -> list[str]:
    from pendo_nb import agg

    return [name for name in dir(agg) if not name.startswith("_")]


def source_names() -> list[str]:
    from pendo_nb.pipeline.sources import SOURCES

    return list(SOURCES)


def _documented(kind: str, name: str):
    """The builder method, aggregator or source function as a user reaches it."""
    import pendo_nb as pn
    from pendo_nb.pipeline._values import snake_case

    if kind == "method":
        return getattr(pn.Pipeline, name)
    if kind == "aggregator":
        return getattr(pn.agg, name)
    return getattr(pn.source, snake_case(name))


EVERY_ENTRY = (
    [("method", name) for name in builder_methods()]
    + [("aggregator", name) for name in aggregator_names()]
    + [("source", name) for name in source_names()]
)


@pytest.mark.parametrize(("kind", "name"), EVERY_ENTRY, ids=lambda v: str(v))
def test_every_builder_method_source_and_aggregator_documents_itself(kind, name):
    documented = _documented(kind, name)
    doc = inspect.cleandoc(documented.__doc__ or "")
    assert "Returns\n-------" in doc, f"{kind} {name}: no Returns section"
    assert "Examples\n--------" in doc, f"{kind} {name}: no Examples section"
    example = doc.split("Examples\n--------", 1)[1]
    assert ">>>" in example, f"{kind} {name}: the Examples section has no example"
    # An example shows what it gives: some line of it is output, not code.
    lines = example.splitlines()
    outputs = [line for line in lines if line and not line.startswith((">>>", "..."))]
    assert outputs, f"{kind} {name}: the example shows no output"
    takes = [p for p in inspect.signature(documented).parameters if p not in ("self", "cls")]
    if takes:
        assert "Parameters\n----------" in doc, f"{kind} {name}: no Parameters section"


@pytest.mark.parametrize("name", source_names())
def test_every_source_example_runs(name):
    """The sources' docstrings are written at import time, where doctest does not look: run them."""
    doc = _documented("source", name).__doc__
    test = doctest.DocTestParser().get_doctest(doc, {}, f"pn.source.{name}", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 3 and result.failed == 0
