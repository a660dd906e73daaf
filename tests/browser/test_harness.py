"""The harness itself: a plain ipywidgets control renders, and nothing leaves loopback."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]


def test_ipywidgets_render_in_jupyterlab(run_notebook):
    page = run_notebook(["import ipywidgets\nipywidgets.Text(value='rendered by widgets')"])
    field = page.locator(".jp-OutputArea-output .widget-text input")
    field.wait_for()
    assert field.input_value() == "rendered by widgets"


def test_requests_off_loopback_are_aborted(page):
    from playwright.sync_api import Error

    with pytest.raises(Error, match="ERR_FAILED"):
        page.goto("http://example.invalid/")
