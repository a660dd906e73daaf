"""The documentation site builds with no warning, runs its guides, and documents every public name.

Warnings are errors and references are checked (nitpicky): a broken reference, a docstring that
does not parse, a guide whose code fails, or a page missing from a table of contents fails here.
The guides run against the sandbox during the build; the tutorial notebooks are rendered with
their committed outputs, never executed. `make docs` is the same build into docs/_build. The
built pages are then checked: every internal link and anchor resolves, and no user-facing text
carries the internal section numbers of the project's reference notes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sphinx.util.inventory import InventoryFile

import pendo_nb
import pendo_nb.dask
import pendo_nb.metrics
import pendo_nb.pipeline
import pendo_nb.sandbox
import pendo_nb.widgets

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_NAMESPACES = [pendo_nb, pendo_nb.pipeline, pendo_nb.widgets, pendo_nb.dask, pendo_nb.metrics]


# The build runs the guides' code: minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def built(built_docs) -> tuple[Path, subprocess.CompletedProcess]:
    return built_docs


def public_names() -> list[str]:
    names = [f"{ns.__name__}.{name}" for ns in PUBLIC_NAMESPACES for name in ns.__all__]
    return names + ["pendo_nb.sandbox.Sandbox"]


def test_the_site_builds_without_a_warning(built):
    html, result = built
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    assert (html / "index.html").exists()


def test_every_public_name_has_an_entry_and_a_docstring(built):
    html, _ = built
    inventory = InventoryFile.loads((html / "objects.inv").read_bytes(), uri="")
    documented = {name for kind, entries in inventory.data.items() for name in entries}
    public = public_names()
    # Each name re-exported by both pendo_nb and pendo_nb.pipeline is documented under pendo_nb.
    missing = [
        name
        for name in public
        if name not in documented and f"pendo_nb.{name.rpartition('.')[2]}" not in documented
    ]
    assert missing == []
    for name in public:
        module, _, attr = name.rpartition(".")
        obj = getattr(sys.modules[module], attr)
        doc = obj.__doc__ if callable(obj) or isinstance(obj, type) else type(obj).__doc__
        assert doc and doc.strip(), f"{name} has no docstring"


def test_the_notebooks_are_pages_with_their_outputs(built):
    html, _ = built
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        page = html / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), notebook.name
        assert "cell_output" in page.read_text(), f"{notebook.name} rendered without outputs"


GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))


@pytest.mark.parametrize("guide", [g for g in GUIDES if g.stem != "index"], ids=lambda g: g.stem)
def test_every_guide_runs_its_code_and_shows_the_output(built, guide):
    """A guide is a text notebook: its code cells ran during the build, and show what they gave."""
    source = guide.read_text()
    assert "kernelspec:" in source.split("---", 2)[1], f"{guide.name} is not executed at build time"
    assert "```{code-cell}" in source, f"{guide.name} has no code cell"
    assert "```python" not in source, f"{guide.name} has Python that does not run"
    page = (built[0] / "guides" / f"{guide.stem}.html").read_text()
    cells = len(re.findall(r'class="cell( [^"]*)? docutils container"', page))
    outputs = page.count("cell_output")
    assert cells == source.count("```{code-cell}") and outputs > 0, guide.name
    assert "Traceback (most recent call last)" not in page


class _Links(HTMLParser):
    """The links and the anchors (ids) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        for attribute in ("href", "src"):
            if tag in ("a", "link", "img", "script") and values.get(attribute):
                self.links.append(values[attribute])


def _parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(errors="replace"))
    return parser


def test_no_internal_link_or_anchor_is_broken(built):
    html = built[0]
    # _static holds the theme's templates (not pages): everything else is a page a reader opens.
    pages = {page: _parsed(page) for page in html.rglob("*.html") if "_static" not in page.parts}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue  # external: the offline build cannot check it
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(html)} -> {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parsed(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(html)} -> {link} (no such anchor)")
    assert broken == []


INTERNAL_NUMBERING = re.compile(r"\breference\s+\d+(\.\d+)*", re.I)


def _text_of(page: Path) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(page.read_text(errors="replace"))
    return " ".join(parser.parts)


def test_no_user_facing_text_cites_internal_section_numbers(built):
    """What a user reads (every page but the highlighted source code, and the README) names what
    it means, not a section of the project's own notes ("reference 3.4")."""
    html = built[0]
    pages = [p for p in html.rglob("*.html") if "_modules" not in p.parts]
    cited = {
        str(page.relative_to(html)): INTERNAL_NUMBERING.findall(_text_of(page)) for page in pages
    }
    cited["README.md"] = INTERNAL_NUMBERING.findall((ROOT / "README.md").read_text())
    assert {page: found for page, found in cited.items() if found} == {}


def test_no_public_docstring_cites_internal_section_numbers():
    """What ``?`` shows in a notebook, for every public name and its public members."""
    from pendo_nb.pipeline._values import snake_case
    from pendo_nb.pipeline.sources import SOURCES

    def public(name: str):
        module, _, attr = name.rpartition(".")
        return getattr(sys.modules[module], attr)

    objects = [public(name) for name in public_names()]
    objects += [getattr(pendo_nb.source, snake_case(name)) for name in SOURCES]
    documented = []
    for obj in objects:
        documented.append(obj)
        if isinstance(obj, type) or obj is pendo_nb.agg:  # and their public members
            with warnings.catch_warnings():  # ipywidgets' deprecated class attributes
                warnings.simplefilter("ignore", DeprecationWarning)
                documented += [getattr(obj, a) for a in dir(obj) if not a.startswith("_")]
    found = {
        getattr(member, "__qualname__", repr(member)): INTERNAL_NUMBERING.findall(doc)
        for member in documented
        if INTERNAL_NUMBERING.search(doc := getattr(member, "__doc__", None) or "")
    }
    assert found == {}
