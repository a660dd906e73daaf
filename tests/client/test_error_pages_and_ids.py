"""Errors a newcomer meets: an HTML page from a proxy, an id that is not quite right."""

from __future__ import annotations

import ast
import warnings

import pytest

import pendo_nb as pn
from pendo_nb import PendoClient
from pendo_nb.errors import NotFoundError, ServerError, error_for_status, html_page_summary

KEY = "error-page-test-key-0123456789"

# What a load balancer sends: a whole page, styles and scripts included, far longer than any
# error message should be.
GATEWAY_PAGE = (
    "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
    "<title>502 Bad Gateway &mdash; upstream unavailable</title>\n"
    "<style>" + "body { font-family: sans-serif; } " * 200 + "</style>\n"
    "<script>var trace = '" + "x" * 3000 + "';</script>\n</head>\n"
    "<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p>"
    "<hr><address>nginx/1.25.3</address></body>\n</html>\n"
)
PROXY_PAGE_WITHOUT_TITLE = (
    "  <html><body><h1>Access   denied</h1><p>Your organisation blocks this site.</p></body></html>"
)


def test_an_html_error_page_becomes_its_status_and_title():
    error = error_for_status(
        502, method="POST", url="https://app.pendo.io/api/v1/aggregation", body=GATEWAY_PAGE,
        host="app.pendo.io",
    )  # fmt: skip
    assert isinstance(error, ServerError)
    assert error.body == "an HTML page titled '502 Bad Gateway — upstream unavailable'"
    message = str(error)
    assert message.splitlines()[0].startswith("502 from POST")
    for piece in ("<", "font-family", "xxxx", "nginx", "invalid response"):
        assert piece not in message
    assert "proxy, firewall or load balancer between here and app.pendo.io" in error.hint
    assert "Pendo failed on its side" in error.hint  # the usual hint, after
    shown = "\n".join(error._render_traceback_())
    assert "502 Bad Gateway" in shown and "<" not in shown.replace("<module>", "")
    assert len(shown) < 1000


def test_a_page_without_a_title_is_named_by_its_heading():
    assert html_page_summary(PROXY_PAGE_WITHOUT_TITLE) == "an HTML page titled 'Access denied'"
    assert html_page_summary("<html><body><p>nothing</p></body></html>") == (
        "an HTML page with no title"
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"message": "<b>not</b> a page"}',
        "Key is invalid",
        "Error while getting visitor, no such entity found",
        '<not-html> at position 3 in "a < b"',
        "",
    ],
)
def test_json_and_plain_text_bodies_are_kept_as_they_are(body):
    assert html_page_summary(body) is None
    error = error_for_status(404, method="GET", url="u", body=body, host="h")
    assert error.body == body.strip()


def test_a_very_long_title_is_cut():
    summary = html_page_summary("<title>" + "Maintenance " * 50 + "</title>")
    assert summary is not None and summary.endswith("…'") and len(summary) < 150


def test_the_key_never_shows_through_a_page_title():
    page = f"<html><head><title>Forbidden for {KEY}</title></head></html>"
    error = error_for_status(403, method="GET", url="u", body=page, host="h", secret=KEY)
    assert KEY not in str(error) and "Forbidden for ***" in error.body


def test_a_proxy_page_through_the_client_is_summarised(scripted):
    scripted.script = [
        (403, {"Content-Type": "text/html"}, PROXY_PAGE_WITHOUT_TITLE.encode()),
        (404, {"Content-Type": "text/html; charset=utf-8"}, GATEWAY_PAGE.encode()),
    ]
    client = PendoClient(KEY, base_url=scripted.url, cache=False, rate_limit=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(pn.AuthenticationError) as refused:
            client.get_reports()
        with pytest.raises(pn.NotFoundError) as missing:
            client.get_reports()
    assert refused.value.body == "an HTML page titled 'Access denied'"
    assert "organisation" not in str(refused.value)
    assert "the key was refused" in refused.value.hint  # still possible, said after the page
    assert "<" not in str(missing.value) and "Bad Gateway" in missing.value.body
    assert not [w for w in caught if "<html" in str(w.message).lower()]


# -- ids: readable, exact, and how to find them ------------------------------------------------


def test_a_missing_visitor_names_its_id_readably_and_how_to_find_it(sandbox):
    client = pn.connect(sandbox=sandbox)
    with pytest.raises(NotFoundError) as missing:
        client.visitor("nobody@example.com")
    error = missing.value
    assert "b64_" in error.url  # how it travelled...
    assert "'nobody@example.com'" in error.hint  # ...and how it reads
    assert "ids are exact: case, spaces" in error.hint
    shown = "\n".join(error._render_traceback_())
    assert "nobody@example.com" in shown
    # The search the hint suggests runs, and finds the visitors whose id holds the fragment.
    search = error.hint.split("Ids that resemble it: ", 1)[1].split(";")[0]
    assert search == (
        "pn.source.visitors().filter('contains(toLowerCase(visitorId), \"nobody\")').run()"
    )
    real = client.aggregate([{"source": {"visitors": None}}, {"limit": 1}])["visitorId"][0]
    local = real.split("@")[0]
    found = pn.source.visitors().filter(f'contains(toLowerCase(visitorId), "{local}")')
    assert real in set(found.run(client=client)["visitorId"])


def test_a_missing_account_with_stray_spaces_says_so(sandbox):
    client = pn.connect(sandbox=sandbox)
    real = client.aggregate([{"source": {"accounts": None}}, {"limit": 1}])["accountId"][0]
    with pytest.raises(NotFoundError) as missing:
        client.account(f" {real.upper()} ")
    hint = missing.value.hint
    assert f"no account has the id ' {real.upper()} '" in hint
    assert "starts or ends with a space" in hint
    assert f'contains(toLowerCase(accountId), "{real.lower()}")' in hint
    assert "pendo_nb.widgets.AccountLookup()" in hint
    assert client.account(real)["id"][0] == real  # the exact id works


def test_an_id_with_quotes_gives_a_search_that_still_parses(sandbox):
    client = pn.connect(sandbox=sandbox)
    with pytest.raises(NotFoundError) as missing:
        client.visitor('say "hi"\\')
    search = missing.value.hint.split("filter(", 1)[1].split(").run()", 1)[0]
    expression = ast.literal_eval(search)
    assert expression == 'contains(toLowerCase(visitorId), "say hi")'
    assert pn.source.visitors().filter(expression).run(client=client).empty
