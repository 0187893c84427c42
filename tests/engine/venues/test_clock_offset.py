"""Server-time offset tracking, against a simulated venue clock."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.clock import SimClock
from engine.errors import ClockSkew, StatusUnknown
from engine.venues.clock_offset import ClockOffset

MS = 1_000_000
NS = 1_000_000_000


class VenueClock:
    """A venue whose clock runs ``offset_ns`` from ours, answering after the given delays."""

    def __init__(self, clock: SimClock, offset_ns: int, trips: list[tuple[int, int]]) -> None:
        self.clock = clock
        self.offset_ns = offset_ns
        self.trips = list(trips)
        self.calls = 0

    async def fetch(self) -> int:
        """Go out (first delay), read the venue's clock, come back (second delay)."""
        out, back = self.trips[self.calls % len(self.trips)]
        self.calls += 1
        self.clock.advance(out)
        server_ms = (self.clock.time_ns() + self.offset_ns) // MS
        self.clock.advance(back)
        return server_ms

    def now_ms(self) -> float:
        """The venue's clock now, in (fractional) milliseconds."""
        return (self.clock.time_ns() + self.offset_ns) / MS


async def test_the_fastest_round_trip_of_a_burst_wins(sim_clock):
    """Of a burst, the sample with the smallest round trip sets the offset."""
    venue = VenueClock(
        sim_clock, 250 * MS, [(40 * MS, 2 * MS), (1 * MS, 1 * MS), (9 * MS, 30 * MS)]
    )
    offset = ClockOffset(sim_clock, burst=3)
    await offset.sync(venue.fetch)
    assert offset.rtt_ns == 2 * MS
    assert abs(offset.offset_ns - 250 * MS) <= 1 * MS + MS  # within rtt/2 plus the ms grain
    assert offset.synced


@settings(max_examples=60, deadline=None)
@given(
    offset_ms=st.integers(-120_000, 120_000),
    trips=st.lists(
        st.tuples(st.integers(0, 400 * MS), st.integers(0, 400 * MS)), min_size=1, max_size=5
    ),
    later_ns=st.integers(0, 10 * NS),
)
def test_a_signed_timestamp_is_never_ahead_of_the_venue(offset_ms, trips, later_ns):
    """A timestamp is never ahead of the venue, nor behind by more than the best trip and 2 ms."""
    clock = SimClock()
    venue = VenueClock(clock, offset_ms * MS, trips)
    offset = ClockOffset(clock, burst=len(trips))
    asyncio.run(offset.sync(venue.fetch))
    clock.advance(later_ns)
    stamp = offset.timestamp_ms()
    assert stamp <= venue.now_ms()
    assert venue.now_ms() - stamp <= offset.rtt_ns / MS + 2  # whole ms: S and the stamp


async def test_slow_samples_are_not_used_and_the_old_offset_stays(sim_clock):
    """A burst of round trips over the limit raises ClockSkew and keeps what was known."""
    good = VenueClock(sim_clock, 40 * MS, [(1 * MS, 1 * MS)])
    offset = ClockOffset(sim_clock, burst=2, max_rtt_ms=100)
    await offset.sync(good.fetch)
    known = offset.offset_ns
    slow = VenueClock(sim_clock, 900 * MS, [(80 * MS, 80 * MS)])
    with pytest.raises(ClockSkew, match="too slow"):
        await offset.sync(slow.fetch)
    assert offset.offset_ns == known


async def test_a_failing_time_endpoint_raises_clock_skew_naming_why(sim_clock):
    """When every fetch fails the error says what the venue answered."""

    async def refused() -> int:
        raise StatusUnknown("binance", "HTTP 503 from /api/v3/time")

    offset = ClockOffset(sim_clock, burst=2)
    with pytest.raises(ClockSkew, match="503"):
        await offset.sync(refused)
    assert not offset.synced
    assert offset.due


async def test_a_measurement_falls_due_again_with_age_and_after_minus_1021(sim_clock):
    """``due`` turns true when the last burst is older than the interval, or after invalidate."""
    venue = VenueClock(sim_clock, 0, [(MS, MS)])
    offset = ClockOffset(sim_clock, burst=1, resync_interval_s=60)
    assert offset.due
    await offset.sync(venue.fetch)
    assert not offset.due
    sim_clock.advance(61 * NS)
    assert offset.due
    await offset.sync(venue.fetch)
    offset.invalidate()
    assert offset.due


async def test_run_measures_at_start_and_again_at_once_after_invalidate(sim_clock):
    """The background loop takes a burst at start and another as soon as it is invalidated."""
    venue = VenueClock(sim_clock, 5 * MS, [(MS, MS)])
    offset = ClockOffset(sim_clock, burst=1, resync_interval_s=3600)
    task = asyncio.create_task(offset.run(venue.fetch))
    try:
        for _ in range(1000):
            if offset.syncs == 1:
                break
            await asyncio.sleep(0)
        assert offset.syncs == 1
        offset.invalidate()
        for _ in range(1000):
            if offset.syncs == 2:
                break
            await asyncio.sleep(0)
        assert offset.syncs == 2
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_without_a_measurement_the_local_clock_signs(sim_clock):
    """Before any sync the timestamp is the local wall clock in milliseconds."""
    offset = ClockOffset(sim_clock)
    assert offset.timestamp_ms() == sim_clock.time_ns() // MS


def test_a_burst_needs_at_least_one_sample(sim_clock):
    """A burst size below one is refused."""
    with pytest.raises(ValueError, match="at least one"):
        ClockOffset(sim_clock, burst=0)
