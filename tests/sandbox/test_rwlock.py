"""The sandbox's reader-writer lock: shared reads, exclusive writes, writers first, reentrant.

Threads are ordered with events and by waiting until the lock reports a waiter (``state()``), never
by sleeping; every wait has a generous bound so a broken lock fails instead of hanging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from pendo_nb.sandbox.subscription.rwlock import LockState, ReadWriteLock

BOUND_S = 10.0  # generous upper bound for any one wait


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Block until ``condition()`` holds; fail (not hang) if it never does."""
    deadline = time.monotonic() + BOUND_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.002)  # a poll interval, not a measured duration


class Holder(threading.Thread):
    """A thread that takes one side of the lock, records it, and holds it until released."""

    def __init__(self, lock: ReadWriteLock, side: str, log: list[str], name: str) -> None:
        super().__init__(daemon=True)
        self.lock, self.side, self.log, self.label = lock, side, log, name
        self.holding = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        with self.lock.reading() if self.side == "read" else self.lock.writing():
            self.log.append(self.label)
            self.holding.set()
            self.release.wait(BOUND_S)

    def finish(self) -> None:
        self.release.set()
        self.join(BOUND_S)
        assert not self.is_alive(), f"{self.label} never finished"


def test_readers_share_the_lock():
    lock, log = ReadWriteLock(), []
    first, second = Holder(lock, "read", log, "r1"), Holder(lock, "read", log, "r2")
    first.start()
    assert first.holding.wait(BOUND_S)
    second.start()  # would block forever if readers excluded each other
    assert second.holding.wait(BOUND_S)
    assert lock.state() == LockState(readers=2, writing=False, readers_waiting=0, writers_waiting=0)
    first.finish()
    second.finish()
    assert lock.state() == LockState(0, False, 0, 0)


def test_a_writer_waits_for_readers_and_then_holds_the_lock_alone():
    lock, log = ReadWriteLock(), []
    reader, writer = Holder(lock, "read", log, "reader"), Holder(lock, "write", log, "writer")
    reader.start()
    assert reader.holding.wait(BOUND_S)
    writer.start()
    wait_until(lambda: lock.state().writers_waiting == 1, "the writer waits")
    assert log == ["reader"]
    reader.finish()
    assert writer.holding.wait(BOUND_S)
    assert lock.state() == LockState(readers=0, writing=True, readers_waiting=0, writers_waiting=0)
    writer.finish()


def test_a_waiting_writer_goes_before_readers_that_came_after_it():
    lock, log = ReadWriteLock(read_patience=BOUND_S), []
    first = Holder(lock, "read", log, "first reader")
    writer = Holder(lock, "write", log, "writer")
    late = Holder(lock, "read", log, "late reader")
    first.start()
    assert first.holding.wait(BOUND_S)
    writer.start()
    wait_until(lambda: lock.state().writers_waiting == 1, "the writer waits")
    late.start()
    # The lock is only read-held, yet the late reader queues behind the waiting writer.
    wait_until(lambda: lock.state().readers_waiting == 1, "the late reader waits")
    first.finish()
    assert writer.holding.wait(BOUND_S)
    assert not late.holding.is_set()
    writer.finish()
    late.finish()
    assert log == ["first reader", "writer", "late reader"]


def test_writers_exclude_each_other():
    lock, log = ReadWriteLock(), []
    one, two = Holder(lock, "write", log, "one"), Holder(lock, "write", log, "two")
    one.start()
    assert one.holding.wait(BOUND_S)
    two.start()
    wait_until(lambda: lock.state().writers_waiting == 1, "the second writer waits")
    assert log == ["one"]
    one.finish()
    two.finish()
    assert log == ["one", "two"]


def test_a_reader_reenters_even_while_a_writer_waits():
    # The server holds the read side for a request and the engine takes it again for the run;
    # queueing the inner read behind a waiting writer would deadlock both.
    lock, log = ReadWriteLock(), []
    inner_done = threading.Event()
    outer_holding, go_inner = threading.Event(), threading.Event()

    def nested_reader() -> None:
        with lock.reading():
            outer_holding.set()
            go_inner.wait(BOUND_S)
            with lock.reading():
                inner_done.set()

    thread = threading.Thread(target=nested_reader, daemon=True)
    thread.start()
    assert outer_holding.wait(BOUND_S)
    writer = Holder(lock, "write", log, "writer")
    writer.start()
    wait_until(lambda: lock.state().writers_waiting == 1, "the writer waits")
    go_inner.set()
    assert inner_done.wait(BOUND_S), "the nested read waited behind the writer"
    thread.join(BOUND_S)
    assert writer.holding.wait(BOUND_S)  # the read side was given back whole
    writer.finish()


def test_a_writer_may_read_and_write_again_but_a_reader_may_not_upgrade():
    lock = ReadWriteLock()
    with lock.writing():
        with lock.reading(), lock.writing():
            assert lock.state() == LockState(0, True, 0, 0)
        assert lock.state().writing
    assert lock.state() == LockState(0, False, 0, 0)
    with lock.reading():
        with pytest.raises(RuntimeError, match="holds the read side"):
            with lock.writing():
                pass
        assert lock.state() == LockState(1, False, 0, 0)
    assert lock.state() == LockState(0, False, 0, 0)


def test_an_error_inside_gives_the_lock_back():
    lock = ReadWriteLock()
    for side in (lock.reading, lock.writing):
        with pytest.raises(ValueError, match="inside"):
            with side():
                raise ValueError("raised inside")
        assert lock.state() == LockState(0, False, 0, 0)
    assert "0 reading" in repr(lock)


def test_a_reader_waits_behind_a_waiting_writer_only_so_long_then_reads_beside_the_long_read():
    """Issue 18: a write waiting on a long aggregation no longer stalls every new read."""
    lock, log = ReadWriteLock(read_patience=0.05), []
    long_read = Holder(lock, "read", log, "long aggregation")
    writer = Holder(lock, "write", log, "writer")
    late = Holder(lock, "read", log, "late reader")
    long_read.start()
    assert long_read.holding.wait(BOUND_S)
    writer.start()
    wait_until(lambda: lock.state().writers_waiting == 1, "the writer waits")
    late.start()
    # Its patience spent, the late reader reads while the long read still runs.
    assert late.holding.wait(BOUND_S)
    assert lock.state() == LockState(readers=2, writing=False, readers_waiting=0, writers_waiting=1)
    late.finish()
    long_read.finish()
    assert writer.holding.wait(BOUND_S)  # the writer goes once nobody reads
    writer.finish()
    assert log == ["long aggregation", "late reader", "writer"]


def test_the_default_patience_is_one_second():
    assert ReadWriteLock().read_patience == 1.0
