"""``grid`` on the paper desk: levels around the anchor, a filled buy answered one level up."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Side
from engine.strategy.grid import Grid, GridParams
from tests.engine.strategy.conftest import StrategyDesk


def resting(s: Grid) -> tuple[list[int], list[int]]:
    """Its bid and ask prices, ascending."""
    orders = s.ctx.open_orders(0)
    return (
        sorted(o.price_ticks for o in orders if o.side is Side.BUY),
        sorted(o.price_ticks for o in orders if o.side is Side.SELL),
    )


async def test_a_filled_buy_is_answered_one_level_up(desk: StrategyDesk):
    """A buy fill adds an ask at the anchor and leaves one bid; a sell back restores the grid.

    Anchor 499,500: bids 499,300 and 499,400, asks 499,600 and 499,700.
    """
    s = Grid("grid", GridParams(step_ticks=100, levels=2, size_lots=5))
    desk.runner.add(s)
    desk.runner.start()
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    assert s.anchor == 499_500
    assert resting(s) == ([499_300, 499_400], [499_600, 499_700])
    desk.trade(499_400, 5, Side.SELL)  # a seller takes our 499,400 bid
    await desk.settle()
    assert s.ctx.position(0).net_lots == 5
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    assert resting(s) == ([499_300], [499_500, 499_600, 499_700])
    desk.trade(499_500, 5, Side.BUY)  # a buyer lifts our 499,500 ask: flat again
    await desk.settle()
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    assert s.ctx.position(0).net_lots == 0
    assert resting(s) == ([499_300, 499_400], [499_600, 499_700])


def test_the_wanted_levels_follow_the_position():
    """Short one level: a bid at the anchor, asks from two levels up; a part fill keeps a level."""
    s = Grid("grid", GridParams(step_ticks=10, levels=2, size_lots=4))
    s.anchor = 1000
    assert s.wanted(-4) == ({980: 4, 990: 4, 1000: 4}, {1020: 4})
    assert s.wanted(2) == s.wanted(0) == ({980: 4, 990: 4}, {1010: 4, 1020: 4})


async def test_halted_cancels_the_grid(desk: StrategyDesk):
    """While trading is halted it rests nothing."""
    s = Grid("grid", GridParams(step_ticks=100, levels=1))
    desk.runner.add(s)
    desk.runner.start()
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    assert s.ctx.open_orders(0)
    desk.risk.halt("test")
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    await desk.settle()
    assert not s.ctx.open_orders(0)


@settings(max_examples=100, deadline=None)
@given(st.integers(-60, 60), st.integers(1, 10), st.integers(1, 8), st.integers(1, 50))
def test_the_grid_never_crosses_itself(held: int, levels: int, size: int, step: int):
    """Any position: bids all below asks, one level between them, at most 2 * levels orders."""
    s = Grid("grid", GridParams(step_ticks=step, levels=levels, size_lots=size))
    s.anchor = 10_000
    bids, asks = s.wanted(held)
    if bids and asks:
        assert max(bids) + 2 * step == min(asks)
    assert len(bids) + len(asks) <= 2 * levels
    assert all(v == size for v in (*bids.values(), *asks.values()))
    assert all((p - 10_000) % step == 0 for p in (*bids, *asks))
