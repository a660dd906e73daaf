"""How a client and its cache show in a notebook: live, sandbox or replay; readable sizes."""

from __future__ import annotations

import pendo_nb as pn
from pendo_nb.api.reprs import human_size


def test_sizes_read_as_people_write_them():
    assert [human_size(n) for n in (None, 0, 1023, 1536, 53_305_784, 3 * 1024**4)] == [
        "—", "0 bytes", "1023 bytes", "1.5 KB", "50.8 MB", "3072.0 GB",
    ]  # fmt: skip


def test_a_sandbox_client_says_sandbox(sandbox, tmp_path):
    client = pn.connect(sandbox=sandbox, cache=tmp_path / "cache.sqlite")
    assert client.is_sandbox
    assert "sandbox</span>" in client._repr_html_() and sandbox.key not in client._repr_html_()
    pn.aggregate([{"source": {"visitors": None}}, {"limit": 2}])
    info = pn.cache_info()
    assert info.kind == "sandbox" and info.entries >= 1
    assert info.size.endswith(("KB", "MB")) and f"<td style='text-align:left'>{info.size}" in (
        info._repr_html_()
    )


def test_a_client_made_with_a_key_and_host_says_live(sandbox):
    # The same loopback server, reached as any other host: connect(sandbox=...) was not used.
    client = pn.connect(key=sandbox.key, base_url=sandbox.url, cache=False)
    assert not client.is_sandbox
    assert "live</span>" in client._repr_html_()
    assert "<td style='text-align:left'>off</td>" in pn.cache_info()._repr_html_()


def test_a_replay_says_replay_and_names_its_snapshot(sandbox, tmp_path):
    path = tmp_path / "review.pendo"
    pn.connect(sandbox=sandbox, record=path, cache=False)
    pn.aggregate([{"source": {"visitors": None}}, {"limit": 1}])
    html = pn.connect(replay=path)._repr_html_()
    assert "replay</span>" in html and "review.pendo" in html
    assert pn.cache_info().kind == "replay"
