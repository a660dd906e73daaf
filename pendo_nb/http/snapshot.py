"""Snapshot files: the answers a session used, kept so a notebook replays without key or network.

A snapshot (``review.pendo``) is a ZIP archive:

``snapshot.json``
    The manifest: ``format`` (``"pendo_nb-snapshot"``), ``version`` (:data:`FORMAT_VERSION`),
    ``created_by``, ``recorded_at``, ``pseudonymized``, ``summary`` and one entry per answer:
    ``key`` (a hash of the request), ``method``, ``path`` (under ``/api/v1``), ``params``,
    ``request`` (the JSON body sent, or null), ``status``, ``content_type``, ``bytes``,
    ``sha256`` (of the body), ``member`` and ``recorded_at``.
``answers/<key>.gz``
    Each answer's body, gzip-compressed.

Nothing in it identifies the subscriber: no key, no host, no request or response headers.
Requests are matched by :func:`request_key`, which hashes the method, the API path, the query
and the body as sent, so an answer is found whatever host the notebook later talks to.
A file is checked whole when it is opened: a truncated, altered or newer-format file raises
:class:`~pendo_nb.errors.SnapshotError` saying which. It may come from anyone, so it is opened
within limits (:mod:`pendo_nb.http.untrusted_files`): a crafted file is refused before it can
cost more memory than its manifest declares, and nothing in it is evaluated or unpickled.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from pendo_nb.errors import NotRecordedError, SnapshotError
from pendo_nb.http.untrusted_files import (
    SizeBudget,
    file_limits,
    inflate_gzip_declared,
    open_zip,
    read_declared,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "RecordedAnswer",
    "Snapshot",
    "read_snapshot",
    "request_key",
    "write_snapshot",
]

FORMAT = "pendo_nb-snapshot"
#: Raised whenever the layout changes; files of a higher version are refused, never guessed at.
FORMAT_VERSION = 1
MANIFEST = "snapshot.json"
# A manifest becomes Python objects when parsed, up to 20 times its size (a dict takes ~200
# bytes, ``{"a":1}`` seven), so it is capped by the answers the file holds (an entry takes ~1 KB,
# its request a few KB at most), and so is its count of objects and lists (~10 per entry).
#: Largest manifest read, whatever the file holds (it counts toward the overall limit too).
MAX_MANIFEST_BYTES = 16 << 20
_MANIFEST_BYTES_BASE, _MANIFEST_BYTES_PER_ANSWER = 1 << 20, 64 << 10
_CONTAINERS_BASE, _CONTAINERS_PER_ANSWER = 4096, 64
_ANSWER_MEMBER = re.compile(r"answers/[0-9a-f]{64}\.gz")


def request_key(
    method: str, path: str, params: Mapping[str, Any] | None, body: bytes | None
) -> str:
    """The hash that matches a replayed request to its recorded answer.

    ``path`` is the path under ``/api/v1``; the query is taken in sorted order and the body as
    the exact bytes sent (bodies are written with sorted keys, so equal requests agree).
    """
    query = urlencode(sorted((str(k), str(v)) for k, v in (params or {}).items()))
    digest = hashlib.sha256(f"{method.upper()} {path}?{query}\n".encode())
    digest.update(body or b"")
    return digest.hexdigest()


@dataclass(frozen=True)
class RecordedAnswer:
    """One answer as recorded: what the server said to one request."""

    key: str
    method: str
    path: str
    params: dict[str, Any]
    request: Any
    status: int
    content_type: str
    content: bytes
    recorded_at: datetime

    def manifest_entry(self) -> dict[str, Any]:
        """The answer's line in the manifest (its body goes in its own member)."""
        return {
            "key": self.key,
            "method": self.method,
            "path": self.path,
            "params": self.params,
            "request": self.request,
            "status": self.status,
            "content_type": self.content_type,
            "bytes": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "member": f"answers/{self.key}.gz",
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class Snapshot:
    """A snapshot file, read and checked: its manifest and its answers by request key."""

    path: Path
    manifest: dict[str, Any]
    answers: dict[str, RecordedAnswer]

    def answer(self, key: str, *, method: str, path: str) -> RecordedAnswer:
        """The recorded answer to a request; :class:`NotRecordedError` naming it if none."""
        try:
            return self.answers[key]
        except KeyError:
            raise NotRecordedError(
                f"{method} {path} was not recorded in {self.path.name}: the notebook asked for "
                "something the recording session did not. Record it again against a live "
                f"subscription or the sandbox: pn.connect(..., record={str(self.path)!r}) and run "
                "the whole notebook",
                method=method,
                path=path,
            ) from None


def read_snapshot(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Snapshot:
    """Open a snapshot and check it whole (layout, format, version, sizes, every checksum).

    A snapshot comes from someone else, so it is read as untrusted input
    (:mod:`pendo_nb.http.untrusted_files`): its member names and count are checked before
    anything is unpacked, the sizes its manifest declares must fit ``max_bytes`` together, and
    each answer is inflated streaming and refused as soon as it outgrows its declared size.
    Opening one costs memory in proportion to what its manifest declares. Nothing in it is
    evaluated or unpickled: the manifest is JSON, the answers bytes.

    ``max_bytes``: see :func:`~pendo_nb.http.untrusted_files.file_limits` (None: the
    ``PENDO_NB_MAX_FILE_BYTES`` environment variable, else 1 GiB).
    """
    path = Path(path)
    name = path.name
    limits = file_limits(max_bytes)
    if not path.is_file():
        raise SnapshotError(f"no snapshot file at {path}")
    try:
        with open_zip(path, kind="pendo_nb snapshot", limits=limits) as archive:
            members = {info.filename: info for info in archive.infolist()}
            _check_layout(members, name)
            budget = SizeBudget(limits, file=name)
            manifest = _manifest(archive, members, budget, name)
            entries = _entries(manifest, members, budget, name)
            answers = {}
            for entry in entries:
                answer = _answer(archive, entry, name)
                answers[answer.key] = answer
    # What zipfile and zlib raise on a damaged or crafted archive (a bad deflate stream, a name
    # that is not the UTF-8 it claims...): all of it means the same to the user.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise SnapshotError(
            f"{name} is not a readable pendo_nb snapshot (truncated or damaged: {exc}); "
            "record it again"
        ) from None
    return Snapshot(path, manifest, answers)


def _check_layout(members: Mapping[str, zipfile.ZipInfo], name: str) -> None:
    """Only the manifest and ``answers/<key>.gz`` members: nothing nested, nothing else."""
    for member in members:
        if member != MANIFEST and not _ANSWER_MEMBER.fullmatch(member):
            raise SnapshotError(
                f"{name} holds a member {member!r} that is not part of a pendo_nb snapshot "
                f"(only {MANIFEST} and answers/<key>.gz): refused unopened"
            )


def _manifest(
    archive: zipfile.ZipFile,
    members: Mapping[str, zipfile.ZipInfo],
    budget: SizeBudget,
    name: str,
) -> dict[str, Any]:
    info = members.get(MANIFEST)
    if info is None:
        raise SnapshotError(f"{name} has no {MANIFEST}: it is not a pendo_nb snapshot")
    answers = len(members) - 1
    most = min(MAX_MANIFEST_BYTES, _MANIFEST_BYTES_BASE + answers * _MANIFEST_BYTES_PER_ANSWER)
    if info.file_size > most:
        raise SnapshotError(
            f"{name}: its {MANIFEST} declares {info.file_size:,} bytes (for {answers:,} answers "
            f"a manifest takes at most {most:,}): refused unopened"
        )
    budget.claim(info.file_size, MANIFEST)
    with archive.open(info) as stream:
        text = read_declared(stream, info.file_size, what=MANIFEST, file=name)
    # Counted in the text, strings included (an overcount), before the parser builds them.
    containers = text.count(b"{") + text.count(b"[")
    if containers > _CONTAINERS_BASE + answers * _CONTAINERS_PER_ANSWER:
        raise SnapshotError(
            f"{name}: its {MANIFEST} holds {containers:,} objects and lists, far more than "
            f"{answers:,} answers need: refused unparsed"
        )
    try:
        manifest = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"{name}: its {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{name} is not a pendo_nb snapshot (no 'format': {FORMAT!r})")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise SnapshotError(f"{name}: format version {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"{name} was written by a newer pendo_nb (snapshot format {version}; this one reads "
            f"up to {FORMAT_VERSION}): upgrade pendo_nb to replay it"
        )
    if not isinstance(manifest.get("entries"), list):
        raise SnapshotError(f"{name}: its manifest lists no entries")
    return manifest


def _entries(
    manifest: dict[str, Any],
    members: Mapping[str, zipfile.ZipInfo],
    budget: SizeBudget,
    name: str,
) -> list[dict[str, Any]]:
    """The manifest's entries, each naming one answer member, their sizes within the budget:
    all checked before any answer is inflated."""
    entries: list[dict[str, Any]] = manifest["entries"]
    listed: set[str] = set()
    for entry in entries:
        member = entry.get("member") if isinstance(entry, dict) else None
        if not isinstance(member, str) or member != f"answers/{entry.get('key')}.gz":
            raise SnapshotError(f"{name}: a manifest entry names no answer member ({member!r})")
        if member in listed:
            raise SnapshotError(f"{name}: its manifest lists {member} twice")
        listed.add(member)
        if member not in members:
            raise SnapshotError(f"{name}: its manifest lists {member}, which the file lacks")
        size = budget.claim(entry.get("bytes"), member)
        if members[member].file_size > _gzip_bound(size):
            raise SnapshotError(
                f"{name}: {member} takes {members[member].file_size:,} bytes compressed, more "
                f"than {size:,} bytes of content could need: refused unopened"
            )
    unlisted = set(members) - listed - {MANIFEST}
    if unlisted:
        raise SnapshotError(
            f"{name} holds {len(unlisted):,} member(s) its manifest does not list, e.g. "
            f"{min(unlisted)}: refused unopened"
        )
    return entries


def _gzip_bound(size: int) -> int:
    """The most bytes gzip can take for ``size`` bytes (incompressible data in stored blocks,
    header and trailer), with room to spare."""
    return size + size // 1024 + 1024


def _answer(archive: zipfile.ZipFile, entry: dict[str, Any], name: str) -> RecordedAnswer:
    member = entry["member"]
    with archive.open(member) as stream:
        content = inflate_gzip_declared(stream, entry["bytes"], what=member, file=name)
    try:
        answer = RecordedAnswer(
            key=entry["key"],
            method=str(entry["method"]),
            path=str(entry["path"]),
            params=dict(entry.get("params") or {}),
            request=entry.get("request"),
            status=int(entry["status"]),
            content_type=str(entry.get("content_type") or ""),
            content=content,
            recorded_at=datetime.fromisoformat(entry["recorded_at"]),
        )
        expected = entry["sha256"]
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{name}: a manifest entry is incomplete ({exc!r})") from None
    if hashlib.sha256(content).hexdigest() != expected:
        raise SnapshotError(
            f"{name}: the answer to {answer.method} {answer.path} does not match its checksum "
            "(the file was altered after recording); record it again"
        )
    return answer


def write_snapshot(
    path: str | os.PathLike[str],
    answers: Iterable[RecordedAnswer],
    *,
    created_by: str,
    pseudonymized: bool,
    summary: Mapping[str, Any],
    compressed: Mapping[str, bytes],
) -> None:
    """Write a snapshot atomically: to a temporary file beside it, then renamed over it.

    ``compressed`` holds each answer's body already gzip-compressed, by key, so saving again
    after each new answer does not compress the earlier ones again.
    """
    path = Path(path)
    answers = list(answers)
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_by": created_by,
        "recorded_at": datetime.now(UTC).isoformat(),
        "pseudonymized": pseudonymized,
        "summary": dict(summary),
        "entries": [answer.manifest_entry() for answer in answers],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            archive.writestr(MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            for answer in answers:
                # Bodies are gzip members already: stored as they are, not compressed twice.
                archive.writestr(f"answers/{answer.key}.gz", compressed[answer.key])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
