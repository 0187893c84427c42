"""A desk with one instrument on each of two venues, each with its own paper gateway."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from engine.book.order_book import OrderBook
from engine.core.clock import SimClock
from engine.core.events import Side, Trade
from engine.core.instruments import Instrument
from engine.oms.ids import ClientOrderIds
from engine.oms.manager import OrderManager
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.pipeline import RiskPipeline
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.strategy.runner import StrategyRunner
from tests.engine.strategy.conftest import LIMITS

LEAD = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", instrument_id=0
)
"""Leader: ticks of 0.1, lots of 0.01."""
FOLLOW = Instrument(
    venue="bybit", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1
)
"""Follower: ticks of 0.01 (10 per leader tick), lots of 0.001 (10 per leader lot)."""
_tid = itertools.count(1)


class TwoVenueDesk:
    """OMS, risk and a runner over two venues' paper gateways."""

    def __init__(self, state: Path) -> None:
        self.clock = SimClock()
        both = [LEAD, FOLLOW]
        self.portfolio = Portfolio(both, self.clock)
        self.risk = RiskPipeline(both, LIMITS, self.clock, self.portfolio)
        self.oms = OrderManager(
            both,
            clock=self.clock,
            risk=self.risk,
            portfolio=self.portfolio,
            ids=ClientOrderIds("t", state / "ids.json"),
            journal=None,
            market=self.market,
            breaker_tripped=lambda: False,
            on_trip=self.risk.halt,
        )
        self.books = {0: OrderBook(LEAD.symbol), 1: OrderBook(FOLLOW.symbol)}
        self.runner = StrategyRunner(
            self.oms, self.books, self.clock, halted=lambda: self.risk.halted
        )
        self.gateways = {}
        for inst in both:
            core = MatchingCore(inst, fees=FeeSchedule("0", "0"))
            gateway = PaperGateway(
                [inst],
                self.runner.listener(),
                self.clock,
                SimulatedExchange({inst.instrument_id: core}),
            )
            self.oms.attach(gateway)
            self.gateways[inst.instrument_id] = gateway

    def market(self, instrument: int) -> MarketState:
        """The book's top, always fresh."""
        book = self.books[instrument]
        bid, ask = book.best_bid(), book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=True,
            recv_ts=self.clock.time_ns(),
        )

    def set_book(
        self, instrument: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
    ) -> None:
        """Set one instrument's whole book, then tell the strategies."""
        self.clock.advance(1_000_000)
        book = self.books[instrument]
        cols = [np.array(c, dtype=np.int64) for c in ([p for p, _ in bids], [s for _, s in bids])]
        cols += [np.array(c, dtype=np.int64) for c in ([p for p, _ in asks], [s for _, s in asks])]
        book.apply_snapshot(*cols, update_id=book.update_id + 1)
        self.gateways[instrument].on_snapshot(instrument, bids, asks)
        self.runner.on_book(instrument)

    def trade(self, instrument: int, price: int, size: int, aggressor: Side) -> None:
        """A public trade on one instrument."""
        self.clock.advance(1000)
        ts = self.clock.time_ns()
        trade = Trade(
            instrument=instrument,
            trade_id=next(_tid),
            price=price,
            size=size,
            aggressor=aggressor,
            exch_ts=ts,
            recv_ts=ts,
        )
        self.gateways[instrument].on_trade(trade)
        self.runner.on_trade(trade)

    async def start(self) -> None:
        """Start both gateways."""
        for gateway in self.gateways.values():
            await gateway.start()

    async def stop(self) -> None:
        """Stop both gateways."""
        for gateway in self.gateways.values():
            await gateway.stop()

    async def settle(self) -> None:
        """Let both venues answer everything sent so far."""
        for gateway in self.gateways.values():
            await gateway.open_orders()
