"""The Examples sections (what `?` shows in a notebook) run as written, against the sandbox."""

from __future__ import annotations

import doctest
import inspect

import pytest

from pendo_nb import errors
from pendo_nb.api import client, connect
from pendo_nb.frames import convert
from pendo_nb.http import connection, session

# The functions of pendo_nb.api.functions carry the docstrings of the PendoClient methods
# (pendo_nb.api.client), whose examples run here once.
MODULES = [client, connect, connection, errors, convert, session]


def written_examples(module) -> int:
    """The examples in the module's source that doctest should run: ``>>>`` lines not skipped."""
    lines = [line.strip() for line in inspect.getsource(module).splitlines()]
    return sum(line.startswith(">>>") and "doctest: +SKIP" not in line for line in lines)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    # Every example written is one doctest ran (a module without examples runs none).
    assert result.attempted == written_examples(module)


def test_the_client_layer_has_examples_to_run():
    assert written_examples(client) > 0
