"""Sphinx configuration of the pendo_nb documentation.

Build with ``make docs`` (HTML in ``docs/_build/html``); ``make test`` builds it with warnings as
errors and nitpicky references (tests/test_docs.py). The guides run their code against the
sandbox while the site builds; the tutorials are rendered with the outputs committed in
``notebooks/`` (reached through the ``docs/notebooks`` symlink, so there is one copy of each
notebook), never executed here.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from importlib.metadata import version as installed_version
from pathlib import Path

from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[1]

# The kernels that run the guides inherit this environment: no PENDO_* setting of the machine
# (a real key or region) reaches them, and their HTTP cache is a throw-away folder.
for _name in [name for name in os.environ if name.startswith("PENDO_")]:
    del os.environ[_name]
os.environ["PENDO_NB_CACHE_DIR"] = tempfile.mkdtemp(prefix="pendo-nb-docs-")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

project = "pendo_nb"
author = "pendo_nb contributors"
copyright = "pendo_nb contributors"
# One version source: the installed package's metadata (pyproject.toml's `version`).
release = installed_version("pendo_nb")
version = ".".join(release.split(".")[:2])

# The repository address is one setting: pyproject.toml [project.urls] "Repository"
# (see CONTRIBUTING.md, "The repository address"). Empty or absent: no repository link.
REPOSITORY = PYPROJECT.get("urls", {}).get("Repository", "")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",
    "sphinx_copybutton",
    "sphinx_design",
]

# MyST-NB reads both the Markdown pages and the notebooks.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "notebooks/README.md", "notebooks/.ipynb_checkpoints", "**/.*"]
root_doc = "index"

# The guides and getting-started pages are text notebooks (a `kernelspec` in their front matter,
# `{code-cell}` blocks): their code runs against the sandbox at every build and the page shows
# what it gives, so a guide cannot drift from the library. A cell that fails fails the build.
# The tutorial notebooks are committed executed (nbval checks them in `make test`): their
# outputs are rendered as they are, never run here.
nb_execution_mode = "force"
nb_execution_excludepatterns = ["notebooks/*"]
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 120
# Each page runs in a temporary folder: files a guide writes (a snapshot...) stay out of docs/.
nb_execution_in_temp = True
# A form's bundle holds the live widget (drawn by a kernel) and its static view (text/html):
# with no kernel behind the page, the static view is the one to show.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
# A chart cell carries Vega-Lite (for a live notebook) and a PNG: this static site shows the PNG
# and says nothing of the Vega-Lite it skips. An error a guide shows on purpose is pendo_nb's
# own short message, not a Python traceback: it is shown as plain text, without a warning.
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Docstrings are NumPy style (what `?` shows in a notebook).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Types in Parameters/Returns stay text: they name pandas, requests-cache... whose inventories
# this offline build cannot fetch, and nitpicky mode would flag every one of them.
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
# Types show in the signatures (``limit(n: int) -> Pipeline``); the Parameters sections say the
# same in words.
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autosummary_generate = False
autodoc_default_options = {"members": True, "undoc-members": False}

# Every cross-reference must resolve (a broken one fails `make test`), except to the libraries
# pendo_nb builds on, which have no inventory here (no network at build time).
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(pandas|pd|numpy|np|requests|requests_cache|urllib3|ipywidgets|traitlets"
        r"|dask|dd|distributed|pyarrow|altair|itables|t|alt"
        r"|datetime|pathlib|typing|collections|concurrent)"
        r"(\..*)?",
    ),
    # Type aliases written in signatures (a JSON value, an expression string or Expr), and
    # pandas' own (DataFrame's constructor, which MetricFrame inherits: `Axes`, `Dtype`).
    (r"py:.*", r"JSON|ExprLike|ITable|Axes|Dtype|dict\[.*|list\[.*"),
]

html_theme = "pydata_sphinx_theme"
html_title = f"pendo_nb {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 1,
    # The top bar holds the five sections of the landing page's toctree, on one row; the left
    # sidebar lists the pages of the section the reader is in.
    "header_links_before_dropdown": 5,
    "show_nav_level": 1,
    "navigation_depth": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "icon_links": (
        [{"name": "Repository", "url": REPOSITORY, "icon": "fa-brands fa-github"}]
        if REPOSITORY
        else []
    ),
}
html_static_path = ["_static"]
html_css_files = ["pendo_nb.css"]
# The landing page is cards and a picture: no section navigation there.
html_sidebars = {"index": []}
html_show_sourcelink = False

# A copy button on every block; what it copies leaves out the prompts of doctest examples
# (`>>> `, `... `) and shell lines (`$ `), and the outputs shown after them.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_exclude = ".linenos, .gp, .go"


# -- Public names ---------------------------------------------------------------------------------
# Docstrings may name an object by its home module (`pendo_nb.client.PendoClient`) or by a short
# name (`col`); the reference pages document each object once, under its public import path
# (`pendo_nb.PendoClient`). Such a reference is sent to the public entry, so the pages survive
# internal moves. A reference to an internal object that exists but is not public renders as
# code, without a link; a reference to something that does not exist still fails the build.

PUBLIC_NAMESPACES = ["pendo_nb", "pendo_nb.pipeline", "pendo_nb.widgets", "pendo_nb.dask"]
PUBLIC_EXTRA = [
    "pendo_nb.sandbox.Sandbox",
    "pendo_nb.sandbox.DEMO_KEY",
    "pendo_nb.sandbox.DEMO_READ_ONLY_KEY",
]


def _import_dotted(name: str):
    """The object named ``a.b.c`` (a module, or an attribute path inside one), or None."""
    import importlib

    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _public_names() -> dict[int, str]:
    """id(object) -> its public dotted name (classes also give their public methods)."""
    import importlib

    names: dict[int, str] = {}
    for extra in reversed(PUBLIC_EXTRA):
        names[id(_import_dotted(extra))] = extra
    for namespace in reversed(PUBLIC_NAMESPACES):  # pendo_nb wins over pendo_nb.pipeline
        module = importlib.import_module(namespace)
        for attr in module.__all__:
            names[id(getattr(module, attr))] = f"{namespace}.{attr}"
    return names


def _resolve_public(app, env, node, contnode):
    from docutils import nodes

    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    if target[:1] in "\"'{" or target[-1:] in "\"'}":
        # A type written as values in a NumPy docstring (`{"json", "csv"}`): text, not a name.
        return nodes.literal(contnode.astext(), contnode.astext())
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    candidates = [target]
    if module:
        candidates += [f"{module}.{klass}.{target}" if klass else "", f"{module}.{target}"]
    # The module the docstring was written in ("...: docstring of pendo_nb.pipeline.expr.lit").
    home = (node.source or "").rpartition("docstring of ")[2].split(".")
    candidates += [".".join(home[:cut] + [target]) for cut in range(len(home) - 1, 0, -1)]
    candidates += [f"{namespace}.{target}" for namespace in PUBLIC_NAMESPACES]
    public = _public_names()
    domain = env.get_domain("py")
    for candidate in filter(None, candidates):
        if not candidate.startswith("pendo_nb"):
            continue
        obj = _import_dotted(candidate)
        if obj is None:
            continue
        # A method: its class's public name plus the attribute.
        head, _, attr = candidate.rpartition(".")
        owner = _import_dotted(head) if head else None
        name = public.get(id(obj))
        if name is None and isinstance(owner, type) and id(owner) in public:
            name = f"{public[id(owner)]}.{attr}"
        if name is not None:
            node["reftarget"] = name
            found = domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
            )
            if found is not None:
                return found
        # It exists but has no public page: show it as code, unlinked.
        return nodes.literal(contnode.astext(), contnode.astext())
    return None


def _notebooks_by_real_path(app, env, docnames):
    """Let the notebooks link to each other (`02-aggregation-builder.ipynb`).

    `docs/notebooks` is a symlink to `../notebooks`; Sphinx resolves a link's path through it,
    so the resolved paths are mapped back to the documents.
    """
    for docname in env.found_docs:
        path = Path(env.doc2path(docname))
        if path.resolve() != path:
            env.project._path_to_docname[path.resolve()] = docname


# -- Tables written from the code ----------------------------------------------------------------
# The reference's tables of builder methods, sources and aggregators are made from the objects
# themselves, so a method or source added to the library appears in them without an edit here.


class _Generated(SphinxDirective):
    """Parse reStructuredText made from the library's objects (see the subclasses)."""

    def rst(self) -> list[str]:
        raise NotImplementedError

    def run(self):
        return self.parse_text_to_nodes("\n".join(self.rst()))


class PublicMethods(_Generated):
    """``.. pendo-methods:: pendo_nb.Pipeline``: a summary table of the class's public methods."""

    required_arguments = 1

    def rst(self) -> list[str]:
        klass = _import_dotted(self.arguments[0])
        names = [n for n in vars(klass) if not n.startswith("_") and callable(getattr(klass, n))]
        # Named from the page's current module (pendo_nb), as autosummary wants them.
        owner = self.arguments[0].rpartition(".")[2]
        return [".. autosummary::", "   :nosignatures:", ""] + [f"   ~{owner}.{n}" for n in names]


class SourceTable(_Generated):
    """``.. pendo-sources::``: every ``pn.source`` function, its rows, periods and parameters,
    followed by each function's entry."""

    def rst(self) -> list[str]:
        from pendo_nb.pipeline import source_docs
        from pendo_nb.pipeline._values import snake_case
        from pendo_nb.pipeline.sources import SOURCES

        periods = {True: "needs periods", False: "snapshot", None: "undocumented"}
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 22 48 12 18",
            "",
            "   * - Source",
            "     - One row per...",
            "     - Periods",
            "     - Parameters",
        ]
        for name, (needs, _) in SOURCES.items():
            snake = snake_case(name)
            takes = [snake_case(k) for k in source_docs.parameters_of(name)[2:]]
            lines += [
                f"   * - :func:`~pendo_nb.source.{snake}`",
                f"     - {source_docs.ROWS[name]}",
                f"     - {periods[needs]}",
                f"     - {', '.join(f'``{t}``' for t in takes) or 'app_id, blacklist only'}",
            ]
        lines += ["", "Every source but ``const`` also takes ``app_id`` and ``blacklist``.", ""]
        for name in SOURCES:
            lines += [f".. autofunction:: pendo_nb.source.{snake_case(name)}", ""]
        return lines


class AggregatorTable(_Generated):
    """``.. pendo-aggregators::``: every ``pn.agg`` function, with its entry."""

    def rst(self) -> list[str]:
        from pendo_nb import agg

        names = [n for n in dir(agg) if not n.startswith("_")]
        lines = [".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   ~agg.{n}" for n in names] + [""]
        for name in names:
            lines += [f".. autofunction:: pendo_nb.agg.{name}", ""]
        return lines


_BACKLINK = re.compile(r'href="([^"#]*)#(pendo_nb[\w.]*)"')


def _viewcode_backlinks(app, pagename, templatename, context, doctree):
    """Point the "[docs]" links of the highlighted source at the entries that exist.

    viewcode names every object of a module with the first public module one of them was
    documented under: ``col`` is ``pendo_nb.col`` but ``Expr``, from the same file, is
    ``pendo_nb.pipeline.Expr``. A link to a name that is not documented is sent to the public
    name that is.
    """
    if not pagename.startswith("_modules/") or "body" not in context:
        return
    objects = app.env.get_domain("py").objects

    def fixed(match):
        page, name = match.groups()
        if name in objects:
            return match.group(0)
        tail = name.removeprefix("pendo_nb.")
        for namespace in PUBLIC_NAMESPACES:
            candidate = f"{namespace}.{tail}"
            if candidate in objects:
                target = app.builder.get_relative_uri(pagename, objects[candidate].docname)
                return f'href="{target}#{candidate}"'
        return match.group(0)

    context["body"] = _BACKLINK.sub(fixed, context["body"])


def _remove_execution_cache(app, exception):
    shutil.rmtree(os.environ["PENDO_NB_CACHE_DIR"], ignore_errors=True)


def setup(app):
    app.connect("missing-reference", _resolve_public)
    app.connect("env-before-read-docs", _notebooks_by_real_path)
    app.connect("build-finished", _remove_execution_cache)
    app.connect("html-page-context", _viewcode_backlinks)
    app.add_directive("pendo-methods", PublicMethods)
    app.add_directive("pendo-sources", SourceTable)
    app.add_directive("pendo-aggregators", AggregatorTable)
