"""Reconnect delays: exponential from 100 ms to 30 s, jittered, and reset by a healthy link."""

from __future__ import annotations

import random

import pytest

from engine.venues.backoff import Backoff


def test_delays_grow_exponentially_within_their_jitter_band():
    """The n-th delay lies in [d/2, d] with d = min(30 s, 100 ms * 2**n)."""
    backoff = Backoff(rng=random.Random(1))
    for attempt in range(20):
        bound = min(30.0, 0.1 * 2**attempt)
        delay = backoff.next_delay()
        assert bound / 2 <= delay <= bound
    assert backoff.attempt == 20


def test_delays_never_exceed_the_cap():
    """However many failures, no delay is longer than cap_s."""
    backoff = Backoff(base_s=0.1, cap_s=30.0, rng=random.Random(2))
    assert max(backoff.next_delay() for _ in range(200)) <= 30.0


def test_jitter_spreads_delays_at_the_cap():
    """Clients stuck at the cap do not reconnect in lock-step."""
    backoff = Backoff(rng=random.Random(3))
    for _ in range(20):
        backoff.next_delay()
    assert len({round(backoff.next_delay(), 6) for _ in range(10)}) == 10


def test_same_seed_gives_the_same_delays():
    """A seeded generator makes the sequence reproducible."""
    a, b = Backoff(rng=random.Random(9)), Backoff(rng=random.Random(9))
    assert [a.next_delay() for _ in range(8)] == [b.next_delay() for _ in range(8)]


def test_reset_starts_again_from_the_base():
    """After reset the next delay is back at most base_s."""
    backoff = Backoff(rng=random.Random(4))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_a_connection_healthy_long_enough_resets_the_sequence():
    """Passing healthy_for_s >= reset_after_s starts from the base; a shorter one does not."""
    backoff = Backoff(rng=random.Random(5), reset_after_s=60.0)
    for _ in range(10):
        backoff.next_delay()
    assert backoff.next_delay(healthy_for_s=59.0) > 0.1
    assert backoff.next_delay(healthy_for_s=60.0) <= 0.1


@pytest.mark.parametrize(("base_s", "cap_s"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_invalid_settings_are_refused(base_s: float, cap_s: float):
    """A non-positive base or a cap below the base raises ValueError."""
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base_s=base_s, cap_s=cap_s)
