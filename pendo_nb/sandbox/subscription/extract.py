"""A subscription loaded from a local extract's files (``pn.extract`` writes them).

The extract is a folder of Parquet files and a ``manifest.json`` (its format is documented in
``docs/guides/extracts.md``): grouped event rows at a grain, one file per day; guide and poll
events; and the objects (visitors, accounts, catalogs, segments, reports, metadata schemas) as
JSON text. :func:`load_extract` builds a :class:`~.model.Subscription` from them whose event rows
live in a :class:`~.grained.GrainedEvents` store, so the engine answers any pipeline over the
extract as it answers over generated data. The sandbox reads the files itself (pyarrow), never
through the client side; the client checks the files' checksums before it starts a sandbox on
them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pendo_nb.sandbox.subscription.grained import (
    BUCKET,
    GRAINED_SOURCES,
    OBJECT_COLUMNS,
    GrainedEvents,
)
from pendo_nb.sandbox.subscription.model import EventTable, Subscription

#: The newest manifest format this reader understands.
READS_VERSION = 1
# No raw events: the engine reads the grained store instead (and refuses what needs them).
_NO_EVENTS = EventTable(
    ts=np.zeros(0, dtype=np.int64),
    visitor=np.zeros(0, dtype=np.int32),
    account=np.zeros(0, dtype=np.int32),
    app=np.zeros(0, dtype=np.int32),
    kind=np.zeros(0, dtype=np.int8),
    object=np.zeros(0, dtype=np.int32),
    ip=np.zeros(0, dtype=np.int32),
    server=np.zeros(0, dtype=np.int32),
    user_agent=np.zeros(0, dtype=np.int32),
)


class ExtractUnreadable(ValueError):
    """The folder is not an extract this sandbox can read (no manifest, a newer format,
    unfinished)."""


def load_extract(folder: str | os.PathLike[str]) -> Subscription:
    """The subscription held by the extract in ``folder``.

    Parameters
    ----------
    folder : str or path
        A folder written by ``pn.extract``.

    Returns
    -------
    Subscription
        ``now_ms`` is the moment the extract was taken; events are a grained store.

    Raises
    ------
    ExtractUnreadable
        No manifest, a newer format, or an unfinished extract.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExtractUnreadable(f"{folder}: no readable manifest.json ({error})") from None
    if not isinstance(manifest.get("version"), int) or manifest["version"] > READS_VERSION:
        raise ExtractUnreadable(f"{folder}: extract format {manifest.get('version')} is newer")
    if not manifest.get("complete"):
        raise ExtractUnreadable(f"{folder}: the extract is unfinished")
    files = sorted(manifest["files"])
    timezone = ZoneInfo(manifest["timezone"])

    def objects(kind: str) -> list[dict[str, Any]]:
        path = folder / kind / "part-0.parquet"
        texts = pq.read_table(path, columns=["json"]).column("json").to_pylist()
        return [orjson.loads(str(text)) for text in texts]

    def day_tables(source: str) -> list[tuple[str, pa.Table]]:
        prefix = f"{source}/day="
        return [
            (name[len(prefix) : len(prefix) + 10], pq.read_table(folder / name))
            for name in files
            if name.startswith(prefix)
        ]

    store = GrainedEvents(
        grain=manifest["grain"],
        start_ms=int(manifest["start_ms"]),
        end_ms=int(manifest["end_ms"]),
        origin=str(folder),
        held=frozenset(manifest.get("sources", ())),
    )
    for source in GRAINED_SOURCES:
        if source in store.held:
            store.tables[source] = _event_frame(day_tables(source), manifest)
    visitors = {row["visitorId"]: row for row in objects("visitors")}
    accounts = {row["accountId"]: row for row in objects("accounts")}
    schema = {entry["kind"]: entry["groups"] for entry in objects("schema")}
    return Subscription(
        seed=0,
        size="extract",
        now_ms=int(manifest["taken_at_ms"]),
        timezone=timezone,
        apps=objects("apps"),
        account_ids=list(accounts),
        visitor_ids=list(visitors),
        accounts=accounts,
        visitors=visitors,
        schema=schema,
        pages=objects("pages"),
        features=objects("features"),
        track_types=objects("trackTypes"),
        guides=objects("guides"),
        groups=objects("groups"),
        remote_ips=[],
        servers=[],
        user_agents=[],
        events=_NO_EVENTS,
        guide_events=_whole_rows(day_tables("guideEvents")),
        poll_events=_whole_rows(day_tables("pollEvents")),
        segments=[s for s in map(_segment, objects("segments")) if s is not None],
        reports=objects("reports"),
        do_not_process={
            "visitor": {row["visitorId"] for row in objects("doNotProcessVisitors")},
            "account": {row["accountId"] for row in objects("doNotProcessAccounts")},
        },
        window_start_ms=store.start_ms,
        grained=store,
    )


def _event_frame(days: list[tuple[str, pa.Table]], manifest: dict[str, Any]) -> pd.DataFrame:
    """One source's stored rows: the bucket's start (epoch ms) first, string keys as
    categoricals, times as epoch ms, nested objects as categorical JSON text."""
    frames = []
    for day, table in days:
        if table.num_rows == 0:
            continue
        frame = _times_as_ms(table).to_pandas()
        if "hour" in frame.columns:
            bucket = frame.pop("hour").to_numpy(dtype=np.int64)
        else:
            bucket = np.full(len(frame), manifest["days"][day]["start_ms"], dtype=np.int64)
        frame.insert(3, BUCKET, bucket)  # after visitorId, accountId, appId: Pendo's order
        frames.append(frame)
    if not frames:
        return pd.DataFrame({BUCKET: np.zeros(0, dtype=np.int64)})
    frame = pd.concat(frames, ignore_index=True)
    for name in frame.columns:
        column = frame[name]
        if name in OBJECT_COLUMNS:
            frame[name] = _objects(column.astype("category"))
        elif pd.api.types.is_string_dtype(column.dtype):
            frame[name] = column.astype("category")
    return frame


def _objects(column: pd.Series) -> np.ndarray:
    """JSON text -> one shared object per distinct text (missing: ``{}``)."""
    categories = column.cat.categories
    decoded = np.empty(len(categories) + 1, dtype=object)
    decoded[:-1] = [orjson.loads(str(text)) for text in categories]
    decoded[-1] = {}
    return decoded[column.cat.codes.to_numpy()]


def _times_as_ms(table: pa.Table) -> pa.Table:
    """Timestamp columns as int64 epoch ms, as the engine keeps times."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            ms = table.column(index).cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
            table = table.set_column(index, field.name, ms)
    return table


def _whole_rows(days: list[tuple[str, pa.Table]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _day, table in days:
        if "json" in table.column_names:
            rows.extend(orjson.loads(str(text)) for text in table.column("json").to_pylist())
    rows.sort(key=lambda row: row.get("browserTime", 0))  # stable: the answers' order otherwise
    return rows


def _segment(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A ``GET /segment`` object back in the subscription's form (kind + filter), if its pipeline
    is the one form the sandbox evaluates: a visitors/accounts source and one filter."""
    pipeline = obj.get("pipeline")
    if not (isinstance(pipeline, list) and len(pipeline) == 2):
        return None
    source, step = pipeline
    kind = {"visitors": "visitor", "accounts": "account"}.get(
        next(iter(source.get("source", {})), "")
    )
    if kind is None or not isinstance(step.get("filter"), str):
        return None
    kept = {k: v for k, v in obj.items() if k not in ("pipeline", "kind")}
    return {**kept, "kind": kind, "filter": step["filter"]}
