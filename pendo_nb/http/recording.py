"""Recording a session into a snapshot file, and replaying one.

:class:`Recorder` keeps every answer a session used (pseudonymized first, if asked) and writes the
snapshot atomically: within a second of each new answer, from a background thread, and whenever
:meth:`Recorder.save` is called (``client.finish_recording()``, closing the client, exiting), so a
crash loses at most the last second and never leaves a broken file. :class:`Replayer` answers
requests from a snapshot and refuses writes.
"""

from __future__ import annotations

import atexit
import gzip
import os
import threading
import weakref
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pendo_nb.errors import SnapshotError
from pendo_nb.http.pseudonyms import Pseudonymizer
from pendo_nb.http.snapshot import RecordedAnswer, Snapshot, read_snapshot, write_snapshot

__all__ = [
    "Recorder",
    "Replayer",
    "describe_fields",
    "describe_pseudonymization",
    "describe_recording",
]

#: Seconds between a new answer and the save that includes it (saves are whole-file rewrites).
SAVE_DELAY = 1.0

# The kinds of replaced values the closing summary counts, in its order.
_KINDS = (
    "visitor ids", "account ids", "e-mail addresses", "e-mail local parts", "e-mail domains",
    "names", "account names", "texts",
)  # fmt: skip

# The recordings of this process by file, so a replay of a file still being recorded here (a
# notebook that records, then replays) first saves every answer so far.
_recording: weakref.WeakValueDictionary[Path, Recorder] = weakref.WeakValueDictionary()


def _created_by() -> str:
    try:
        return f"pendo_nb {version('pendo_nb')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "pendo_nb"


class Recorder:
    """Collects a session's answers and keeps its snapshot file up to date."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        pseudonymize: bool | str = False,
        mask: tuple[str, ...] = (),
        keep: tuple[str, ...] = (),
    ) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise SnapshotError(f"record={str(path)!r} is a folder; name a file, e.g. review.pendo")
        self.pseudonyms = (
            Pseudonymizer(mask, strict=pseudonymize == "strict", keep=keep)
            if pseudonymize or mask
            else None
        )
        self._answers: dict[str, RecordedAnswer] = {}
        self._compressed: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._dirty = False
        atexit.register(self.save)
        _recording[self.path.resolve()] = self

    def to_real(self, text: str) -> str:
        """A path or value the notebook sent, with its fake values made real for the server."""
        return self.pseudonyms.real_text(text) if self.pseudonyms else text

    def to_real_body(self, body: Any) -> Any:
        """A JSON body the notebook sent, with its fake values made real for the server."""
        return self.pseudonyms.real_value(body) if self.pseudonyms else body

    def record(
        self,
        key: str,
        *,
        method: str,
        path: str,
        params: dict[str, Any],
        request: Any,
        status: int,
        content_type: str,
        content: bytes,
    ) -> bytes:
        """Keep one answer (pseudonymized if asked) and return the body the notebook gets."""
        if self.pseudonyms is not None:
            content = self.pseudonyms.answer(content, content_type, path, request)
            path, params, request = self.pseudonyms.scrubbed([path, params, request])
        answer = RecordedAnswer(
            key=key,
            method=method,
            path=path,
            params=params,
            request=request,
            status=status,
            content_type=content_type,
            content=content,
            recorded_at=datetime.now(UTC),
        )
        compressed = gzip.compress(content, compresslevel=6, mtime=0)
        with self._lock:
            self._answers[key] = answer
            self._compressed[key] = compressed
            self._dirty = True
            if self._timer is None:
                self._timer = threading.Timer(SAVE_DELAY, self.save)
                self._timer.daemon = True
                self._timer.start()
        return content

    def summary(self) -> dict[str, Any]:
        """What the file holds and, when pseudonymizing, what was replaced."""
        with self._lock:
            answers = list(self._answers.values())
        return {
            "answers": len(answers),
            "bytes": sum(len(answer.content) for answer in answers),
            **({"replaced": self.pseudonyms.summary()} if self.pseudonyms else {}),
        }

    def save(self) -> None:
        """Write the file now if anything was recorded since the last save."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._dirty:
                return
            answers = list(self._answers.values())
            compressed = dict(self._compressed)
            self._dirty = False
        write_snapshot(
            self.path,
            answers,
            created_by=_created_by(),
            pseudonymized=self.pseudonyms is not None,
            summary=self.summary(),
            compressed=compressed,
        )

    def close(self) -> None:
        """Save, and stop saving at exit (the client is closed)."""
        self.save()
        atexit.unregister(self.save)


class Replayer:
    """Answers a session's requests from a snapshot; refuses writes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        recorder = _recording.get(Path(path).resolve())
        if recorder is not None:
            recorder.save()
        self.snapshot: Snapshot = read_snapshot(path)
        self.path = self.snapshot.path

    def answer(self, key: str, *, method: str, path: str) -> RecordedAnswer:
        """The recorded answer (:class:`~pendo_nb.errors.NotRecordedError` if there is none)."""
        return self.snapshot.answer(key, method=method, path=path)

    def refuse_write(self, what: str) -> SnapshotError:
        """The error for a write (``what``: the request or call) while replaying."""
        return SnapshotError(
            f"{what}: this session replays {self.path.name} and is read-only; "
            "writes need a live connection (pn.connect(key=...)). A dry run "
            "(update_values(..., dry_run=True)) works if its reads were recorded"
        )


def describe_recording(path: Path, summary: dict[str, Any]) -> str:
    """The closing summary of a recording, in words."""
    size = summary["bytes"]
    count = summary["answers"]
    text = f"Recorded {count} answer{'s' * (count != 1)} ({size / 1e6:.1f} MB) into {path.name}."
    replaced = summary.get("replaced")
    if replaced is None:
        return text + " Values are as the server sent them (not pseudonymized)."
    return f"{text} {describe_pseudonymization(replaced)}"


def describe_pseudonymization(replaced: dict[str, Any]) -> str:
    """What a pseudonymizer did (its :meth:`~pendo_nb.http.pseudonyms.Pseudonymizer.summary`),
    in words: the distinct values replaced by kind, the masked fields, then one line per field
    (the closing summary of a recording, and of an extract)."""
    counts = ", ".join(f"{kind} {replaced[kind]:,}" for kind in _KINDS if kind in replaced)
    masked = ", ".join(replaced["masked fields"]) or "none"
    mode = "strict" if replaced.get("mode") == "strict" else "known values"
    lines = [
        f"Pseudonymized ({mode}). Replaced by stable fake values: {counts} "
        f"(distinct values). Masked fields: {masked}.",
        *describe_fields(replaced.get("fields", {})),
    ]
    return "\n".join(lines)


def describe_fields(fields: dict[str, dict[str, int]]) -> list[str]:
    """One line per field: how many of its values were replaced, masked or kept as sent."""
    if not fields:
        return []
    width = max(len(field) for field in fields)
    lines = ["Per field (values replaced / masked / kept as sent):"]
    for field, counts in sorted(fields.items()):
        lines.append(
            f"  {field:<{width}}  {counts.get('replaced', 0):>7,} / {counts.get('masked', 0):>5,}"
            f" / {counts.get('kept', 0):>7,}"
        )
    return lines
