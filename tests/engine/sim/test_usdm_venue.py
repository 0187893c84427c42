"""USD-M wired into the local venue: one market feeds every side; registered again, it follows."""

from __future__ import annotations

import pytest

from engine.core.events import Side
from engine.sim.server import SimVenue
from engine.sim.usdm_params import NewFuturesOrder
from engine.sim.usdm_venue import UsdmVenue, follow_market
from tests.engine.sim.traders import accounts

pytestmark = pytest.mark.integration


def resting_sell(venue: SimVenue, cid: str) -> NewFuturesOrder:
    """A sell one tick above the best ask (it rests)."""
    _, asks, _ = venue.true_book("BTCUSDT")
    return NewFuturesOrder(
        symbol="BTCUSDT",
        side=Side.SELL,
        order_type="LIMIT",
        time_in_force="GTC",
        quantity=100,
        price=asks[0][0] + 1,
        client_order_id=cid,
    )


async def test_a_public_sweep_reaches_the_spot_bybit_and_usdm_cores(trading_venue):
    """A market order through our resting USD-M sell fills it; the other sides still hear it."""
    alice = trading_venue.trading.accounts.all()[0]
    trading_venue.usdm.desk.place(alice, resting_sell(trading_venue, "v-1"))
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    events_before = trading_venue.bybit.desk.book(alice, "BTCUSDT").core.stats.events
    trading_venue.market_order("BTCUSDT", Side.BUY, sum(size for _, size in asks[:4]))
    assert trading_venue.usdm.desk.book(alice, "BTCUSDT").position.size == -100
    assert trading_venue.bybit.desk.book(alice, "BTCUSDT").core.stats.events > events_before


async def test_following_again_replaces_the_old_usdm_desk(btc):
    """A second registration on the same spot desk: only the new USD-M desk hears the market."""
    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts())
    await venue.start()
    try:
        old = venue.usdm
        fresh = UsdmVenue(venue)
        follow_market(venue.trading.desk, fresh.desk)
        follow_market(venue.trading.desk, fresh.desk)  # twice changes nothing
        alice = venue.trading.accounts.all()[0]
        old.desk.place(alice, resting_sell(venue, "old"))
        fresh.desk.place(alice, resting_sell(venue, "new"))
        _, asks, _ = venue.true_book("BTCUSDT")
        venue.market_order("BTCUSDT", Side.BUY, sum(size for _, size in asks[:4]))
        assert fresh.desk.book(alice, "BTCUSDT").position.size == -100
        assert old.desk.book(alice, "BTCUSDT").position.size == 0
    finally:
        await venue.stop()


async def test_the_repr_names_no_secret(trading_venue):
    """The USD-M side's repr counts symbols and streams."""
    assert "simSecret" not in repr(trading_venue.usdm)
    assert repr(trading_venue.usdm).startswith("UsdmVenue(1 symbols")


async def test_order_limits_follow_a_venue_limit_set_higher(btc):
    """USD-M's counts are 300 / 1200 by default, and follow the venue's limit when it is raised."""
    plain = SimVenue([btc], autorun=False, accounts=accounts())
    raised = SimVenue([btc], autorun=False, accounts=accounts(), orders_per_10s=10_000)
    for venue in (plain, raised):
        await venue.start()
    try:
        assert (plain.usdm.limits.orders_per_10s, plain.usdm.limits.orders_per_minute) == (
            300,
            1200,
        )
        assert (raised.usdm.limits.orders_per_10s, raised.usdm.limits.orders_per_minute) == (
            10_000,
            60_000,
        )
    finally:
        for venue in (plain, raised):
            await venue.stop()
