"""The adaptive limiter (issue 18), driven by a stand-in clock: no real waiting, no timings."""

from __future__ import annotations

import pytest

from pendo_nb.http import session, throttle
from pendo_nb.http.throttle import BACK_OFF, HOLD, AdaptiveLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def healthy_second(limiter, clock, answers):
    """``answers`` requests sent and answered 200 within about one second."""
    for _ in range(answers):
        limiter.answer(limiter.acquire(), 200)
        clock.now += 1.0 / answers


def test_requests_are_spaced_at_the_starting_rate():
    clock = FakeClock()
    limiter = AdaptiveLimiter(2, clock=clock)
    for _ in range(3):
        limiter.acquire()
    assert clock.slept == [0.5, 0.5]


def test_the_rate_grows_while_answers_are_healthy_but_never_past_the_cap():
    clock = FakeClock()
    limiter = AdaptiveLimiter(10, most=25, clock=clock)
    healthy_second(limiter, clock, 10)
    assert 15 < limiter.rate <= 20  # towards double after one healthy second
    healthy_second(limiter, clock, 20)
    assert limiter.rate == 25


def test_a_429_backs_off_below_what_the_server_served():
    clock = FakeClock()
    limiter = AdaptiveLimiter(40, clock=clock)
    healthy_second(limiter, clock, 20)  # the server served 20 in the last second
    limiter.answer(limiter.acquire(), 429)
    assert limiter.ceiling == 20
    assert limiter.rate == pytest.approx(BACK_OFF * 20)


def test_once_a_ceiling_is_known_growth_is_a_slow_probe():
    clock = FakeClock()
    limiter = AdaptiveLimiter(20, clock=clock)
    healthy_second(limiter, clock, 20)
    limiter.answer(limiter.acquire(), 503)
    backed_off = limiter.rate
    for _ in range(int(HOLD) + 10):  # the probe starts once the hold after the back-off is over
        healthy_second(limiter, clock, 19)
    assert backed_off < limiter.rate < limiter.ceiling


def test_after_a_back_off_the_rate_holds_below_the_ceiling_before_probing():
    # Approaching the ceiling from below: a pull right after a push-back draws no new 429.
    clock = FakeClock()
    limiter = AdaptiveLimiter(20, clock=clock)
    healthy_second(limiter, clock, 20)
    limiter.answer(limiter.acquire(), 429)
    backed_off = limiter.rate
    for _ in range(int(HOLD) - 2):
        healthy_second(limiter, clock, 19)
    assert limiter.rate == pytest.approx(backed_off)
    for _ in range(5):
        healthy_second(limiter, clock, 19)
    assert limiter.rate > backed_off


def test_retry_after_pauses_every_worker_at_once():
    clock = FakeClock()
    limiter = AdaptiveLimiter(None, clock=clock)
    first = limiter.acquire()
    limiter.answer(first, 429, retry_after=3)
    # another worker asks next: it waits out the pause too, though its own answer was fine
    assert limiter.acquire() >= first + 3
    assert clock.slept and clock.slept[0] == pytest.approx(3)


def test_late_429s_of_requests_sent_before_a_back_off_do_not_back_off_again():
    clock = FakeClock()
    limiter = AdaptiveLimiter(20, clock=clock)
    healthy_second(limiter, clock, 20)
    in_flight = [limiter.acquire() for _ in range(5)]
    clock.now += 0.1
    limiter.answer(in_flight[0], 429)
    backed_off = limiter.rate
    for sent in in_flight[1:]:  # the rest of the burst comes back 429 too
        limiter.answer(sent, 429)
    assert limiter.rate == backed_off


def test_an_unpaced_limiter_starts_pacing_at_the_first_push_back():
    clock = FakeClock()
    limiter = AdaptiveLimiter(None, clock=clock)
    healthy_second(limiter, clock, 50)
    assert limiter.rate is None and clock.slept == []
    limiter.answer(limiter.acquire(), 429)
    assert limiter.rate == pytest.approx(BACK_OFF * 50)


def test_one_limiter_per_host_and_key_and_loopback_is_never_paced_by_default():
    one = throttle.shared_limiter("ns-a", "https://app.pendo.io", None)
    assert throttle.shared_limiter("ns-a", "https://app.pendo.io", None) is one
    assert throttle.shared_limiter("ns-b", "https://app.pendo.io", None) is not one
    assert one.rate == throttle.START_RATE
    assert throttle.shared_limiter("ns-c", "http://127.0.0.1:8765", None).rate is None
    assert throttle.shared_limiter("ns-c", "http://127.0.0.1:8765", 5.0).rate == 5.0


def test_clients_of_one_key_and_host_share_a_limiter():
    a = session.build_session("k" * 32, "https://app.pendo.io", cache=False)
    b = session.build_session("k" * 32, "https://app.pendo.io", cache=False)
    assert (
        a.get_adapter("https://app.pendo.io").limiter
        is b.get_adapter("https://app.pendo.io").limiter
    )
    assert (
        session.build_session("k" * 32, "https://x", cache=False, rate_limit=None)
        .get_adapter("https://x")
        .limiter
        is None
    )


@pytest.mark.parametrize("bad", [0, -1, True, "fast"])
def test_rate_limit_must_be_auto_none_or_positive(bad):
    with pytest.raises(ValueError, match="rate_limit"):
        session.build_session("k" * 32, "https://app.pendo.io", cache=False, rate_limit=bad)


def test_an_answer_slower_than_the_window_is_taken_in_stride():
    # An aggregation may run for minutes: its answer arrives long after it was sent.
    clock = FakeClock()
    limiter = AdaptiveLimiter(10, clock=clock)
    sent = limiter.acquire()
    clock.now += 120.0
    limiter.answer(sent, 200)
    limiter.answer(limiter.acquire(), 200)
    assert limiter.rate is not None and limiter.rate >= 10
