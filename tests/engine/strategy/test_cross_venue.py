"""``cross_venue`` on two paper venues: lead-lag quotes with hedges, arbitrage, a legged pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.events import Side
from engine.strategy.base import ParamsError, decode_params
from engine.strategy.cross_venue import CrossVenue, CrossVenueParams
from tests.engine.strategy.two_venues import TwoVenueDesk


@pytest.fixture
async def two(tmp_path: Path):
    """A started two-venue desk."""
    d = TwoVenueDesk(tmp_path)
    await d.start()
    yield d
    await d.stop()


def prices(s: CrossVenue, instrument: int) -> list[tuple[Side, int]]:
    """Its resting orders on one instrument."""
    return sorted((o.side, o.price_ticks) for o in s.ctx.open_orders(instrument))


async def test_lead_lag_quotes_the_follower_around_the_leaders_mid(two: TwoVenueDesk):
    """Leader mid 50,000.05 (500,000.5 ticks of 0.1): follower quotes 50 of its ticks around."""
    s = CrossVenue(
        "xv", CrossVenueParams(half_spread_ticks=50, size_lots=20, max_position_lots=100)
    )
    two.runner.add(s)
    two.runner.start()
    two.set_book(1, [(4_999_000, 1000)], [(5_001_000, 1000)])
    two.set_book(0, [(500_000, 100)], [(500_001, 100)])
    await two.settle()
    assert prices(s, 1) == [(Side.BUY, 4_999_955), (Side.SELL, 5_000_055)]
    two.set_book(0, [(500_100, 100)], [(500_101, 100)])  # the leader moves up 10 dollars
    await two.settle()
    assert prices(s, 1) == [(Side.BUY, 5_000_955), (Side.SELL, 5_001_055)]


async def test_a_follower_fill_is_hedged_on_the_leader(two: TwoVenueDesk):
    """20 follower lots bought (0.02 BTC) are sold as 2 leader lots; the exposure is flat."""
    s = CrossVenue(
        "xv", CrossVenueParams(half_spread_ticks=50, size_lots=20, max_position_lots=100)
    )
    two.runner.add(s)
    two.runner.start()
    two.set_book(1, [(4_999_000, 1000)], [(5_001_000, 1000)])
    two.set_book(0, [(500_000, 100)], [(500_001, 100)])
    await two.settle()
    two.trade(1, 4_999_955, 20, Side.SELL)  # a seller hits our follower bid
    await two.settle()
    assert s.ctx.position(1).net_lots == 20
    assert s.ctx.position(0).net_lots == -2
    assert s.exposure() == 0
    assert s.hedges == 1


async def test_arbitrage_buys_the_cheap_one_and_sells_the_dear_one(two: TwoVenueDesk):
    """Follower bid 50,010.00 over leader ask 50,000.10: sell follower, buy leader, flat overall."""
    params = CrossVenueParams(mode="arbitrage", edge_ticks=100, size_lots=30, max_position_lots=100)
    s = CrossVenue("xv", params)
    two.runner.add(s)
    two.runner.start()
    two.set_book(0, [(500_000, 100)], [(500_001, 100)])
    two.set_book(1, [(5_001_000, 1000)], [(5_001_500, 1000)])
    await two.settle()
    assert s.arbitrages == 1
    assert s.ctx.position(1).net_lots == -30
    assert s.ctx.position(0).net_lots == 3
    assert s.exposure() == 0


async def test_a_refused_leg_leaves_no_exposure(two: TwoVenueDesk):
    """A refused leader leg: the filled follower leg is hedged on the leader once it can be.

    The leader's order link is down when the pair goes; the follower leg fills, so the exposure is
    bought back on the leader after the link returns, and the two add up to nothing.
    """
    params = CrossVenueParams(mode="arbitrage", edge_ticks=100, size_lots=30, max_position_lots=100)
    s = CrossVenue("xv", params)
    two.runner.add(s)
    two.runner.start()
    two.set_book(0, [(500_000, 100)], [(500_001, 100)])
    two.oms.link_ok["binance"] = False
    two.set_book(1, [(5_001_000, 1000)], [(5_001_500, 1000)])
    await two.settle()
    assert s.legged == 1
    assert s.exposure() == -3  # the follower leg filled before the refusal came back
    two.oms.link_ok["binance"] = True
    two.clock.advance(2_000_000_000)  # past the pause after its refused hedge
    two.set_book(0, [(500_000, 100)], [(500_001, 100)])
    await two.settle()
    assert s.exposure() == 0
    assert s.ctx.position(0).net_lots == 3


def test_leader_and_follower_must_differ():
    """The same instrument twice is refused, naming follower."""
    with pytest.raises(ParamsError) as caught:
        decode_params(CrossVenueParams, {"leader": 1, "follower": 1}, "xv")
    assert caught.value.field == "follower"
