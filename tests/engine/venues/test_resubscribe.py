"""Resubscription pacing: quick the first time, slower while a book keeps failing, reset by life."""

from __future__ import annotations

import random

from engine.venues.resubscribe import ResubscribePacer


def test_repeated_failures_wait_longer_up_to_the_cap():
    """Each failure without the book staying live doubles the wait's bound, up to cap_s."""
    pacer = ResubscribePacer(base_s=0.05, cap_s=0.4, rng=random.Random(1))
    delays = [pacer.delay("BTC/USD", 0.0) for _ in range(6)]
    for n, delay in enumerate(delays):
        bound = min(0.4, 0.05 * 2**n)
        assert bound / 2 <= delay <= bound
    assert pacer.attempts("BTC/USD") == 6


def test_a_book_live_for_long_starts_again_quickly():
    """Live for reset_after_s, the next failure waits as little as the first did."""
    pacer = ResubscribePacer(base_s=0.05, cap_s=5.0, reset_after_s=10.0, rng=random.Random(2))
    for _ in range(5):
        pacer.delay("ETH/USD", 0.0)
    pacer.went_live("ETH/USD", 100.0)
    assert pacer.delay("ETH/USD", 111.0) <= 0.05
    pacer.went_live("ETH/USD", 200.0)
    assert pacer.delay("ETH/USD", 201.0) > 0.05  # live only 1 s: still backing off


def test_units_are_paced_apart():
    """One pair's failures do not slow another's first resubscription."""
    pacer = ResubscribePacer(base_s=0.05, cap_s=5.0, rng=random.Random(3))
    for _ in range(5):
        pacer.delay("BTC/USD", 0.0)
    assert pacer.delay("ETH/USD", 0.0) <= 0.05
    assert pacer.attempts("XRP/USD") == 0
