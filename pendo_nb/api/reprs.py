"""How a client and its cache show in a notebook: which kind of connection, sizes for people.

A client is one of four kinds, and a reader of a notebook should see which at a glance:
*replay* (answers from a snapshot file, ``client.replaying``), *local* (answers from a local
extract, ``client.local_extract``), *sandbox* (the offline demo
server, marked by :func:`pendo_nb.connect` when it starts or is given one) or *live* (Pendo).
Knowing "sandbox" from the client's own settings (a loopback host, the demo key) would guess:
a proxy may sit on loopback, and a sandbox may be started with another key; ``connect`` knows.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

from pendo_nb.http.session import CacheInfo

#: Background and text colours of each kind's badge.
_KIND_COLOURS = {
    "live": ("#fdecea", "#b71c1c"),
    "sandbox": ("#e8f5e9", "#1b5e20"),
    "replay": ("#e3f2fd", "#0d47a1"),
    "local": ("#fff8e1", "#8d6e00"),
}


def connection_kind(client: Any) -> str:
    """``"replay"``, ``"local"`` (an extract), ``"sandbox"`` or ``"live"``."""
    if client.replaying is not None:
        return "replay"
    if client.local_extract is not None:
        return "local"
    return "sandbox" if client.is_sandbox else "live"


def human_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KB"`` (powers of 1024); ``None`` -> ``"—"``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _badge(kind: str) -> str:
    background, colour = _KIND_COLOURS[kind]
    return (
        f"<span class='pendo-nb-kind' style='background:{background};color:{colour};"
        f"border-radius:8px;padding:1px 8px;font-weight:bold'>{kind}</span>"
    )


def _table(title: str, kind: str, rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(name)}</th>"
        f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return (
        "<div class='pendo-nb-summary' style='border:1px solid #ddd;border-radius:6px;"
        f"padding:6px 10px;display:inline-block'><b>{html.escape(title)}</b> {_badge(kind)}"
        f"<table style='margin-top:4px'>{cells}</table></div>"
    )


def client_html(client: Any) -> str:
    """The client as a small card: its kind, then host and key (masked) or its snapshot."""
    kind = connection_kind(client)
    if kind == "replay":
        rows = [("snapshot", client.replaying.name), ("writes", "refused (a replay)")]
    elif kind == "local":
        rows = [("extract", str(client.local_extract)), ("writes", "refused (an extract)")]
    else:
        rows = [("host", client.host), ("region", client.region or "custom")]
        if client.recording is not None:
            rows.append(("recording into", client.recording.name))
    return _table(type(client).__name__, kind, rows)


@dataclasses.dataclass(frozen=True)
class CacheSummary(CacheInfo):
    """:class:`CacheInfo` of one client, with the client's kind and a readable size."""

    kind: str = "live"

    @property
    def size(self) -> str:
        """``size_bytes`` for people: ``"1.5 MB"``."""
        return human_size(self.size_bytes)

    def _repr_html_(self) -> str:
        if not self.enabled:
            return _table("Cache", self.kind, [("cache", "off")])
        return _table(
            "Cache",
            self.kind,
            [
                ("answers", f"{self.entries:,}"),
                ("size", self.size),
                ("hits / misses", f"{self.hits:,} / {self.misses:,}"),
                ("file", self.location or "—"),
            ],
        )
