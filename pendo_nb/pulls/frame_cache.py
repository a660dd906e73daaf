"""Converted windows kept beside the HTTP cache, so a re-run does not parse their JSON again.

Reading a cached window's answer still means parsing megabytes of JSON into a DataFrame; a re-run
of a long pull spends nearly all its time there. So each window's DataFrame is also written to a
file named after the HTTP cache key of the window's answer (a hash, never the integration key),
in a ``<cache file>-frames`` folder beside the HTTP cache file.

A file is served only while the HTTP cache still holds that answer and the file's own expiry
(the one chosen for the window) has not passed: whatever the HTTP cache forgets (expiry,
``clear_cache()``, the clean-up after a metadata write) is forgotten here too, and stale files are
deleted when next looked at. Each file is an Arrow IPC file holding the frame exactly (see
:mod:`pendo_nb.frames.frame_file`) with its expiry in the file's metadata; reading one never runs
code, and a frame that a file cannot hold exactly is not stored
(a re-run fetches that window again). A file written with older dtypes (another frame format
version) is deleted too: the window's answer, still in the HTTP cache, is converted again with
today's dtypes, and stored anew.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from pendo_nb.frames.frame_file import UnstorableFrame, extra_of, from_table, to_table
from pendo_nb.http.connection import PendoConnection

__all__ = ["FrameCache"]


class FrameCache:
    """The converted-window store of one client (a no-op when the client does not cache to a
    file)."""

    def __init__(self, client: PendoConnection) -> None:
        self.client = client
        # A recording must see every answer go by, so it never takes a frame from here.
        location = client.cache_info().location if client.recording is None else None
        self.folder = Path(f"{location}-frames") if location else None

    def get(self, body: Any) -> pd.DataFrame | None:
        """The stored frame of this window request, if both it and the HTTP answer are fresh."""
        if self.folder is None:
            return None
        key = self.client.aggregation_cache_key(body)
        if key is None:
            return None
        path = self.folder / f"{key}.arrow"
        try:
            with pa.OSFile(str(path), "rb") as file:
                reader = pa.ipc.open_file(file)
                expires = extra_of(reader.schema)["expires"]
                fresh = expires is None or expires >= time.time()
                frame = from_table(reader.read_all()) if fresh else None
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, pa.ArrowException):  # KeyError: no expiry
            # Damaged (a crash mid-write elsewhere) or outdated (OutdatedFrameFile, a ValueError):
            # convert the answer again.
            path.unlink(missing_ok=True)
            return None
        if frame is None:  # expired
            path.unlink(missing_ok=True)
            return None
        frame.attrs["from_cache"] = True
        return frame

    def put(self, body: Any, frame: pd.DataFrame, expiry: float | None) -> None:
        """Store a window's frame for ``expiry`` seconds (None: as long as its HTTP answer)."""
        if self.folder is None:
            return
        key = self.client.aggregation_cache_key(body)
        if key is None:  # the answer was not cached (an error page, a disabled cache)
            return
        expires = None if expiry is None else time.time() + expiry
        try:
            table = to_table(frame, {"expires": expires})
        except UnstorableFrame:  # the window is fetched again next time instead
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file, pa.ipc.new_file(file, table.schema) as writer:
                writer.write_table(table)
            os.replace(temporary, self.folder / f"{key}.arrow")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
