"""``ma_cross`` on the paper desk: bars from trades; a cross up buys, a cross down sells."""

from __future__ import annotations

import pytest

from engine.core.events import Side
from engine.strategy.base import ParamsError, decode_params
from engine.strategy.ma_cross import MaCross, MaCrossParams
from tests.engine.strategy.conftest import StrategyDesk

BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]
SECOND = 1_000_000_000


def bars(desk: StrategyDesk, closes: list[int]) -> None:
    """One trade per one-second bar at each price (a bar closes at the next bar's trade)."""
    for price in closes:
        desk.clock.advance(SECOND)
        desk.trade(price, 1, Side.BUY)


async def started(desk: StrategyDesk, **params) -> MaCross:
    """A cross of 2 over 3 one-second bars, started on a two-sided book."""
    s = MaCross("ma", MaCrossParams(fast=2, slow=3, size_lots=4, **params))
    desk.runner.add(s)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    return s


async def test_a_cross_up_buys_and_a_cross_down_sells_back(desk: StrategyDesk):
    """Falling closes then rising ones: long 4 lots; falling again: flat (no shorting)."""
    s = await started(desk)
    bars(desk, [499_500, 499_400, 499_300, 499_200])
    assert s.ctx.position(0).net_lots == 0
    bars(desk, [499_600, 499_900, 499_950])
    await desk.settle()
    assert s.crosses == 1
    assert s.ctx.position(0).net_lots == 4
    assert s.status()["target_lots"] == 4
    bars(desk, [499_000, 498_500, 498_000])
    await desk.settle()
    assert s.crosses == 2
    assert s.ctx.position(0).net_lots == 0


async def test_short_allowed_goes_short_on_a_cross_down(desk: StrategyDesk):
    """Rising then falling with allow_short: short 4 lots."""
    s = await started(desk, allow_short=True)
    bars(desk, [499_200, 499_300, 499_400, 499_500, 499_000, 498_800, 498_700])
    await desk.settle()
    assert s.ctx.position(0).net_lots == -4


def test_slow_must_exceed_fast():
    """A fast window not shorter than the slow one is refused, naming slow."""
    with pytest.raises(ParamsError, match="slow=5 refused") as caught:
        decode_params(MaCrossParams, {"fast": 5, "slow": 5}, "ma")
    assert caught.value.field == "slow"
    assert "2 <= int <= 10000" in caught.value.allowed


async def test_a_parameter_change_keeps_the_position(desk: StrategyDesk):
    """Long after a cross, then a new slippage: still long, nothing sent; new windows restart."""
    s = await started(desk)
    bars(desk, [499_500, 499_400, 499_300, 499_200, 499_600, 499_900, 499_950])
    await desk.settle()
    assert s.ctx.position(0).net_lots == 4
    sent = s.ctx.sent
    desk.runner.set_params("ma", {"slippage_ticks": 3, "slow": 4})
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    assert s.ctx.position(0).net_lots == 4
    assert s.ctx.sent == sent
    assert s.target.slippage_ticks == 3
    assert s.slow.n == 4
    assert s.slow.value is None
