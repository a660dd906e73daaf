"""A reader-writer lock: many readers at once, or one writer alone.

The sandbox serves reads (lookups, reports, aggregations) side by side and lets a metadata write
change the subscription only while nobody reads it, so no read sees a write half applied.

The lock prefers writers: once a writer waits, new readers queue behind it, so a stream of
overlapping aggregations cannot starve a write. The preference is bounded: a writer waits for the
reads already running, and an aggregation may run for minutes, so a new reader waits behind a
*waiting* writer for at most ``read_patience`` seconds (1 s) and then reads alongside the running
reads; the writer still goes the moment nobody reads. A writer that *holds* the lock is never
passed. Both sides are reentrant per thread (the server
takes the read side for a request and the engine takes it again for the run; a writer may read
what it writes). A thread holding only the read side cannot upgrade to the write side: that would
wait for itself, so it raises instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Seconds a new reader waits behind a writer that is itself waiting for the running reads.
READ_PATIENCE = 1.0


@dataclass(frozen=True)
class LockState:
    """A snapshot of a :class:`ReadWriteLock`: who holds it and who waits for it."""

    readers: int  # threads holding the read side
    writing: bool  # whether a thread holds the write side
    readers_waiting: int
    writers_waiting: int


class ReadWriteLock:
    """Shared reading, exclusive writing, writers first (see the module docstring).

    Examples
    --------
    >>> lock = ReadWriteLock()
    >>> with lock.reading():
    ...     pass  # other threads may read too; writers wait
    >>> with lock.writing():
    ...     pass  # alone
    """

    def __init__(self, read_patience: float | None = READ_PATIENCE) -> None:
        #: ``None``: readers wait for waiting writers however long they wait.
        self.read_patience = read_patience
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0  # threads holding the read side (each counted once)
        self._writer: int | None = None  # ident of the thread holding the write side
        self._write_depth = 0
        self._writers_waiting = 0
        self._readers_waiting = 0
        self._held = threading.local()  # per thread: read depth

    def state(self) -> LockState:
        """Who holds the lock and who waits for it, at this moment."""
        with self._condition:
            return LockState(
                self._readers,
                self._writer is not None,
                self._readers_waiting,
                self._writers_waiting,
            )

    def __repr__(self) -> str:
        state = self.state()
        holders = "writing" if state.writing else f"{state.readers} reading"
        return (
            f"<ReadWriteLock {holders}, waiting: {state.readers_waiting} reader(s), "
            f"{state.writers_waiting} writer(s)>"
        )

    def _read_depth(self) -> int:
        return getattr(self._held, "reads", 0)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the read side: wait while a writer holds the lock or waits for it."""
        depth = self._read_depth()
        # A thread already reading, or writing, goes on: waiting would wait for itself.
        counted = depth == 0 and self._writer != threading.get_ident()
        if counted:
            with self._condition:
                self._readers_waiting += 1
                try:
                    self._wait_to_read()
                finally:
                    self._readers_waiting -= 1
                self._readers += 1
        self._held.reads = depth + 1
        try:
            yield
        finally:
            self._held.reads = depth
            if counted:
                with self._condition:
                    self._readers -= 1
                    if self._readers == 0:
                        self._condition.notify_all()

    def _wait_to_read(self) -> None:
        """Wait while a writer holds the lock, or waits for it (up to ``read_patience``)."""
        patient_until = None
        if self.read_patience is not None:
            patient_until = time.monotonic() + self.read_patience
        while self._writer is not None or self._writers_waiting:
            if self._writer is not None or patient_until is None:
                self._condition.wait()
                continue
            left = patient_until - time.monotonic()
            if left <= 0:
                return  # the writer waits on long reads: read alongside them
            self._condition.wait(left)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write side: wait until no other thread reads or writes.

        Raises
        ------
        RuntimeError
            When this thread holds the read side (an upgrade would wait for itself).
        """
        me = threading.get_ident()
        with self._condition:
            if self._writer != me:
                if self._read_depth():
                    raise RuntimeError(
                        "this thread holds the read side; it cannot take the write side as well"
                    )
                self._writers_waiting += 1
                try:
                    while self._writer is not None or self._readers:
                        self._condition.wait()
                finally:
                    self._writers_waiting -= 1
                    # Wakes readers held back by this writer, should it have given up waiting.
                    self._condition.notify_all()
                self._writer = me
            self._write_depth += 1
        try:
            yield
        finally:
            with self._condition:
                self._write_depth -= 1
                if self._write_depth == 0:
                    self._writer = None
                    self._condition.notify_all()
