"""The runner on the paper desk: buffered actions through risk, isolation, timers and timings."""

from __future__ import annotations

import itertools
import time

import pytest

from engine.core.events import AlertLevel, OrderUpdate, OrderUpdateKind, Side
from engine.oms.order import OrderStatus
from engine.strategy.base import Params, ParamsError, Strategy
from engine.strategy.context import BookReader, StrategyStopped
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.runner import CPU_EVERY
from tests.engine.strategy.conftest import StrategyDesk

BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]


class Recorder(Strategy[Params]):
    """Sends one bid per book update and records what it is told."""

    def __init__(self, name: str, desk: StrategyDesk, size: int = 1) -> None:
        super().__init__(name, Params())
        self.desk = desk
        self.size = size
        self.seen_during: list[int] = []
        self.updates: list[OrderUpdate] = []
        self.fills = 0
        self.timers: list[str] = []

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Bid at the touch."""
        bid = book.best_bid()
        assert bid is not None
        self.ctx.submit(instrument, Side.BUY, self.size, bid[0])
        self.seen_during.append(len(self.desk.oms.orders))

    def on_order(self, update: OrderUpdate) -> None:
        """Keep it."""
        self.updates.append(update)

    def on_fill(self, fill) -> None:
        """Count it."""
        self.fills += 1

    def on_timer(self, name: str, now_ns: int) -> None:
        """Keep its name."""
        self.timers.append(name)


class Boom(Recorder):
    """Sends a bid, then raises on the second book update."""

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Bid, then fail the second time."""
        super().on_book(instrument, book)
        if len(self.seen_during) == 2:
            raise ZeroDivisionError("bad maths")


async def test_actions_are_buffered_until_the_callback_returns(desk: StrategyDesk):
    """An order submitted in a callback reaches the OMS only after the callback returns."""
    rec = Recorder("rec", desk)
    desk.runner.add(rec)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    assert rec.seen_during == [0]
    assert len(desk.oms.orders) == 1
    await desk.settle()
    (order,) = rec.ctx.open_orders()
    assert order.status is OrderStatus.ACCEPTED
    assert [u.kind for u in rec.updates] == [OrderUpdateKind.ACCEPTED]


async def test_a_risk_refusal_comes_back_as_rejected_and_never_reaches_the_venue(desk):
    """An order over the size limit is refused by risk and the strategy hears why."""
    rec = Recorder("rec", desk, size=5000)
    desk.runner.add(rec)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    assert desk.gateway.stats.requests == 0
    (update,) = rec.updates
    assert update.kind is OrderUpdateKind.REJECTED
    assert update.reason.startswith("order_size")
    assert rec.ctx.refused == 1


async def test_a_strategy_that_raises_is_stopped_its_orders_canceled_and_alerted(desk):
    """The raising strategy stops with its orders canceled; another strategy goes on."""
    boom, calm = Boom("boom", desk), Recorder("calm", desk)
    desk.runner.add(boom)
    desk.runner.add(calm)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    desk.set_book([(499_100, 1000)], ASKS)
    await desk.settle()
    assert boom.ctx.open_orders() == []
    assert len(calm.ctx.open_orders()) == 2
    (stats,) = [s for s in desk.runner.stats() if s.name == "boom"]
    assert not stats.running
    assert "ZeroDivisionError" in stats.error
    alert = desk.oms.alerts[-1]
    assert alert.level is AlertLevel.CRITICAL
    assert alert.source == "strategy:boom"
    with pytest.raises(StrategyStopped):
        boom.ctx.submit(0, Side.BUY, 1, 499_000)
    desk.set_book(BIDS, ASKS)
    assert len(boom.seen_during) == 2


async def test_fills_go_to_the_strategy_that_sent_the_order(desk: StrategyDesk):
    """A fill moves only its own strategy's position and reaches only its on_fill."""
    a, b = Recorder("a", desk), Recorder("b", desk)
    desk.runner.add(a)
    desk.runner.add(b)
    desk.runner.start("a")
    desk.set_book(BIDS, ASKS)
    desk.runner.start("b")
    await desk.settle()
    desk.trade(499_000, 1001, Side.SELL)
    await desk.settle()
    assert (a.fills, a.ctx.position(0).net_lots) == (1, 1)
    assert (b.fills, b.ctx.position(0).net_lots) == (0, 0)


async def test_the_runner_names_the_strategy_that_sent_an_order(desk: StrategyDesk):
    """Each order maps to its own strategy; an id no strategy sent maps to nothing."""
    a = Recorder("a", desk)
    desk.runner.add(a)
    desk.runner.start("a")
    desk.set_book(BIDS, ASKS)
    (cid,) = desk.oms.orders
    assert desk.runner.owner(cid) == "a"
    assert desk.runner.owner("t-999") == ""


async def test_timers_fire_on_the_clock(desk: StrategyDesk):
    """A timer set for 1 s fires once per second of clock time and stops when canceled."""
    rec = Recorder("rec", desk)
    desk.runner.add(rec)
    desk.runner.start()
    rec.ctx.set_timer("tick", 1_000_000_000)
    desk.clock.advance(999_999_999)
    assert desk.runner.run_timers() == 0
    desk.clock.advance(1)
    assert desk.runner.run_timers() == 1
    desk.clock.advance(1_000_000_000)
    desk.runner.run_timers()
    rec.ctx.set_timer("tick", 0)
    desk.clock.advance(5_000_000_000)
    desk.runner.run_timers()
    assert rec.timers == ["tick", "tick"]


async def test_a_callback_past_its_budget_is_reported(tmp_path):
    """A callback timed past the budget is counted and alerted; p50/p99 come from the samples."""
    ticks = itertools.count(0, 7_000_000)
    d = StrategyDesk(tmp_path, timer=lambda: next(ticks))
    await d.gateway.start()
    try:
        rec = Recorder("slow", d)
        d.runner.add(rec)
        d.runner.start()
        d.set_book(BIDS, ASKS)
        (stats,) = d.runner.stats()
        assert stats.over_budget == 2
        assert stats.p50_ns == stats.p99_ns == 7_000_000
        assert d.oms.alerts[-1].level is AlertLevel.WARNING
        assert "budget" in d.oms.alerts[-1].message
    finally:
        await d.gateway.stop()


class Spinner(Recorder):
    """Burns CPU in every book callback (about 2 ms) and sends nothing."""

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Spin."""
        end = time.thread_time_ns() + 2_000_000
        while time.thread_time_ns() < end:
            pass


async def test_every_eighth_callback_has_its_cpu_time_measured(desk: StrategyDesk):
    """CPU p50/p99 come from a sample of callbacks and count the strategy's own work."""
    spin = Spinner("spin", desk)
    desk.runner.add(spin)
    desk.runner.start("spin")
    for _ in range(2 * CPU_EVERY):
        desk.runner.on_book(0)
    (stats,) = [s for s in desk.runner.stats() if s.name == "spin"]
    assert stats.callbacks == 2 * CPU_EVERY + 1  # and on_start
    assert 2_000_000 <= stats.cpu_p50_ns <= stats.cpu_p99_ns
    assert stats.cpu_p99_ns <= stats.max_ns + 1_000_000  # CPU time is never far past wall time


async def test_parameters_change_live_and_bad_ones_keep_the_old(desk: StrategyDesk):
    """A valid change reaches the strategy; a refused one leaves the values in force."""
    mm = MarketMaker("mm", MarketMakerParams(half_spread_ticks=10))
    desk.runner.add(mm)
    desk.runner.start()
    desk.runner.set_params("mm", {"half_spread_ticks": 20})
    assert mm.params.half_spread_ticks == 20
    with pytest.raises(ParamsError):
        desk.runner.set_params("mm", {"half_spread_ticks": -1})
    assert mm.params.half_spread_ticks == 20


async def test_stopping_cancels_the_strategys_orders(desk: StrategyDesk):
    """An orderly stop cancels the strategy's open orders; a second stop reports no change."""
    rec = Recorder("rec", desk)
    desk.runner.add(rec)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    assert desk.runner.stop("rec") is True
    await desk.settle()
    assert rec.ctx.open_orders() == []
    assert desk.oms.open_orders() == []
    assert desk.runner.stop("rec") is False
