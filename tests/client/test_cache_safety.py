"""The cache file on disk: JSON rows (never pickle), owner-only folders, bad files set aside."""

from __future__ import annotations

import os
import pickle
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
import responses

from pendo_nb import PendoClient
from pendo_nb.http import cache_file as cache_file_module
from pendo_nb.http.cache_file import usable_cache_file

BASE = "https://app.pendo.io/api/v1"
KEY = "aaaaaaaa-1111-2222-3333-444444444444"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{BASE}/visitor/v1", json={"id": "v1"})
        yield rsps


def client(cache) -> PendoClient:
    return PendoClient(KEY, rate_limit=None, cache=cache)


def cache_file() -> Path:
    return Path(os.environ["PENDO_NB_CACHE_DIR"]) / "http_cache.sqlite"


def set_aside(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.set-aside-*"))


class Boom:
    """A pickle payload that leaves a mark when unpickled."""

    mark: Path

    def __reduce__(self):
        return (Path.touch, (self.mark,))


def test_rows_are_json_and_a_pickle_payload_runs_nothing(mocked, tmp_path):
    c = client(True)
    assert c.get_visitor("v1").json() == {"id": "v1"}
    c.close()
    with sqlite3.connect(cache_file()) as con:
        (value,) = con.execute("SELECT value FROM responses").fetchone()
    assert bytes(value).lstrip().startswith(b"{")  # JSON, readable as text

    # Another user (or process) replaces the row with a pickle that would run code on load.
    Boom.mark = tmp_path / "pickle-ran"
    with sqlite3.connect(cache_file()) as con:
        con.execute("UPDATE responses SET value = ?", (pickle.dumps(Boom()),))
    con.close()
    again = client(True).get_visitor("v1")
    assert not Boom.mark.exists()
    # The row did not parse: a miss, fetched again from the server, and stored as JSON again.
    assert again.from_cache is False and again.json() == {"id": "v1"}
    assert len(mocked.calls) == 2


def test_a_corrupted_file_is_set_aside_with_a_warning_and_rebuilt(mocked):
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)  # a damaged database
    with pytest.warns(RuntimeWarning, match="set aside"):
        c = client(True)
    assert c.get_visitor("v1").json() == {"id": "v1"}  # the call does not fail
    assert c.get_visitor("v1").from_cache  # and the new file caches
    (aside,) = set_aside(path.parent, path.name)
    assert aside.read_bytes().startswith(b"SQLite format 3\x00")  # kept for a look, not deleted


def test_garbage_at_a_given_path_is_set_aside_too(mocked, tmp_path):
    path = tmp_path / "mine" / "c.sqlite"
    path.parent.mkdir()
    path.write_text("not a database at all")
    with pytest.warns(RuntimeWarning, match="not an SQLite database"):
        c = client(path)
    assert c.get_visitor("v1").json() == {"id": "v1"}
    assert len(set_aside(path.parent, path.name)) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_file_planted_by_another_user_is_never_opened(mocked):
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:  # a valid database, but someone else's
        con.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB)")
    con.close()
    os.chown(path, 4242, 4242)
    with pytest.warns(RuntimeWarning, match="another user"):
        c = client(True)
    assert c.get_visitor("v1").json() == {"id": "v1"}
    (aside,) = set_aside(path.parent, path.name)
    assert aside.stat().st_uid == 4242
    assert path.stat().st_uid == os.geteuid()


def test_a_file_others_may_write_to_is_set_aside(mocked):
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    path.chmod(0o666)
    with pytest.warns(RuntimeWarning, match="other users may write"):
        client(True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_when_the_file_cannot_be_set_aside_the_client_runs_uncached(mocked, tmp_path, monkeypatch):
    path = tmp_path / "c.sqlite"
    path.write_text("garbage")

    def refuse(self, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.warns(RuntimeWarning, match="without a cache"):
        c = client(path)
    assert c.get_visitor("v1").json() == {"id": "v1"}
    assert not c.get_visitor("v1").from_cache
    assert not c.cache_info().enabled


def test_cache_folders_it_makes_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(tmp_path / "a" / "b"))
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    old = os.umask(0o022)
    try:
        client(True).close()
        client(tmp_path / "x" / "y" / "c.sqlite").close()
        client(shared / "c.sqlite").close()
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "x", "x/y"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((tmp_path / "a" / "b" / "http_cache.sqlite").stat().st_mode) == 0o600
    # A folder the user named that already existed keeps its mode; the file is owner-only.
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "c.sqlite").stat().st_mode) == 0o600


def test_the_default_cache_folder_is_tightened_if_it_was_left_open(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setenv("PENDO_NB_CACHE_DIR", str(folder))
    client(True).close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_new_cache_file_is_in_wal_mode_before_any_session_opens_it(tmp_path):
    path = tmp_path / "new.sqlite"
    assert usable_cache_file(path) == path
    # Bytes 18 and 19 of an SQLite header are 2 for a write-ahead-logged database.
    assert path.read_bytes()[18:20] == b"\x02\x02"


def test_a_switch_refused_as_locked_is_tried_again(tmp_path, monkeypatch):
    """SQLite refuses a journal-mode switch at once (no busy wait) when another connection is
    creating the tables of the same new file; the switch must wait its turn, not fail."""
    refusals = []
    real_connect = sqlite3.connect

    def contended_connect(*args, **kwargs):
        connection = real_connect(*args, **kwargs)
        if len(refusals) < 3:
            refusals.append(1)
            connection.close()
            raise sqlite3.OperationalError("database is locked")
        return connection

    monkeypatch.setattr(cache_file_module.sqlite3, "connect", contended_connect)
    path = tmp_path / "contended.sqlite"
    assert usable_cache_file(path) == path
    assert len(refusals) == 3
    assert path.read_bytes()[18:20] == b"\x02\x02"


def test_a_file_that_stays_locked_leaves_the_client_uncached_with_a_warning(tmp_path, monkeypatch):
    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(cache_file_module.sqlite3, "connect", locked)
    monkeypatch.setattr(cache_file_module, "WAL_SWITCH_SECONDS", 0.05)
    with pytest.warns(RuntimeWarning, match="database is locked.*without a cache"):
        assert usable_cache_file(tmp_path / "held.sqlite") is None


def test_clients_opening_a_new_cache_file_together_all_get_it(mocked, tmp_path):
    """Eight clients created at once on a new file, round after round (the load test's start)."""
    for round_number in range(25):
        path = tmp_path / f"together-{round_number}.sqlite"
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def open_and_read(path=path, start=start, errors=errors):
            start.wait()
            try:
                opened = PendoClient(KEY, rate_limit=None, cache=path)
                opened.get_visitor("v1")
                opened.close()
            except BaseException as exc:  # every kind counts: the test reports them all
                errors.append(exc)

        threads = [threading.Thread(target=open_and_read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"round {round_number}: {errors!r}"
