"""A trading desk for strategy tests: OMS, risk, breaker and runner on the paper gateway.

Everything is the production path in-process: orders go from a strategy's context through the
order manager and the risk pipeline into the paper gateway's matching core, and its reports come
back through the strategy listener (the OMS first, then the strategy).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.core.clock import SimClock
from engine.core.events import Side, Trade
from engine.core.instruments import Instrument
from engine.oms.ids import ClientOrderIds
from engine.oms.manager import OrderManager
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.limits import Limits, RiskLimits
from engine.risk.pipeline import RiskPipeline
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.strategy.runner import StrategyRunner

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", min_notional="1")
LIMITS = RiskLimits(
    daily_loss_limit="100000",
    max_drawdown="100000",
    defaults=Limits(
        max_order_size="10",
        max_order_notional="1000000",
        max_market_order_size="10",
        max_market_order_notional="1000000",
        max_position="100",
        max_open_orders=100,
        max_orders_per_second=1000,
        max_orders_per_minute=10000,
        price_band_bps=500,
        post_only_band_bps=500,
        max_data_age_ms=60_000,
    ),
)
_tid = itertools.count(1)


class StrategyDesk:
    """The engine's trading wiring with a strategy runner, without the process around it."""

    def __init__(self, state: Path, *, timer=None) -> None:
        self.clock = SimClock()
        self.portfolio = Portfolio([BTC], self.clock)
        self.risk = RiskPipeline([BTC], LIMITS, self.clock, self.portfolio)
        self.oms = OrderManager(
            [BTC],
            clock=self.clock,
            risk=self.risk,
            portfolio=self.portfolio,
            ids=ClientOrderIds("t", state / "ids.json"),
            journal=None,
            market=self.market,
            breaker_tripped=lambda: False,
            on_trip=self.risk.halt,
        )
        self.book = OrderBook(BTC.symbol)
        extra = {} if timer is None else {"timer": timer}
        self.runner = StrategyRunner(
            self.oms, {0: self.book}, self.clock, halted=lambda: self.risk.halted, **extra
        )
        self.core = MatchingCore(BTC, fees=FeeSchedule("0", "0"))
        self.gateway = PaperGateway(
            [BTC], self.runner.listener(), self.clock, SimulatedExchange({0: self.core})
        )
        self.oms.attach(self.gateway)

    def market(self, instrument: int) -> MarketState:
        """The book's top, always fresh."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=True,
            recv_ts=self.clock.time_ns(),
        )

    def set_book(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """Set the whole public book (engine book and the paper core), then tell the strategies."""
        self.clock.advance(1_000_000)
        arr = [np.array(v, dtype=np.int64) for v in ([p for p, _ in bids], [s for _, s in bids])]
        arr += [np.array(v, dtype=np.int64) for v in ([p for p, _ in asks], [s for _, s in asks])]
        self.book.apply_snapshot(*arr, update_id=self.book.update_id + 1)
        self.gateway.on_snapshot(0, bids, asks)
        self.runner.on_book(0)

    def trade(self, price: int, size: int, aggressor: Side) -> None:
        """A public trade prints (the paper core fills resting orders it crosses)."""
        self.clock.advance(1000)
        ts = self.clock.time_ns()
        trade = Trade(
            instrument=0,
            trade_id=next(_tid),
            price=price,
            size=size,
            aggressor=aggressor,
            exch_ts=ts,
            recv_ts=ts,
        )
        self.gateway.on_trade(trade)
        self.runner.on_trade(trade)

    async def settle(self) -> None:
        """Let the paper venue answer everything sent so far."""
        await self.gateway.open_orders()


@pytest.fixture
async def desk(tmp_path: Path):
    """A started desk with an empty book."""
    d = StrategyDesk(tmp_path)
    await d.gateway.start()
    yield d
    await d.gateway.stop()
