"""The reconnect policy: backoff, a cap on attempts per minute, an alert on failures in a row.

The policy is tested on its own with explicit times, then through a real feed whose venue is
unreachable on 127.0.0.1 and comes back.
"""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.sim.okx_stream import OkxStreamVenue
from engine.venues.backoff import Backoff
from engine.venues.okx.feed import OkxFeed
from engine.venues.reconnect import LinkAlert, ReconnectPolicy
from tests.engine.venues.feed_harness import Recorder, until


def policy(**kwargs: object) -> ReconnectPolicy:
    """A policy with tiny, seeded backoff."""
    backoff = Backoff(base_s=0.01, cap_s=0.04, rng=random.Random(3))
    return ReconnectPolicy(backoff, **kwargs)  # type: ignore[arg-type]


def test_the_cap_holds_attempts_per_minute():
    """Past max_per_minute attempts in 60 s, the wait runs to when the oldest leaves the window."""
    p = policy(max_per_minute=3)
    for t in (0.0, 1.0, 2.0):
        p.attempt(t)
        p.ended(0.1, opened=True)
    assert p.delay(2.5) == pytest.approx(57.5)
    assert p.throttled == 1
    assert p.room_in_s(60.0) == 0.0  # the attempt at 0 s has left the window
    assert p.attempts_last_minute(60.5) == 2


def test_the_cap_also_holds_when_the_venue_asks_to_move_at_once():
    """A venue asking us to move skips the backoff, never the cap."""
    p = policy(max_per_minute=2)
    assert p.delay(0.0, at_once=True) == 0.0
    p.attempt(0.0)
    p.attempt(1.0)
    assert p.delay(1.0, at_once=True) == pytest.approx(59.0)


def test_below_the_cap_the_backoff_decides():
    """Few attempts: the delay is the backoff's, inside its jitter band."""
    p = policy(max_per_minute=100)
    p.attempt(0.0)
    assert 0.005 <= p.delay(0.0) <= 0.01
    assert p.throttled == 0


def test_five_failures_in_a_row_alert_once_and_a_held_link_recovers():
    """The 5th failure in a row alerts; more failures do not repeat it; a healthy link clears it."""
    p = policy(alert_after=5, healthy_after_s=10.0)
    said = [p.ended(0.0, opened=False) for _ in range(4)]
    assert said == [LinkAlert.NONE] * 4
    assert p.ended(2.0, opened=True) is LinkAlert.FAILING  # up, but not for long: a failure
    assert p.ended(0.0, opened=False) is LinkAlert.NONE
    assert p.failures_in_row == 6
    assert p.held() is LinkAlert.RECOVERED
    assert p.failures_in_row == 0
    assert p.held() is LinkAlert.NONE


def test_a_long_connection_is_a_success_and_resets_the_backoff():
    """A connection that ended after healthy_after_s counts as held, not as a failure."""
    p = policy(healthy_after_s=5.0)
    for _ in range(3):
        p.ended(0.0, opened=False)
        p.delay(0.0)
    assert p.backoff.attempt == 3
    assert p.ended(30.0, opened=True) is LinkAlert.NONE
    assert p.failures_in_row == 0
    assert p.backoff.attempt == 0


def test_bad_limits_are_refused():
    """Zero attempts a minute or an alert after zero failures make no sense."""
    with pytest.raises(ValueError, match="max_per_minute"):
        ReconnectPolicy(max_per_minute=0)
    with pytest.raises(ValueError, match="alert_after"):
        ReconnectPolicy(alert_after=0)


BTC = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (just released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
async def test_an_unreachable_venue_alerts_throttles_then_recovers():
    """Refused links alert after 5, then the cap holds the feed; the venue back, it recovers."""
    port = free_port()
    alerts: list[tuple[str, bool]] = []
    listener = Recorder()
    reconnect = policy(max_per_minute=6, alert_after=5, healthy_after_s=0.2)
    feed = OkxFeed(
        [BTC],
        {0: OrderBook(BTC.symbol)},
        listener,
        ws_url=f"ws://127.0.0.1:{port}/ws/v5/public",
    )
    feed.reconnect = reconnect
    feed.on_alert = lambda text, failing: alerts.append((text, failing))
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: len(alerts) == 1, "the failing alert")
        assert alerts[0][1] is True
        assert "5 connection failures in a row" in alerts[0][0]
        await until(lambda: feed.stats.reconnects_throttled == 1, "the cap to hold the feed")
        assert reconnect.attempts_last_minute(asyncio.get_running_loop().time()) <= 6
        assert feed.stats.failures_in_row == 6
        venue = OkxStreamVenue([BTC], seed=2, interval_ms=20, port=port)
        await venue.start()
        try:
            reconnect.max_per_minute = 100  # let the waiting feed in at its next try
            reconnect._attempts.clear()
            await feed.stop()
            await asyncio.wait_for(task, 5.0)
            task = asyncio.create_task(feed.run())
            await until(lambda: len(alerts) == 2, "the recovered alert")
            assert alerts[1][1] is False
            assert feed.stats.failures_in_row == 0
        finally:
            await feed.stop()
            await venue.stop()
    finally:
        await feed.stop()
        await asyncio.wait_for(task, 5.0)
