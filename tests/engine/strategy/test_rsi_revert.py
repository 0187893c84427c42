"""``rsi_revert`` on the paper desk: oversold buys, back at the middle closes, overbought sells."""

from __future__ import annotations

import pytest

from engine.core.events import Side
from engine.strategy.base import ParamsError, decode_params
from engine.strategy.rsi_revert import RsiRevert, RsiRevertParams
from tests.engine.strategy.conftest import StrategyDesk

SECOND = 1_000_000_000


def bars(desk: StrategyDesk, closes: list[int]) -> None:
    """One trade per one-second bar."""
    for price in closes:
        desk.clock.advance(SECOND)
        desk.trade(price, 1, Side.SELL)


async def test_it_fades_extremes_and_closes_at_the_middle(desk: StrategyDesk):
    """Five falls: RSI 0, buy 3; a rebound past 50: flat; five rises more: RSI high, short 3."""
    s = RsiRevert("rsi", RsiRevertParams(period=3, size_lots=3))
    desk.runner.add(s)
    desk.runner.start()
    desk.set_book([(499_000, 1000)], [(500_000, 1000)])
    bars(desk, [499_500, 499_400, 499_300, 499_200, 499_100, 499_000])
    await desk.settle()
    assert s.rsi.value == 0.0
    assert s.ctx.position(0).net_lots == 3
    bars(desk, [499_400, 499_500])
    await desk.settle()
    assert s.rsi.value is not None
    assert s.rsi.value > 50
    assert s.ctx.position(0).net_lots == 0
    bars(desk, [499_600, 499_700, 499_800, 499_900])
    await desk.settle()
    assert s.ctx.position(0).net_lots == -3
    assert s.status()["signals"] == 3


def test_the_decision_table():
    """Oversold long, overbought short (or flat), the middle closes, in between holds."""
    s = RsiRevert("rsi", RsiRevertParams(size_lots=2, allow_short=False))
    assert s.decide(10.0, 0) == 2
    assert s.decide(90.0, 2) == 0
    assert s.decide(40.0, 2) == 2
    assert s.decide(55.0, 2) == 0
    assert s.decide(45.0, -2) == 0


def test_exit_level_must_lie_between_the_bounds():
    """An exit level outside oversold..overbought is refused, naming exit_level."""
    with pytest.raises(ParamsError) as caught:
        decode_params(RsiRevertParams, {"oversold": 30, "overbought": 70, "exit_level": 80}, "r")
    assert caught.value.field == "exit_level"
    assert caught.value.value == 80
