"""The Examples sections (what `?` shows in a notebook) run as written, against the sandbox."""

from __future__ import annotations

import doctest

import pytest

from pendo_nb import api, client, errors, frames, session


@pytest.mark.parametrize("module", [api, client, errors, frames, session], ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
