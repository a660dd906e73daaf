"""The engine pauses Python's cyclic garbage collector during runs, counting overlapping runs.

Runs overlap in the server's threads: the collector must stay off until the last of them ends,
and come back on only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading

import pytest

from pendo_nb.sandbox.engine.pipeline import _CollectorPause

BOUND_S = 10.0


class Run(threading.Thread):
    """A thread inside one pause until told to leave it."""

    def __init__(self, pause: _CollectorPause) -> None:
        super().__init__(daemon=True)
        self.pause = pause
        self.inside, self.leave = threading.Event(), threading.Event()

    def run(self) -> None:
        with self.pause():
            self.inside.set()
            self.leave.wait(BOUND_S)

    def end(self) -> None:
        self.leave.set()
        self.join(BOUND_S)
        assert not self.is_alive()


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_resumes_when_the_last_of_two_overlapping_runs_ends(collector_on):
    pause = _CollectorPause()
    first, second = Run(pause), Run(pause)
    first.start()
    assert first.inside.wait(BOUND_S)
    assert not gc.isenabled()
    second.start()
    assert second.inside.wait(BOUND_S)
    first.end()  # the second run is still going
    assert not gc.isenabled()
    second.end()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    pause = _CollectorPause()
    gc.disable()
    run = Run(pause)
    run.start()
    assert run.inside.wait(BOUND_S)
    run.end()
    assert not gc.isenabled()
