"""The reference market maker end to end on the paper desk: quotes, requotes, skew, halt."""

from __future__ import annotations

from engine.core.events import Side
from engine.oms.order import OrderStatus
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from tests.engine.strategy.conftest import StrategyDesk

BIDS = [(499_000, 1000), (498_000, 1000)]
ASKS = [(500_000, 1000), (501_000, 1000)]


def quotes(mm: MarketMaker) -> tuple[list[int], list[int]]:
    """Its resting bid and ask prices, best first."""
    orders = mm.ctx.open_orders(0)
    bids = sorted((o.price_ticks for o in orders if o.side is Side.BUY), reverse=True)
    asks = sorted(o.price_ticks for o in orders if o.side is Side.SELL)
    return bids, asks


async def started(desk: StrategyDesk, **params) -> MarketMaker:
    """A market maker added, started and quoting on the first book."""
    mm = MarketMaker("mm", MarketMakerParams(**params))
    desk.runner.add(mm)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    return mm


async def test_it_quotes_levels_around_the_mid(desk: StrategyDesk):
    """Two levels a side, 100 ticks from the 499,500 mid, 50 ticks apart, all accepted."""
    mm = await started(desk, half_spread_ticks=100, levels=2, level_step_ticks=50, size_lots=2)
    assert quotes(mm) == ([499_400, 499_350], [499_600, 499_650])
    assert all(o.status is OrderStatus.ACCEPTED for o in mm.ctx.open_orders())
    assert {o.leaves_lots for o in mm.ctx.open_orders()} == {2}


async def test_microprice_leans_towards_the_thin_side(desk: StrategyDesk):
    """With little size offered, the microprice (and the quotes) sit closer to the ask."""
    mm = MarketMaker("mm", MarketMakerParams(fair="microprice", half_spread_ticks=100))
    desk.runner.add(mm)
    desk.runner.start()
    desk.set_book([(499_000, 3000)], [(500_000, 1000)])
    # (499,000 * 1000 + 500,000 * 3000) / 4000 = 499,750
    assert quotes(mm) == ([499_650], [499_850])


async def test_it_requotes_only_past_the_threshold(desk: StrategyDesk):
    """A 20-tick move inside the 50-tick threshold sends nothing; a 500-tick move replaces."""
    mm = await started(desk, half_spread_ticks=100, requote_ticks=50)
    sent = desk.gateway.stats.requests
    desk.set_book([(499_020, 1000)], [(500_020, 1000)])
    await desk.settle()
    assert desk.gateway.stats.requests == sent
    desk.set_book([(499_500, 1000)], [(500_500, 1000)])
    await desk.settle()
    assert quotes(mm) == ([499_900], [500_100])
    assert mm.requotes == 2
    assert len(desk.oms.orders) == 2


async def test_inventory_skews_and_widens_the_quotes(desk: StrategyDesk):
    """Long 5 of 10 lots: centre 100 ticks lower, each side 50 ticks wider; at 10 no bid."""
    mm = await started(
        desk,
        half_spread_ticks=100,
        size_lots=5,
        max_inventory_lots=10,
        skew_ticks=200,
        widen_ticks=100,
    )
    desk.trade(499_400, 5, Side.SELL)
    await desk.settle()
    assert mm.ctx.position(0).net_lots == 5
    assert mm.ctx.net_lots(0) == 5  # the same figure without the Holding copy
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    # centre 499,500 - 200 * 1/2 = 499,400; half spread 100 + 100 * 1/2 = 150
    assert quotes(mm) == ([499_250], [499_550])
    desk.trade(499_250, 5, Side.SELL)
    await desk.settle()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    bids, asks = quotes(mm)
    assert (bids, len(asks)) == ([], 1)


async def test_it_stops_quoting_when_halted(desk: StrategyDesk):
    """Once risk halts trading its quotes are canceled and no new order is sent."""
    mm = await started(desk, half_spread_ticks=100)
    desk.risk.halt("test")
    desk.set_book([(499_500, 1000)], [(500_500, 1000)])
    await desk.settle()
    sent = desk.gateway.stats.requests
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    assert mm.ctx.open_orders() == []
    assert desk.gateway.stats.requests == sent
    assert mm.ctx.refused == 0


async def test_orders_refused_by_risk_reach_the_strategy(desk: StrategyDesk):
    """Quotes over the order size limit are refused and the reason is kept."""
    mm = await started(desk, half_spread_ticks=100, size_lots=5000)
    assert mm.ctx.open_orders() == []
    assert mm.last_refusal.startswith("order_size")
    assert desk.gateway.stats.requests == 0


async def test_uneven_prices_round_the_bid_down_and_the_ask_up(desk: StrategyDesk):
    """A fair price and an inventory lean that are not whole ticks round outwards, never in."""
    mm = MarketMaker(
        "mm",
        MarketMakerParams(
            half_spread_ticks=100, max_inventory_lots=3, skew_ticks=100, widen_ticks=10
        ),
    )
    desk.runner.add(mm)
    desk.set_book([(499_000, 1000)], [(500_001, 1000)])
    book = desk.runner.strategy("mm").ctx.book(0)
    # centre 499,500.5 - 100 / 3 = 499,467.17; half spread 100 + 10 / 3 = 103.33
    assert mm.quotes(book, 1) == ([(499_363, 1)], [(499_571, 1)])
    # short 3 of 3: centre 499,600.5, half spread 110; the ask side stops
    assert mm.quotes(book, -3) == ([(499_490, 1)], [])
    # microprice (499,000 * 3000 + 500,001 * 1000) / 4000 = 499,250.25, flat
    micro = MarketMaker("micro", MarketMakerParams(fair="microprice", half_spread_ticks=100))
    desk.set_book([(499_000, 1000)], [(500_001, 3000)])
    assert micro.quotes(book, 0) == ([(499_150, 1)], [(499_351, 1)])
