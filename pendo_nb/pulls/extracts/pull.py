"""``pn.extract``: a period of a subscription pulled into a folder of Parquet files.

The event sources are asked for one day at a time (Pendo cuts a call at 5 minutes, and
connectors pull "at max a day's worth" per request), with the day boundaries read from the server
as the windowed pulls read them (:func:`pendo_nb.pulls.windows.plan_pull`), in parallel on the
client's paced, retried session, under one progress bar. Each day's file is written atomically
and recorded in the manifest as soon as the day is complete, so an interrupted extract resumes
where it stopped. Days that had not settled when they were pulled (they ended less than
``settle_days`` before the pull) are pulled again by the next run, so extending ``end`` pulls the
new days and that tail. Objects (visitors, accounts, catalogs, segments, reports, schemas) are
pulled whole on every run: they describe the subscription as of the extract's ``taken_at``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from tqdm.auto import tqdm

from pendo_nb._checks import positive_int
from pendo_nb.errors import SnapshotError, ValidationError
from pendo_nb.frames.dtypes import TEXT_DTYPE
from pendo_nb.frames.extract_files import answer_table, objects_table, rows_table, write_parquet
from pendo_nb.frames.times import DAY_MS, stamp
from pendo_nb.http.cache_policy import request_expiry
from pendo_nb.http.connection import PendoConnection, PendoResponse
from pendo_nb.http.pseudonyms import Pseudonymizer
from pendo_nb.http.recording import describe_pseudonymization
from pendo_nb.pulls.extracts.manifest import (
    DAY_SOURCES,
    EVENT_SOURCES,
    FORMAT,
    FORMAT_VERSION,
    OBJECT_SOURCES,
    day_file,
    object_file,
    read_manifest,
    write_manifest,
)
from pendo_nb.pulls.server_clock import server_range
from pendo_nb.pulls.windows import Window, plan_pull

__all__ = ["GRAINS", "SETTLE_DAYS", "extract_period"]

GRAINS = {"hour": "hourRange", "day": "dayRange"}
#: Days that ended less than this long before they were pulled are pulled again by the next
#: run: Pendo processes events hourly, and connectors see them arrive 4-6 hours late (Estuary);
#: two days also cover late-sent mobile events (docs/guides/extracts.md says more).
SETTLE_DAYS = 2
_CATALOG_KINDS = ("pages", "features", "trackTypes", "guides")


def extract_period(
    client: PendoConnection,
    path: str | os.PathLike[str],
    start: Any,
    end: Any = None,
    *,
    grain: str = "day",
    apps: str | Sequence[int] = "*",
    sources: Sequence[str] | None = None,
    pseudonymize: bool = False,
    mask: Sequence[str] = (),
    workers: int = 4,
    progress: bool = True,
    settle_days: int = SETTLE_DAYS,
) -> pd.DataFrame:
    """Pull ``[start, end)`` into the extract folder ``path``; see :func:`pendo_nb.extract`."""
    grain, app_param, chosen = _checked(grain, apps, sources, workers, settle_days)
    # As in recordings, masking goes through the pseudonymizer, which also fakes the people.
    pseudonymize = bool(pseudonymize or mask)
    folder = Path(path).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(folder, missing_ok=True)
    if previous is not None:
        _check_compatible(folder, previous, grain, client.tz, pseudonymize)
        if previous.get("apps") != (apps if apps == "*" else list(apps)):
            raise SnapshotError(
                f"{folder} holds the apps {previous.get('apps')!r}; extend it with the same "
                "apps, or extract into another folder"
            )
        if sources is None:
            chosen = tuple(previous["sources"])
        elif set(chosen) != set(previous["sources"]):
            raise SnapshotError(
                f"{folder} holds the sources {previous['sources']}; extend it with the same "
                "sources (or sources=None), or extract into another folder"
            )
    now_ms, start_ms, end_ms = server_range(client, start, end)
    if end is None:
        end_ms = now_ms + 1  # through the day holding now
    if previous is not None:  # one contiguous range: extending fills any gap
        start_ms = min(start_ms, previous["start_ms"])
        end_ms = max(end_ms, previous["end_ms"])
    if end_ms <= start_ms:
        raise ValidationError(f"extract: end ({end!r}) is not after start ({start!r})")

    period = GRAINS[grain]
    probe = [_event_step("events", app_param, period, start_ms, end_ms)]
    pull = plan_pull(probe, client, "1D")
    assert pull is not None  # None only for windows="auto"
    days = {_day_key(w.start, client.tz): w for w in pull.windows}
    manifest = _new_manifest(previous, grain, client.tz, pseudonymize, mask, apps, chosen)
    manifest.update(start_ms=pull.windows[0].start, end_ms=pull.windows[-1].end)
    todo = [day for day in days if not _settled(previous, day, chosen, settle_days)]
    pseudonyms = Pseudonymizer(mask) if pseudonymize else None
    writer = _Writer(client, folder, manifest, pseudonyms, pulled_at_ms=pull.now)

    tasks: list[tuple[str, Callable[[], None]]] = []
    for day in todo:
        window = days[day]
        writer.expect(day, chosen)
        for source in chosen:
            body = _day_body(source, app_param, period, window)
            expiry = pull.policy.expiry_for(window.end, pull.now)
            tasks.append((source, _bound(writer.pull_day, source, day, window, body, expiry)))
    for kind in OBJECT_SOURCES:
        tasks.append((kind, _bound(writer.pull_objects, kind, app_param)))
    _run(tasks, workers, progress)

    manifest.update(
        complete=True,
        taken_at_ms=pull.now,
        taken_at=datetime.fromtimestamp(pull.now / 1000, UTC).isoformat(),
        days={day: manifest["days"][day] for day in sorted(manifest["days"]) if day in days},
    )
    manifest["first_day"], manifest["last_day"] = min(days), max(days)
    if pseudonyms is not None:  # where a snapshot keeps it (pn.snapshot_info(fields=True))
        manifest["summary"] = {"replaced": pseudonyms.summary()}
    write_manifest(folder, manifest)
    if pseudonyms is not None and progress:  # the closing summary, as a recording's
        print(describe_pseudonymization(manifest["summary"]["replaced"]))
    return _summary(folder, manifest, pulled_days=len(todo), requests=len(tasks))


# -- the parts ----------------------------------------------------------------------------


def _checked(
    grain: str, apps: Any, sources: Any, workers: int, settle_days: int
) -> tuple[str, Any, tuple[str, ...]]:
    if grain not in GRAINS:
        raise ValidationError(f"extract: grain={grain!r} is not 'hour' or 'day'")
    positive_int(workers, "workers")
    if isinstance(settle_days, bool) or not isinstance(settle_days, int) or settle_days < 0:
        raise ValidationError(
            f"extract: settle_days must be a whole number >= 0, not {settle_days!r}"
        )
    if apps == "*":
        app_param: Any = 'expandAppIds("*")'
    elif (
        isinstance(apps, Sequence)
        and not isinstance(apps, str)
        and apps
        and all(isinstance(a, int) and not isinstance(a, bool) for a in apps)
    ):
        app_param = list(apps)
    else:
        raise ValidationError(f"extract: apps must be '*' or a list of app ids, not {apps!r}")
    chosen = tuple(DAY_SOURCES) if sources is None else tuple(sources)
    unknown = [s for s in chosen if s not in DAY_SOURCES]
    if unknown or not chosen:
        raise ValidationError(
            f"extract: sources must name some of {', '.join(DAY_SOURCES)}; got {list(chosen)}"
        )
    return grain, app_param, chosen


def _check_compatible(
    folder: Path, previous: dict[str, Any], grain: str, tz: str, pseudonymize: bool
) -> None:
    if previous.get("grain") != grain or previous.get("timezone") != tz:
        raise SnapshotError(
            f"{folder} holds an extract at {previous.get('grain')} grain in "
            f"{previous.get('timezone')}; extend it with the same grain and time zone, or "
            "extract into another folder"
        )
    if pseudonymize or previous.get("pseudonymized"):
        raise SnapshotError(
            f"{folder}: a pseudonymized extract cannot be resumed or extended (its fake ids "
            "come from a secret that was never saved); extract the whole period into a new folder"
        )


def _event_step(
    source: str, app_param: Any, period: str, start_ms: int, end_ms: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"appId": app_param, "blacklist": "ignore"}
    series = {"period": period, "first": start_ms, "last": end_ms - 1}
    return {"source": {source: params, "timeSeries": series}}


def _day_body(source: str, app_param: Any, period: str, window: Window) -> dict[str, Any]:
    steps = [_event_step(source, app_param, period, window.start, window.end)]
    return {"response": {"mimeType": "application/json"}, "request": {"pipeline": steps}}


def _day_key(start_ms: int, tz: str) -> str:
    return stamp(start_ms, tz).date().isoformat()


def _settled(
    previous: dict[str, Any] | None, day: str, sources: Sequence[str], settle_days: int
) -> bool:
    """Whether ``day`` is in the previous extract, whole, and was settled when pulled."""
    if previous is None:
        return False
    entry = previous.get("days", {}).get(day)
    if entry is None or any(day_file(s, day) not in previous.get("files", {}) for s in sources):
        return False
    return bool(entry["end_ms"] + settle_days * DAY_MS <= entry["pulled_at_ms"])


def _new_manifest(
    previous: dict[str, Any] | None,
    grain: str,
    tz: str,
    pseudonymize: bool,
    mask: Sequence[str],
    apps: Any,
    sources: Sequence[str],
) -> dict[str, Any]:
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_by": f"pendo_nb {version('pendo_nb')}",
        "grain": grain,
        "timezone": tz,
        "apps": apps if apps == "*" else list(apps),
        "sources": list(sources),
        "pseudonymized": bool(pseudonymize),
        "masked": sorted(mask),
        "complete": False,
        "days": dict(previous.get("days", {})) if previous else {},
        "files": dict(previous.get("files", {})) if previous else {},
    }
    return manifest


def _bound(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: function(*args)


class _Writer:
    """Pulls answers and writes their files; records each finished day in the manifest."""

    def __init__(
        self,
        client: PendoConnection,
        folder: Path,
        manifest: dict[str, Any],
        pseudonyms: Pseudonymizer | None,
        *,
        pulled_at_ms: int,
    ) -> None:
        self.client = client
        self.pulled_at_ms = pulled_at_ms  # the server's clock: days settle on its time
        self.folder = folder
        self.manifest = manifest
        self.pseudonyms = pseudonyms
        self.lock = threading.Lock()
        self.pending: dict[str, set[str]] = {}
        self.day_files: dict[str, dict[str, dict[str, Any]]] = {}

    def expect(self, day: str, sources: Sequence[str]) -> None:
        self.pending[day] = set(sources)
        self.day_files[day] = {}

    def _content(self, response: PendoResponse, path: str, request: Any) -> bytes:
        """The answer's bytes, pseudonymized when asked."""
        if self.pseudonyms is None:
            return response.content
        with self.lock:  # one mapping for the whole extract
            return self.pseudonyms.answer(response.content, response.content_type, path, request)

    def _rows(self, response: PendoResponse, path: str, request: Any) -> Any:
        return orjson.loads(self._content(response, path, request))

    def pull_day(
        self, source: str, day: str, window: Window, body: dict[str, Any], expiry: Any
    ) -> None:
        with request_expiry(expiry):
            response = self.client.post_aggregation(body)
        content = self._content(response, "/aggregation", body)
        if source in EVENT_SOURCES:
            table = answer_table(content, drop=("day",))
        else:  # guide and poll events: fields vary from row to row, so whole rows are kept
            answer = orjson.loads(content)
            rows = answer.get("results") if isinstance(answer, dict) else None
            table = rows_table(rows or [], whole_rows=True)
        name = day_file(source, day)
        entry = asdict(write_parquet(table, self.folder / name))
        with self.lock:
            self.day_files[day][name] = entry
            self.pending[day].discard(source)
            if not self.pending[day]:  # the day is whole: record it
                self.manifest["files"].update(self.day_files.pop(day))
                self.manifest["days"][day] = {
                    "start_ms": window.start,
                    "end_ms": window.end,
                    "pulled_at_ms": self.pulled_at_ms,
                }
                write_manifest(self.folder, self.manifest)

    def pull_objects(self, kind: str, app_param: Any) -> None:
        objects = self._objects(kind, app_param)
        table = objects_table(objects, OBJECT_SOURCES[kind])
        name = object_file(kind)
        entry = asdict(write_parquet(table, self.folder / name))
        with self.lock:
            self.manifest["files"][name] = entry

    def _objects(self, kind: str, app_param: Any) -> list[dict[str, Any]]:
        client = self.client
        if kind == "segments":
            return list(self._rows(client.get_segments(refresh=True), "/segment", None))
        if kind == "reports":
            return list(self._rows(client.get_reports(refresh=True), "/report", None))
        if kind == "schema":
            return [
                {
                    "kind": which,
                    "groups": self._rows(
                        client.get_metadata_schema(which, refresh=True),
                        f"/metadata/schema/{which}",
                        None,
                    ),
                }  # fmt: skip
                for which in ("visitor", "account")
            ]
        params: Any = None
        if kind in _CATALOG_KINDS:
            params = {"appId": app_param}
        elif kind == "groups":
            params = {"items": True}
        body = {
            "response": {"mimeType": "application/json"},
            "request": {"pipeline": [{"source": {kind: params}}]},
        }
        answer = self._rows(client.post_aggregation(body, refresh=True), "/aggregation", body)
        return list(answer.get("results", [])) if isinstance(answer, dict) else []


def _run(tasks: list[tuple[str, Callable[[], None]]], workers: int, progress: bool) -> None:
    """Run the tasks on ``workers`` threads under one progress bar; the first failure stops
    the rest (what finished is kept: the next run resumes from it)."""
    bar = tqdm(total=len(tasks), desc="extract", unit="request", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pendo-extract")
    try:
        running: dict[Future[None], str] = {pool.submit(task): name for name, task in tasks}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                error = future.exception()
                if error is not None:
                    raise error
                bar.set_postfix(source=name, refresh=False)
                bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()


def _summary(
    folder: Path, manifest: dict[str, Any], *, pulled_days: int, requests: int
) -> pd.DataFrame:
    """One row per source: days, rows, bytes; what pseudonymizing did in ``attrs``."""
    totals: dict[str, list[int]] = {}
    for name, entry in manifest["files"].items():
        source = name.split("/", 1)[0]
        row = totals.setdefault(source, [0, 0, 0])
        row[0] += 1 if "/day=" in name else 0
        row[1] += entry["rows"]
        row[2] += entry["bytes"]
    order = [*DAY_SOURCES, *OBJECT_SOURCES]
    frame = pd.DataFrame(
        [(source, *totals[source]) for source in sorted(totals, key=order.index)],
        columns=["source", "days", "rows", "bytes"],
    )
    frame = frame.astype({"source": TEXT_DTYPE, "days": "Int64", "rows": "Int64", "bytes": "Int64"})
    frame.attrs = {
        "path": str(folder),
        "grain": manifest["grain"],
        "first_day": manifest["first_day"],
        "last_day": manifest["last_day"],
        "taken_at": manifest["taken_at"],
        "days_pulled": pulled_days,
        "requests": requests,
        "pseudonymized": bool(manifest.get("pseudonymized")),
        "summary": manifest.get("summary", {}),
    }
    return frame
