"""``imbalance`` on the paper desk: take on a confirmed signal, lean quotes on it."""

from __future__ import annotations

from engine.core.events import Side
from engine.strategy.imbalance import Imbalance, ImbalanceParams
from tests.engine.strategy.conftest import StrategyDesk

HEAVY_BID = ([(499_900, 5000), (499_800, 5000)], [(500_000, 500), (500_100, 500)])
HEAVY_ASK = ([(499_900, 500), (499_800, 500)], [(500_000, 5000), (500_100, 5000)])
BALANCED = ([(499_900, 1000)], [(500_000, 1000)])


def flow(desk: StrategyDesk, side: Side, n: int = 3) -> None:
    """``n`` taker trades of one side."""
    for _ in range(n):
        desk.trade(499_950, 10, side)


async def test_take_goes_with_book_and_flow_and_flips(desk: StrategyDesk):
    """Bids heavy and takers buying: long; asks heavy and takers selling: short."""
    s = Imbalance("imb", ImbalanceParams(depth=2, flow_trades=3, size_lots=7, hold_ms=0))
    desk.runner.add(s)
    desk.runner.start()
    desk.set_book(*BALANCED)
    flow(desk, Side.BUY)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 0  # the book alone is balanced
    desk.set_book(*HEAVY_BID)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 7
    flow(desk, Side.SELL)
    desk.set_book(*HEAVY_ASK)
    await desk.settle()
    desk.set_book(*HEAVY_ASK)
    await desk.settle()
    assert s.ctx.position(0).net_lots == -7
    assert s.entries == 2


async def test_take_waits_for_the_flow_to_confirm(desk: StrategyDesk):
    """A heavy bid book with takers selling is no signal."""
    s = Imbalance("imb", ImbalanceParams(depth=2, flow_trades=3, size_lots=7))
    desk.runner.add(s)
    desk.runner.start()
    flow(desk, Side.SELL)
    desk.set_book(*HEAVY_BID)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 0
    assert s.status()["entries"] == 0


async def test_take_closes_after_hold_without_signal(desk: StrategyDesk):
    """Long on a signal, then a balanced book for longer than hold_ms: flat."""
    s = Imbalance("imb", ImbalanceParams(depth=2, flow_trades=3, size_lots=2, hold_ms=100))
    desk.runner.add(s)
    desk.runner.start()
    flow(desk, Side.BUY)
    desk.set_book(*HEAVY_BID)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 2
    desk.clock.advance(200_000_000)
    desk.set_book(*BALANCED)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 0


async def test_lean_shifts_both_quotes_with_the_signal(desk: StrategyDesk):
    """Balanced: quotes 20 ticks around the mid; bids heavy and buyers: both shifted up."""
    params = ImbalanceParams(
        mode="lean", depth=2, flow_trades=3, half_spread_ticks=20, lean_ticks=40, size_lots=1
    )
    s = Imbalance("imb", params)
    desk.runner.add(s)
    desk.runner.start()
    flow(desk, Side.BUY, 2)
    flow(desk, Side.SELL, 1)
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    # book 0, flow (20 - 10) / 30: signal 1/6, shift round(80 / 6) / 2 = 6.5 -> centre 499,506.5
    orders = sorted((o.side, o.price_ticks) for o in s.ctx.open_orders(0))
    assert orders == [(Side.BUY, 499_486), (Side.SELL, 499_527)]
