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
:class:`~pendo_nb.errors.SnapshotError` saying which.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from pendo_nb.errors import NotRecordedError, SnapshotError

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


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Open a snapshot and check it whole (format, version, every body's checksum)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise SnapshotError(f"no snapshot file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _manifest(archive, name)
            answers = {}
            for entry in manifest["entries"]:
                answer = _answer(archive, entry, name)
                answers[answer.key] = answer
    except (zipfile.BadZipFile, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise SnapshotError(
            f"{name} is not a readable pendo_nb snapshot (truncated or damaged: {exc}); "
            "record it again"
        ) from None
    return Snapshot(path, manifest, answers)


def _manifest(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    try:
        manifest = orjson.loads(archive.read(MANIFEST))
    except KeyError:
        raise SnapshotError(f"{name} has no {MANIFEST}: it is not a pendo_nb snapshot") from None
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


def _answer(archive: zipfile.ZipFile, entry: Any, name: str) -> RecordedAnswer:
    try:
        member, key = entry["member"], entry["key"]
        content = gzip.decompress(archive.read(member))
        expected = entry["sha256"]
        recorded_at = datetime.fromisoformat(entry["recorded_at"])
        answer = RecordedAnswer(
            key=key,
            method=str(entry["method"]),
            path=str(entry["path"]),
            params=dict(entry.get("params") or {}),
            request=entry.get("request"),
            status=int(entry["status"]),
            content_type=str(entry.get("content_type") or ""),
            content=content,
            recorded_at=recorded_at,
        )
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
