# The README's two commands are `make demo` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install browser-deps notebooks lab bench lint format typecheck stubs docs dist clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# constraints.txt pins every package so notebook outputs are reproducible.
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,dask,plot,docs]'
	touch $(STAMP)

install: $(STAMP)

## Main job: the quickstart notebook, run headless against the embedded sandbox (no key needed),
## printed as text.
demo: install
	$(PY) notebooks/_execute.py --show 01-quickstart

# Re-execute every notebook in place (commit them executed: nbval compares with their outputs).
notebooks: install
	$(PY) notebooks/_execute.py

## Full suite: unit, sandbox integration, widgets, notebooks (nbval), browser tests, and the gates:
## the docs build (warnings are errors), the wheel in a fresh venv, ruff and deptry.
test: install browser-deps
	$(PY) -m pytest

# Browser tests drive Debian's Chromium (never a downloaded build).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lab: install
	$(VENV)/bin/jupyter lab notebooks/

bench: install
	$(PY) -m benchmarks

# The same checks as tests/test_quality_gates.py, for a quick look before committing.
LINTED := pendo_nb tests benchmarks notebooks docs/conf.py
lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/deptry .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format $(LINTED)

# The type gate of tests/test_quality_gates.py (configured in pyproject.toml, [tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy

# pendo_nb/api/functions.pyi: the typed signatures of pn.aggregate, pn.visitor... written from the
# PendoClient methods (after changing one; tests/client/test_functions_stub.py checks it).
stubs: install
	$(PY) -c "from pendo_nb.api.functions import _stub_source; print(_stub_source(), end='')" \
	  > pendo_nb/api/functions.pyi

# The documentation site, as HTML in docs/_build/html (tests/test_docs.py builds it in make test,
# with warnings as errors). The guides run their code against the sandbox while it builds; the
# tutorial notebooks are rendered with their committed outputs, not executed.
docs: install
	$(PY) -m sphinx -W --keep-going -n -b html docs docs/_build/html

# Wheel and sdist in dist/, checked with twine.
dist: install
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis docs/_build dist build
