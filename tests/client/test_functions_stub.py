"""pendo_nb/api/functions.pyi, the static types of pn.aggregate, pn.visitor..., is generated
from the PendoClient methods: it must match them (regenerate with `make stubs`)."""

from pathlib import Path

from pendo_nb.api import functions


def test_functions_stub_matches_the_client_methods():
    stub = Path(functions.__file__).with_suffix(".pyi")
    assert stub.read_text() == functions._stub_source(), "out of date: run `make stubs`"
