# The README's two commands are `make demo` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install browser-deps notebooks lab bench lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# constraints.txt pins every package so notebook outputs are reproducible.
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,dask,plot]'
	touch $(STAMP)

install: $(STAMP)

## Main job: the quickstart notebook, run headless against the embedded sandbox (no key needed),
## printed as text.
demo: install
	$(PY) notebooks/_execute.py --show 01-quickstart

# Re-execute every notebook in place (commit them executed: nbval compares with their outputs).
notebooks: install
	$(PY) notebooks/_execute.py

## Full suite: unit, sandbox integration, widgets, notebooks (nbval) and browser tests.
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

lint: install
	$(VENV)/bin/ruff check pendo_nb tests benchmarks notebooks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
