"""The HTTP cache file on disk: owner-only folders, and a file that is ours and sound, or set aside.

A cache file is opened only if it is a regular file owned by this user, not writable by anyone
else, and a readable SQLite database (or empty, which SQLite takes as a new one). Anything else
(a file another user planted, one left writable to others, garbage, a damaged database, one this
user cannot read) is renamed to ``<name>.set-aside-<time>`` with a :class:`RuntimeWarning`, and a
new file is made in its place: the call goes on without the old answers instead of failing. If
even that is impossible (a folder this user cannot write to), the client runs without a cache.

The file is switched to write-ahead logging here, before any session opens it, retrying while
another client holds it. SQLite answers "database is locked" at once, without waiting, to a
connection that switches the journal mode while another is creating the tables of the same new
file (a deadlock it refuses to wait on); requests-cache switches when it opens the file, so
clients opening a new cache file together (threads, or notebooks started at once) failed
now and then. A file already in WAL mode keeps it, and switching again costs nothing.

Whatever the file holds, nothing in it can run code: the session reads it with a JSON serializer
(see :mod:`pendo_nb.session`), never pickle.
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import time
import warnings
from pathlib import Path

__all__ = ["owner_only_dir", "usable_cache_file"]

_SQLITE_HEADER = b"SQLite format 3\x00"
# Companion files of a write-ahead-logged database; they move with it when it is set aside.
_COMPANIONS = ("-wal", "-shm")
#: How long to keep trying to switch a file to WAL mode while other clients hold it.
WAL_SWITCH_SECONDS = 10.0


def owner_only_dir(folder: Path, *, tighten: bool = False) -> Path:
    """Create ``folder`` and its missing parents as owner-only (0o700) directories.

    Folders that already exist keep their mode unless ``tighten`` (used for pendo_nb's own cache
    folder, never for a folder the user named) and they belong to this user.
    """
    missing = []
    for level in (folder, *folder.parents):
        if level.exists():
            break
        missing.append(level)
    for level in reversed(missing):
        try:
            level.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(level, 0o700)  # mkdir's mode is filtered by the umask
    if tighten and not missing and folder.is_dir():
        info = folder.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(folder, 0o700)
    return folder


def _problem(path: Path) -> str | None:
    """Why the existing ``path`` must not be opened as our cache, or None if it is fine."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_uid != os.geteuid():
        return f"it belongs to another user (uid {info.st_uid})"
    if stat.S_IMODE(info.st_mode) & 0o022:
        return "other users may write to it"
    try:
        with open(path, "rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not header:
        return None  # empty: SQLite makes a new database in it
    if header != _SQLITE_HEADER:
        return "it is not an SQLite database"
    try:
        # Read-only, and only the schema: cheap even for a big file, and it fails on a damaged one.
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as con:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.close()
    except sqlite3.Error as exc:
        return f"SQLite cannot read it ({exc})"
    return None


def usable_cache_file(path: Path) -> Path | None:
    """``path``, checked (and created owner-only if new); None if no cache file can be used."""
    problem = _problem(path)
    if problem is not None:
        aside = path.with_name(f"{path.name}.set-aside-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.rename(aside)
            for suffix in _COMPANIONS:
                companion = Path(f"{path}{suffix}")
                if companion.exists() or companion.is_symlink():
                    companion.rename(Path(f"{aside}{suffix}"))
        except OSError as exc:
            warnings.warn(
                f"pendo_nb: not using the cache file {path}: {problem}; it could not be set "
                f"aside ({exc.strerror or exc}), so this client runs without a cache",
                RuntimeWarning,
                stacklevel=4,
            )
            return None
        warnings.warn(
            f"pendo_nb: the cache file {path} was set aside as {aside.name} ({problem}); "
            "a new, empty cache is used instead",
            RuntimeWarning,
            stacklevel=4,
        )
    try:
        # Owner-only from the start; SQLite gives its -wal and -shm files the same mode.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        warnings.warn(
            f"pendo_nb: cannot create the cache file {path} ({exc.strerror or exc}); "
            "this client runs without a cache",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    problem = _switch_to_wal(path)
    if problem is not None:
        warnings.warn(
            f"pendo_nb: cannot use the cache file {path} ({problem}); this client runs without a "
            "cache",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    return path


def _switch_to_wal(path: Path, *, within: float = WAL_SWITCH_SECONDS) -> str | None:
    """Put ``path`` in WAL mode, retrying while other connections hold it; why not, or None."""
    deadline = time.monotonic() + within
    while True:
        try:
            # A file system without shared memory keeps the rollback journal: still a usable cache.
            with sqlite3.connect(path, timeout=within, isolation_level=None) as con:
                con.execute("PRAGMA journal_mode=WAL").fetchone()
            con.close()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                return f"SQLite cannot open it ({exc})"
            time.sleep(random.uniform(0.005, 0.02))  # jittered: the contenders do not retry in step
            continue
        return None
