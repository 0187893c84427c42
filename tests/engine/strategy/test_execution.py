"""``twap`` and ``vwap`` on the paper desk: slices by time and by volume, finish and report."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Side
from engine.strategy.twap import Twap, TwapParams
from engine.strategy.vwap import Vwap, VwapParams
from tests.engine.strategy.conftest import StrategyDesk

SECOND = 1_000_000_000
BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]


def tick(desk: StrategyDesk, ns: int) -> None:
    """Let time pass and fire due timers."""
    desk.clock.advance(ns)
    desk.runner.run_timers()


async def test_twap_slices_evenly_then_finishes_filled(desk: StrategyDesk):
    """100 lots in 4 slices over 40 s: 25 at once, 50 by 10 s, 75 by 20 s, 100 by 30 s."""
    desk.set_book(BIDS, ASKS)
    s = Twap("twap", TwapParams(side="buy", total_lots=100, duration_s=40, slices=4))
    desk.runner.add(s)
    desk.runner.start()
    await desk.settle()
    seen = [s.filled_lots()]
    for _ in range(3):
        tick(desk, 10 * SECOND)
        await desk.settle()
        seen.append(s.filled_lots())
    assert seen == [25, 50, 75, 100]
    tick(desk, SECOND)
    assert s.report is not None
    assert s.report.reason == "filled"
    assert s.report.filled_lots == 100
    assert s.report.avg_price_ticks == 500_000.0
    assert s.report.arrival_mid_ticks == 499_500.0
    assert s.report.slippage_ticks == 500.0
    assert s.report.children == 4
    assert s.status()["done"] is True


async def test_twap_sell_under_a_limit_reports_the_shortfall(desk: StrategyDesk):
    """A sell never below 499,500 finds no bid there: nothing fills, it finishes at the deadline."""
    desk.set_book(BIDS, ASKS)
    params = TwapParams(side="sell", total_lots=10, duration_s=2, slices=2, limit_ticks=499_500)
    s = Twap("twap", params)
    desk.runner.add(s)
    desk.runner.start()
    for _ in range(4):
        await desk.settle()
        tick(desk, SECOND)
    await desk.settle()
    tick(desk, SECOND)
    assert s.report is not None
    assert s.report.reason == "deadline"
    assert s.report.filled_lots == 0
    assert s.report.avg_price_ticks is None


async def test_vwap_follows_the_market_volume(desk: StrategyDesk):
    """At 20 percent, 100 lots traded by others makes 20 due; it stops at its total."""
    desk.set_book(BIDS, ASKS)
    params = VwapParams(side="buy", total_lots=30, participation_pct=20, min_child_lots=5)
    s = Vwap("vwap", params)
    desk.runner.add(s)
    desk.runner.start()
    await desk.settle()
    assert s.filled_lots() == 0
    desk.trade(499_500, 20, Side.SELL)
    await desk.settle()
    assert s.filled_lots() == 0  # 4 due, below the smallest child
    desk.trade(499_500, 80, Side.SELL)
    await desk.settle()
    assert s.filled_lots() == 20
    desk.trade(499_500, 500, Side.BUY)
    await desk.settle()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    assert s.filled_lots() == 30
    assert s.report is not None
    assert s.report.reason == "filled"
    assert s.status()["market_lots"] == 600


async def test_stopping_a_vwap_reports_it_stopped(desk: StrategyDesk):
    """Stopped before it is done: the report says stopped, with what was filled."""
    desk.set_book(BIDS, ASKS)
    s = Vwap("vwap", VwapParams(side="buy", total_lots=30, participation_pct=10))
    desk.runner.add(s)
    desk.runner.start()
    desk.trade(499_500, 50, Side.SELL)
    await desk.settle()
    desk.runner.stop("vwap")
    assert s.report is not None
    assert s.report.reason == "stopped"
    assert s.report.filled_lots == 5


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 3600), st.integers(1, 500))
def test_twap_schedule_rises_evenly_to_the_total(total: int, duration_s: int, slices: int):
    """Due lots never fall, start at one slice, and reach the total by the last slice."""
    s = Twap("t", TwapParams(total_lots=total, duration_s=duration_s, slices=slices))
    end = duration_s * SECOND
    now = {"t": 0}
    s.elapsed_ns = lambda: now["t"]  # type: ignore[method-assign]
    seen = []
    for k in range(slices):
        now["t"] = end * k // slices + (1 if end * k % slices else 0)
        seen.append(s.due_lots())
    assert seen == sorted(seen)
    assert seen[0] == total // slices
    assert seen[-1] == total
    now["t"] = end - 1
    assert s.due_lots() == total


async def test_twap_catches_up_after_the_schedule(desk: StrategyDesk):
    """A buy capped at 500,000 misses while the ask is higher; in the catch-up time it takes all."""
    desk.set_book(BIDS, [(500_100, 1000)])
    params = TwapParams(
        side="buy", total_lots=10, duration_s=2, slices=2, limit_ticks=500_000, catch_up_s=5
    )
    s = Twap("twap", params)
    desk.runner.add(s)
    desk.runner.start()
    for _ in range(3):
        await desk.settle()
        tick(desk, SECOND)
    assert s.filled_lots() == 0
    assert s.report is None  # past the schedule, inside the catch-up time
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    tick(desk, SECOND // 10)
    await desk.settle()
    tick(desk, SECOND // 10)
    assert s.report is not None
    assert s.report.reason == "filled"
    assert s.report.filled_lots == 10


async def test_arrival_mid_is_the_first_two_sided_book(desk: StrategyDesk):
    """Started on an empty book: the arrival mid is the first book's, and then it trades."""
    s = Twap("twap", TwapParams(side="buy", total_lots=4, duration_s=4, slices=1))
    desk.runner.add(s)
    desk.runner.start()
    assert s.arrival_mid is None
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    tick(desk, SECOND)
    assert s.report is not None
    assert s.report.arrival_mid_ticks == 499_500.0
    assert s.report.filled_lots == 4
