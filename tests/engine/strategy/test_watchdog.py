"""The watchdog on the paper desk: a callback that never returns is interrupted, others go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.events import AlertLevel, Side
from engine.oms.order import OrderStatus
from engine.strategy.base import Params, Strategy
from engine.strategy.context import BookReader
from engine.strategy.runner import StrategyRunner
from engine.strategy.watchdog import CallbackHung, Watchdog
from tests.engine.strategy.conftest import StrategyDesk

BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]


class Spinner(Strategy[Params]):
    """Bids on the first book, then loops forever on the second, swallowing ordinary errors."""

    def __init__(self, name: str) -> None:
        super().__init__(name, Params())
        self.books = 0

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Bid the first time; spin the second."""
        self.books += 1
        if self.books == 1:
            self.ctx.submit(instrument, Side.BUY, 1, 498_000)
            return
        while True:
            try:
                self.books += 0
            except Exception:  # noqa: S112 - a careless strategy; the watchdog must still win
                continue


class Counter(Strategy[Params]):
    """Counts the books it sees."""

    def __init__(self, name: str) -> None:
        super().__init__(name, Params())
        self.books = 0

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Count it."""
        self.books += 1


@pytest.fixture
async def fast_desk(tmp_path: Path):
    """A desk whose runner interrupts callbacks after 50 ms (1 ms budget x 50)."""
    d = StrategyDesk(tmp_path)
    d.runner = StrategyRunner(
        d.oms,
        {0: d.book},
        d.clock,
        halted=lambda: d.risk.halted,
        budget_ns=1_000_000,
        watchdog_factor=50,
    )
    d.gateway.listener = d.runner.listener()
    await d.gateway.start()
    yield d
    d.runner.close()
    await d.gateway.stop()


async def test_an_endless_on_book_is_interrupted_and_its_strategy_stopped(fast_desk):
    """A strategy looping forever in on_book is stopped, its orders canceled, an alert raised."""
    desk = fast_desk
    spin, other = Spinner("spin"), Counter("other")
    desk.runner.add(spin)
    desk.runner.add(other)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    (order,) = spin.ctx.open_orders()
    desk.set_book(BIDS, ASKS)  # spins until the watchdog interrupts it
    await desk.settle()
    stats = {s.name: s for s in desk.runner.stats()}
    assert not stats["spin"].running
    assert "never returned" in stats["spin"].error
    assert desk.oms.orders[order.client_order_id].status is OrderStatus.CANCELED
    # The crash is critical; an over-budget warning for the same callback may come with it.
    levels = [a.level for a in desk.oms.alerts if a.source == "strategy:spin"]
    assert AlertLevel.CRITICAL in levels
    assert desk.runner.watchdog is not None
    assert desk.runner.watchdog.interrupts == 1
    desk.set_book(BIDS, ASKS)  # the engine goes on: the other strategy still runs
    assert other.books == 3
    assert stats["other"].running


async def test_a_callback_that_returns_is_never_interrupted(fast_desk):
    """Callbacks inside their limit run to completion and nothing is raised afterwards."""
    desk = fast_desk
    other = Counter("other")
    desk.runner.add(other)
    desk.runner.start()
    for _ in range(200):
        desk.set_book(BIDS, ASKS)
    assert other.books == 200
    assert desk.runner.watchdog is not None
    assert desk.runner.watchdog.interrupts == 0


def test_the_watchdog_interrupts_a_loop_on_any_thread():
    """An armed pure-Python loop gets CallbackHung; disarming leaves nothing pending."""
    dog = Watchdog(20_000_000)
    dog.arm("loop")

    def spin() -> None:
        while True:
            pass

    with pytest.raises(CallbackHung):
        spin()
    assert dog.disarm()
    assert not dog.disarm()
    dog.close()


def test_a_watchdog_limit_must_be_positive():
    """A zero limit is refused with the value named."""
    with pytest.raises(ValueError, match="0 ns"):
        Watchdog(0)
