"""Parsing user-agent strings for the ``useragent`` step: browser ``name``, ``version`` and ``os``.

Pendo's example reads ``userAgent.name`` and ``userAgent.version``; ``os`` is the third field its
visitor history shows (reference 2.4, 3.5). The rules cover the browsers and systems real traffic
(and the sandbox's generator) uses, and native apps that lead with their own product token;
anything else parses to ``"Other"``. Versions keep major.minor.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Browser tokens, most specific first: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/([\d.]+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/([\d.]+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/([\d.]+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/([\d.]+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/([\d.]+)")),
    ("Safari", re.compile(r"Version/([\d.]+).*Safari/")),
    ("IE", re.compile(r"(?:MSIE |Trident/.*rv:)([\d.]+)")),
)
_MOBILE_SAFARI = re.compile(r"Version/([\d.]+).*Mobile/")
# Native apps lead with their own product token ("AcmeProjects/4.2.0 (iPhone; ...)").
_APP_TOKEN = re.compile(r"^(?!Mozilla/)([A-Za-z][\w.-]*)/([\d.]+)")
# Operating systems, most specific first: Android says "Linux", iOS says "like Mac OS X".
_SYSTEMS = (
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Android", re.compile(r"Android")),
    ("Chrome OS", re.compile(r"CrOS")),
    ("Windows", re.compile(r"Windows")),
    ("Mac OS X", re.compile(r"Macintosh|Mac OS X")),
    ("Linux", re.compile(r"Linux|X11")),
)


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> dict[str, Any]:
    """The browser name, its major.minor version and the operating system of a user agent.

    Parameters
    ----------
    user_agent : str
        A raw ``User-Agent`` header.

    Returns
    -------
    dict
        ``{"name": ..., "version": ..., "os": ...}``; unknown parts are ``"Other"`` / ``""``.

    Examples
    --------
    >>> parse_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    ...                  "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36")
    {'name': 'Chrome', 'version': '119.0', 'os': 'Windows'}
    """
    name, version = "Other", ""
    for candidate, pattern in _BROWSERS:
        match = pattern.search(user_agent)
        if match:
            name, version = candidate, match.group(1)
            break
    else:
        match = _MOBILE_SAFARI.search(user_agent)
        if match:
            name, version = "Mobile Safari", match.group(1)
        elif match := _APP_TOKEN.match(user_agent):
            name, version = match.groups()
    os_name = next((os for os, pattern in _SYSTEMS if pattern.search(user_agent)), "Other")
    return {"name": name, "version": ".".join(version.split(".")[:2]), "os": os_name}
