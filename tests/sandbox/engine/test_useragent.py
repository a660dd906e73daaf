"""User-agent parsing for the ``useragent`` step: browser, major.minor version, system."""

from __future__ import annotations

import pytest

from pendo_nb.sandbox.engine.useragent import parse_user_agent

WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {WEBKIT} Chrome/119.0.0.0 Safari/537.36 "
         "Edg/119.0.2151.58", ("Edge", "119.0", "Windows")),
        (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {WEBKIT} Chrome/120.0.0.0 "
         "Safari/537.36", ("Chrome", "120.0", "Mac OS X")),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.1 Safari/605.1.15", ("Safari", "17.1", "Mac OS X")),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0",
         ("Firefox", "119.0", "Linux")),
        (f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {WEBKIT} Chrome/120.0.6099.43 Mobile "
         "Safari/537.36", ("Chrome", "120.0", "Android")),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", ("Safari", "17.1", "iOS")),
        ("Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko",
         ("IE", "11.0", "Windows")),
        ("AcmeProjects/4.2.0 (iPhone; iOS 17.1; Scale/3.00)", ("AcmeProjects", "4.2", "iOS")),
        ("", ("Other", "", "Other")),
        ("curl/8.4.0", ("curl", "8.4", "Other")),
    ],
)  # fmt: skip
def test_parse_user_agent(agent, expected):
    assert parse_user_agent(agent) == dict(zip(("name", "version", "os"), expected, strict=True))
