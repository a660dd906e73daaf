"""Reading a file that came from someone else (a snapshot, an extract), within declared limits.

A shared file is opened by everyone who runs the notebook, on Binder and in CI, so it is
untrusted input: a few kilobytes can unpack to gigabytes (a decompression bomb), lie about its
sizes, hold thousands of members, or name them ``../../.ssh/config``. The rules here make the
cost of opening a file of any shape proportional to what it *declares*, and refuse it with a
:class:`~pendo_nb.errors.SnapshotError` the moment it does more:

- names, counts and nesting of the members are checked before anything is inflated
  (:func:`check_member_names`, and :func:`open_zip` for a ZIP archive, which reads the
  archive's directory only after checking its size);
- the sizes a manifest declares are added up and refused past the overall limit before anything
  is inflated (:class:`SizeBudget`);
- each member is read streaming, in chunks, and refused as soon as it yields more than its
  declared size (:func:`read_declared`, :func:`inflate_gzip_declared`); fewer bytes than
  declared are refused too, so a manifest that lies either way is caught.

The overall limit is :data:`MAX_FILE_BYTES` (1 GiB of unpacked content), overridden by the
environment variable :data:`MAX_FILE_BYTES_VARIABLE` (``PENDO_NB_MAX_FILE_BYTES``, a number of
bytes, optionally with a unit: ``"4GiB"``, ``"500MB"``) and by a ``max_bytes=`` argument where a
public function takes one (:func:`pendo_nb.snapshot_info`). See :func:`file_limits`.

Nothing read here is ever evaluated or unpickled: members are bytes, JSON (orjson) or gzip.

An extract (a folder of Parquet files and a manifest) is checked by :func:`check_folder` before
any of its files is opened: the same name rules, the same budget for the sizes its manifest
declares, each file exactly its declared size on disk, no links, nothing undeclared.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pendo_nb._checks import positive_int
from pendo_nb.errors import ConfigurationError, SnapshotError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_FILE_BYTES_VARIABLE",
    "MAX_MEMBERS",
    "MAX_NAME_CHARS",
    "FileLimits",
    "SizeBudget",
    "check_folder",
    "check_member_names",
    "file_limits",
    "inflate_gzip_declared",
    "open_zip",
    "read_declared",
]

#: Everything a shared file's members unpack to, together, unless set otherwise (bytes).
MAX_FILE_BYTES = 1 << 30
#: The environment variable that sets the overall limit (bytes, or with a unit: ``"4GiB"``).
MAX_FILE_BYTES_VARIABLE = "PENDO_NB_MAX_FILE_BYTES"
#: Members one file may hold (a snapshot holds one per recorded answer, plus its manifest).
MAX_MEMBERS = 10_000
#: Longest member name (a snapshot's are 75 characters), and most parts (folders and file) in one.
MAX_NAME_CHARS = 255
MAX_DEPTH = 4

#: Bytes read at a time: what one step of a streamed read holds besides its output.
CHUNK_BYTES = 1 << 16

# "2000000000", "2GB", "2 GiB", "500m": decimal units, or binary with an "i".
_SIZE = re.compile(r"(\d+)\s*(?:([kmgt])(i?)b?)?", re.IGNORECASE)


@dataclass(frozen=True)
class FileLimits:
    """What one shared file may hold: unpacked bytes in all, members, name length, depth."""

    max_bytes: int = MAX_FILE_BYTES
    max_members: int = MAX_MEMBERS
    max_name_chars: int = MAX_NAME_CHARS
    max_depth: int = MAX_DEPTH


def file_limits(max_bytes: int | None = None) -> FileLimits:
    """The limits for opening a shared file: ``max_bytes`` if given, else the environment's.

    Parameters
    ----------
    max_bytes : int, optional
        Everything the file's members may unpack to, together, in bytes. When None:
        ``PENDO_NB_MAX_FILE_BYTES`` if set, else :data:`MAX_FILE_BYTES` (1 GiB).

    Returns
    -------
    FileLimits

    Raises
    ------
    ValidationError
        ``max_bytes`` is not a positive whole number.
    ConfigurationError
        ``PENDO_NB_MAX_FILE_BYTES`` is not a size.

    Examples
    --------
    >>> file_limits(50_000_000).max_bytes
    50000000
    """
    if max_bytes is not None:
        return FileLimits(max_bytes=positive_int(max_bytes, "max_bytes"))
    text = os.environ.get(MAX_FILE_BYTES_VARIABLE, "").strip()
    if not text:
        return FileLimits()
    match = _SIZE.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        raise ConfigurationError(
            f"{MAX_FILE_BYTES_VARIABLE}={text!r} is not a size: give bytes, e.g. 2000000000, "
            "or a number with a unit, e.g. 2GB or 2GiB"
        )
    number, unit, binary = match.groups()
    power = "kmgt".index(unit.lower()) + 1 if unit else 0
    return FileLimits(max_bytes=int(number) * (1024 if binary else 1000) ** power)


def check_member_names(names: Iterable[str], *, file: str, limits: FileLimits) -> None:
    """Refuse a file whose member names are not short, plain relative paths, or too many.

    A name must be relative (no leading ``/``, no drive), use ``/`` only, hold no NUL or other
    control character, no empty, ``.`` or ``..`` part, be at most ``limits.max_name_chars``
    long and ``limits.max_depth`` parts deep; no name may appear twice.

    Parameters
    ----------
    names : iterable of str
        The members' names as stored (for a ZIP, ``ZipInfo.orig_filename``: zipfile cuts a
        name at its first NUL).
    file : str
        The file's name, for the messages.
    limits : FileLimits

    Raises
    ------
    SnapshotError
        Naming the first offending member and what is wrong with it.
    """
    seen: set[str] = set()
    for name in names:
        if len(seen) >= limits.max_members:
            raise SnapshotError(
                f"{file} holds more than {limits.max_members:,} members: refused unopened"
            )
        problem = _name_problem(name, limits)
        if problem is None and name in seen:
            problem = "appears twice"
        if problem is not None:
            shown = name if len(name) <= 80 else f"{name[:80]}…"
            raise SnapshotError(
                f"{file} holds a member named {shown!r}, which {problem}: refused unopened "
                "(a shared file's members are plain relative paths)"
            )
        seen.add(name)


def _name_problem(name: str, limits: FileLimits) -> str | None:
    if not name:
        return "is empty"
    if len(name) > limits.max_name_chars:
        return f"is {len(name):,} characters long (at most {limits.max_name_chars})"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "holds a NUL or another control character"
    if "\\" in name:
        return "holds a backslash"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "is an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return "has an empty, '.' or '..' part"
    if len(parts) > limits.max_depth:
        return f"is {len(parts)} levels deep (at most {limits.max_depth})"
    return None


class SizeBudget:
    """The overall limit, spent by the sizes a file declares before anything is read.

    Examples
    --------
    >>> budget = SizeBudget(FileLimits(max_bytes=100), file="review.pendo")
    >>> budget.claim(60, "the manifest")
    60
    >>> budget.claim(60, "answers/1.gz")
    Traceback (most recent call last):
    ...
    pendo_nb.errors.SnapshotError: review.pendo declares more than 100 bytes ...
    """

    def __init__(self, limits: FileLimits, *, file: str) -> None:
        self.limits = limits
        self.file = file
        self.claimed = 0

    def claim(self, size: object, what: str) -> int:
        """Add ``size`` declared bytes for ``what`` and return it; refuse a size that is not a
        whole number of bytes, and the file past the limit."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise SnapshotError(f"{self.file}: {what} declares a size of {size!r} bytes")
        self.claimed += size
        if self.claimed > self.limits.max_bytes:
            raise SnapshotError(
                f"{self.file} declares more than {self.limits.max_bytes:,} bytes of content "
                f"(reached at {what}): refused unopened. If you trust the file, raise the limit "
                f"with max_bytes= or the environment variable {MAX_FILE_BYTES_VARIABLE}"
            )
        return size


def check_folder(
    root: Path, declared: Mapping[str, int], *, limits: FileLimits, unsized: Iterable[str] = ()
) -> None:
    """Check a folder from someone else (an extract) before any of its files is opened.

    The folder must hold exactly the files ``declared`` (by path relative to ``root``, with
    ``/``) and ``unsized`` (its manifest, read separately with a cap), each a regular file of
    exactly its declared size, no links; the names follow :func:`check_member_names` and the
    declared sizes fit ``limits.max_bytes`` together. Only names and sizes are read here
    (``os.walk`` and ``lstat``), never a file's content.

    Parameters
    ----------
    root : Path
        The folder.
    declared : mapping of str to int
        Every file its manifest lists, with its size in bytes.
    limits : FileLimits
    unsized : iterable of str
        Files allowed without a declared size (the manifest itself).

    Raises
    ------
    SnapshotError
        Saying which file breaks which rule.
    """
    name = root.name
    expected: dict[str, int | None] = {**dict.fromkeys(unsized), **declared}
    check_member_names(expected, file=name, limits=limits)
    budget = SizeBudget(limits, file=name)
    for member, size in declared.items():
        budget.claim(size, member)
    if root.is_symlink() or not root.is_dir():
        raise SnapshotError(f"no folder at {root}")
    found = 0
    for folder, folders, files in os.walk(root):
        for entry in sorted(folders + files):
            path = Path(folder, entry)
            member = path.relative_to(root).as_posix()
            found += 1
            if found > limits.max_members:
                raise SnapshotError(f"{name} holds more than {limits.max_members:,} entries")
            status = path.lstat()  # the link itself, never what it points to
            if stat.S_ISDIR(status.st_mode):
                continue
            if not stat.S_ISREG(status.st_mode):
                raise SnapshotError(f"{name}: {member} is a link or a special file, not a file")
            if member not in expected:
                raise SnapshotError(f"{name} holds {member}, which its manifest does not list")
            wanted = expected.pop(member)
            if wanted is not None and status.st_size != wanted:
                raise _not_as_declared(member, name, wanted, status.st_size)
    if expected:
        raise SnapshotError(f"{name}: its manifest lists {min(expected)}, which the folder lacks")


# The end of a ZIP archive (its "end of central directory" record) and the record that would
# announce a ZIP64 directory before it.
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
# A directory entry is 46 bytes plus its name, extra field and comment: with names capped,
# this bounds what zipfile reads and builds for the directory, whatever the archive claims.
_DIRECTORY_ENTRY_BYTES = 46 + 1024


def open_zip(path: Path, *, kind: str, limits: FileLimits) -> zipfile.ZipFile:
    """Open a ZIP archive from someone else once its directory is checked.

    Before zipfile reads the directory, its size and entry count (in the archive's last record)
    are checked against ``limits``: an archive with a comment or a ZIP64 directory is refused
    (pendo_nb writes neither, and they are how a directory hides its size). Then every entry's
    name is checked (:func:`check_member_names`), and each must be stored or deflated, not
    encrypted, and declare at most ``limits.max_bytes``.

    Parameters
    ----------
    path : Path
        The archive.
    kind : str
        What it should be, for the messages (``"pendo_nb snapshot"``).
    limits : FileLimits

    Returns
    -------
    zipfile.ZipFile
        Open: the caller closes it (``with open_zip(...) as archive``).

    Raises
    ------
    SnapshotError
        The archive is damaged, or breaks one of the rules, saying which.
    """
    name = path.name
    damaged = SnapshotError(
        f"{name} is not a readable {kind} (truncated or damaged: it does not end like a ZIP "
        "archive written by pendo_nb)"
    )
    with path.open("rb") as raw:
        size = raw.seek(0, os.SEEK_END)
        if size < _END.size:
            raise damaged
        raw.seek(max(0, size - _END.size - _ZIP64_LOCATOR_SIZE))
        tail = raw.read()
    end = tail[-_END.size :]
    signature, _, _, _, entries, directory_bytes, _, comment = _END.unpack(end)
    if signature != _END_SIGNATURE or comment:
        raise damaged
    if tail[: -_END.size].startswith(_ZIP64_LOCATOR):
        raise SnapshotError(f"{name} has a ZIP64 directory, which pendo_nb never writes")
    if entries > limits.max_members:
        raise SnapshotError(
            f"{name} holds {entries:,} members (at most {limits.max_members:,}): refused unopened"
        )
    if directory_bytes > (entries + 1) * _DIRECTORY_ENTRY_BYTES:
        raise SnapshotError(
            f"{name}: its directory takes {directory_bytes:,} bytes for {entries:,} members: "
            "refused unopened"
        )
    archive = zipfile.ZipFile(path)
    try:
        infos = archive.infolist()
        check_member_names((info.orig_filename for info in infos), file=name, limits=limits)
        for info in infos:
            _check_entry(info, name, limits)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_entry(info: zipfile.ZipInfo, file: str, limits: FileLimits) -> None:
    if info.flag_bits & 0x1:
        raise SnapshotError(f"{file}: member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SnapshotError(
            f"{file}: member {info.filename!r} uses compression method {info.compress_type}, "
            "not one pendo_nb writes (stored or deflated)"
        )
    if info.file_size > limits.max_bytes:
        raise SnapshotError(
            f"{file}: member {info.filename!r} declares {info.file_size:,} bytes, more than the "
            f"{limits.max_bytes:,} a shared file may hold: refused unopened. If you trust the "
            f"file, raise the limit with max_bytes= or {MAX_FILE_BYTES_VARIABLE}"
        )


def read_declared(stream: IO[bytes], size: int, *, what: str, file: str) -> bytes:
    """Read ``stream`` to its end, which must come after exactly ``size`` bytes.

    Reads in chunks and stops at ``size + 1`` bytes: a member longer than declared costs no
    more memory than its declaration.

    Parameters
    ----------
    stream : binary file
        A ZIP member (``archive.open(...)``), a file on disk...
    size : int
        The size its manifest declares.
    what, file : str
        The member and the file, for the messages.

    Returns
    -------
    bytes

    Raises
    ------
    SnapshotError
        The stream holds more or fewer bytes than declared.
    """
    chunks: list[bytes] = []
    held = 0
    while held <= size:
        chunk = stream.read(min(CHUNK_BYTES, size + 1 - held))
        if not chunk:
            break
        chunks.append(chunk)
        held += len(chunk)
    if held != size:
        raise _not_as_declared(what, file, size, held)
    return b"".join(chunks)


def inflate_gzip_declared(stream: IO[bytes], size: int, *, what: str, file: str) -> bytes:
    """Inflate one gzip stream that must unpack to exactly ``size`` bytes.

    The compressed bytes are read in chunks and inflated at most ``size + 1`` bytes at a time,
    so a gzip bomb is refused after one byte more than its declaration, whatever it would
    unpack to. Data after the gzip stream (another gzip member, padding) is refused too.

    Parameters
    ----------
    stream : binary file
        The compressed bytes (a ZIP member).
    size : int
        The size its manifest declares, unpacked.
    what, file : str
        The member and the file, for the messages.

    Returns
    -------
    bytes
        The unpacked content.

    Raises
    ------
    SnapshotError
        Damaged, truncated, longer or shorter than declared, or followed by more data.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
    chunks: list[bytes] = []
    held = 0
    try:
        while not inflater.eof:
            data = inflater.unconsumed_tail or stream.read(CHUNK_BYTES)
            if not data:
                raise SnapshotError(f"{file}: {what} ends before its gzip stream does (truncated)")
            # max_length 0 would mean "no limit": the check below keeps it at 1 or more.
            chunk = inflater.decompress(data, size + 1 - held)
            chunks.append(chunk)
            held += len(chunk)
            if held > size:
                raise _not_as_declared(what, file, size, held)
    except zlib.error as exc:
        raise SnapshotError(f"{file}: {what} is not a whole gzip stream ({exc})") from None
    if inflater.unused_data or stream.read(1):
        raise SnapshotError(f"{file}: {what} holds more data after its gzip stream")
    if held != size:
        raise _not_as_declared(what, file, size, held)
    return b"".join(chunks)


def _not_as_declared(what: str, file: str, size: int, held: int) -> SnapshotError:
    amount = f"more than {size:,}" if held > size else f"{held:,}"
    return SnapshotError(
        f"{file}: {what} holds {amount} bytes where its manifest declares {size:,}: "
        "refused (the file was altered or crafted)"
    )
