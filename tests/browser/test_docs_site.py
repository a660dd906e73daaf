"""The built documentation site, as a reader sees it in Chromium at 1280 px.

The site is built once per session (``built_docs`` in tests/conftest.py) and served on 127.0.0.1.
The landing page shows its picture and its cards; every guide has its section's navigation on the
left; the rendered tutorials 03 and 05 show every form's static view (no kernel runs behind a
page); a copy button puts its block's code on the clipboard; and no code block needs a horizontal
scrollbar.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import OFF_LOOPBACK

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request lines in the test output
        pass


@pytest.fixture(scope="module")
def site(built_docs):
    """The built site on an ephemeral loopback port: its base URL and its folder."""
    html, result = built_docs
    assert result.returncode == 0, f"the docs did not build:\n{result.stderr[-3000:]}"
    handler = functools.partial(_Quiet, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", html
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def reader(chromium):
    """A page at 1280 px that may use the clipboard and reach nothing but loopback."""
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.route(OFF_LOOPBACK, lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def test_the_landing_page_shows_the_picture_and_the_cards(site, reader):
    url, _ = site
    reader.goto(f"{url}/index.html")
    picture = reader.locator(".pn-hero img")
    picture.wait_for()
    assert picture.is_visible()
    loaded = "img => img.complete && img.naturalWidth > 600"
    assert reader.evaluate(loaded, picture.element_handle())
    cards = reader.locator(".sd-card")
    assert cards.count() == 4
    targets = cards.locator("a.sd-stretched-link").evaluate_all("links => links.map(a => a.href)")
    assert len(targets) == 4 and all(target.startswith(url) for target in targets)
    # The top bar lists the five sections, on one row.
    sections = reader.locator(".bd-header .navbar-nav > li.nav-item").all_inner_texts()
    assert [text.strip() for text in sections] == [
        "Getting started", "User guide", "Tutorials", "API reference", "Changelog",
    ]  # fmt: skip
    tops = reader.locator(".bd-header .navbar-nav > li.nav-item").evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1


def _guide_pages(html: Path) -> list[str]:
    return sorted(f"guides/{p.name}" for p in (html / "guides").glob("*.html") if p.stem != "index")


def test_every_guide_page_has_its_section_navigation(site, reader):
    url, html = site
    for guide in _guide_pages(html):
        reader.goto(f"{url}/{guide}")
        navigation = reader.locator("nav.bd-docs-nav .bd-sidenav a")
        assert navigation.count() >= 2, f"{guide}: no section navigation"
        assert navigation.first.is_visible(), guide


def _static_views_in(notebook: Path) -> int:
    """How many outputs of the committed notebook are a form's static view."""
    cells = json.loads(notebook.read_text())["cells"]
    return sum(
        'class="pendo-static"' in "".join(output.get("data", {}).get("text/html", ""))
        for cell in cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("name", ["03-reports-and-widgets", "05-updating-metadata"])
def test_the_rendered_tutorials_show_every_forms_static_view(site, reader, name):
    url, _ = site
    expected = _static_views_in(ROOT / "notebooks" / f"{name}.ipynb")
    assert expected >= 2
    reader.goto(f"{url}/notebooks/{name}.html")
    views = reader.locator(".cell_output .pendo-static")
    assert views.count() == expected
    for index in range(expected):
        view = views.nth(index)
        view.scroll_into_view_if_needed()
        assert view.is_visible() and view.bounding_box()["height"] > 40, f"{name}: form {index}"


def test_a_copy_button_copies_its_block(site, reader):
    url, _ = site
    reader.goto(f"{url}/guides/builder.html")
    block = reader.locator("div.cell div.highlight").first
    block.scroll_into_view_if_needed()
    block.hover()
    button = block.locator("button.copybtn")
    button.click()
    copied = reader.evaluate("navigator.clipboard.readText()")
    code = block.locator("pre").inner_text()
    assert copied.strip() == code.strip() and "pn.connect(sandbox=True)" in copied


def test_no_code_block_needs_a_horizontal_scrollbar(site, reader):
    url, html = site
    pages = [
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not {"_modules", "_sources", "_static"} & set(p.parts)
        and p.name not in ("genindex.html", "search.html", "py-modindex.html")
    ]
    assert len(pages) > 20
    scrolled = {}
    for page in sorted(pages):
        reader.goto(f"{url}/{page}")
        wide = reader.evaluate(
            """() => [...document.querySelectorAll('div.highlight pre, pre.literal-block')]
                 .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                 .map(pre => pre.innerText.split('\\n')[0].slice(0, 60))"""
        )
        if wide:
            scrolled[page] = wide
    assert scrolled == {}
