"""One backtest run: the live engine's objects on a simulated clock, fed by a recorded market.

:class:`BacktestRun` wires the same objects as the live engine, built the same way: books
(:class:`~engine.book.order_book.OrderBook`), the risk pipeline, the order manager, the strategy
runner and its contexts, and for the venue the paper gateway's matching
(:func:`engine.gateways.sim_exchange`: queue model, latency, fees per venue) in
:class:`~backtest.gateway.BacktestGateway`. Only the clock (:class:`SimClock`), the market data
(a :class:`~backtest.source.Source`) and the absence of a journal differ. The run is the
:class:`~backtest.replay.ReplayTarget` of a :class:`~backtest.replay.Replay`.

Events before ``start_ns`` build the books and the venue's mirror; the strategy starts at the
first event at or after it. Every ``housekeeping_ms`` of simulated time positions are marked to
mid and the loss limits checked, as the live engine's housekeeping does; every ``sample_ms`` the
equity (realised, unrealised, fees, net, inventory) is sampled. A breaker trip halts the risk
pipeline and cancels every open order; the run goes on with the strategy refused. A strategy
that does not override ``on_trade`` is not dispatched public trades (the call would do nothing:
its actions are flushed after every callback); they still reach the venue's matching.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec

from backtest.capture import iso
from backtest.config import BacktestConfig
from backtest.errors import BacktestSetupError, DataRangeError
from backtest.gateway import BacktestGateway
from backtest.replay import Replay
from backtest.source import MarketEvent, Source
from engine.book.order_book import OrderBook
from engine.book.order_book import warm_up as warm_up_kernels
from engine.core.clock import SimClock
from engine.core.config import StrategySection
from engine.core.events import BookDelta, Fill, Trade
from engine.core.instruments import Instrument
from engine.gateways import sim_exchange
from engine.jit import KernelLoadError
from engine.oms.ids import ClientOrderIds
from engine.oms.manager import OrderManager
from engine.oms.order import Order
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.pipeline import RiskPipeline
from engine.sim.fees import FeeSchedule
from engine.sim.latency import ConstantLatency, LatencyModel, SampledLatency
from engine.strategy.base import Strategy
from engine.strategy.registry import build_strategy
from engine.strategy.runner import StrategyRunner

log = logging.getLogger("backtest")

MS = 1_000_000
INSTANCE = "bt"
"""The instance name in the run's client order ids (``bt-1``, ``bt-2``, ...)."""
BUDGET_NS = 1_000_000_000
"""Callback budget in a backtest: wall time is not the run's time, so only a hang is reported."""


class _RunIds(ClientOrderIds):
    """Client order ids that live only as long as the run: counted from 1, nothing on disk."""

    def __init__(self) -> None:
        super().__init__(INSTANCE, Path("backtest-ids.json"), block=1 << 62)

    def _load(self) -> int:
        """A run starts from nothing."""
        return 0

    def _save(self, reserved: int) -> None:
        """Nothing to persist."""


@dataclass(frozen=True, slots=True)
class BookedFill:
    """A fill as the engine booked it, with the simulated time it was booked at."""

    fill: Fill
    booked_ns: int
    mid_x2: int
    """The engine's best bid + best ask (ticks) when it booked the fill; 0 when unknown."""


@dataclass(frozen=True, slots=True)
class EquitySample:
    """The account at one sampling instant (quote currency, exact)."""

    ts_ns: int
    realised: Decimal
    unrealised: Decimal
    fees: Decimal
    net: Decimal
    inventory_lots: tuple[int, ...]
    """Net position per instrument, lots."""
    mid_x2: tuple[int, ...]
    """Best bid + best ask per instrument, ticks (0 when unknown)."""


@dataclass(slots=True)
class BacktestResult:
    """What a run produced; :mod:`backtest.metrics` and :mod:`backtest.report` read it."""

    config: BacktestConfig
    instruments: list[Instrument]
    source: str
    start_ns: int
    end_ns: int
    fills: list[BookedFill]
    orders: list[Order]
    equity: list[EquitySample]
    book_events: int
    trade_events: int
    refused: int
    halted: str
    """Why the breaker tripped during the run; empty if it never did."""
    wall_s: float = 0.0
    """Wall time of the replay (not part of the deterministic results)."""
    alerts: list[str] = field(default_factory=list)


def latency_model(config: BacktestConfig) -> LatencyModel:
    """The order and feed latencies the config asks for (seeded when sampled)."""
    paper = config.paper()
    entry, response = paper.entry_latency_us * 1000, paper.response_latency_us * 1000
    feed = config.feed_latency_us * 1000
    if config.latency_model == "lognormal":
        return SampledLatency.lognormal(
            max(entry, 1),
            max(response, 1),
            max(feed, 1),
            sigma=config.latency_sigma,
            seed=config.seed,
        )
    return ConstantLatency(entry=entry, response=response, feed=feed)


class BacktestRun:
    """The engine side and the venue side of one run; see the module docstring.

    Args:
        config: the run's configuration.
        instruments: the source's instruments.
        first_ns: the simulated clock's start (the data's first stamp).

    Raises:
        BacktestSetupError: the symbol is not in the data or a parameter is refused.
    """

    def __init__(
        self, config: BacktestConfig, instruments: list[Instrument], first_ns: int
    ) -> None:
        self.config = config
        self.instruments = instruments
        symbol = config.symbol or instruments[0].symbol
        if symbol not in {i.symbol for i in instruments}:
            raise BacktestSetupError(
                f"symbol {symbol!r} is not in the data ({', '.join(i.symbol for i in instruments)})"
            )
        self.clock = SimClock(first_ns)
        clock = self.clock
        self.books = {i.instrument_id: OrderBook(i.symbol) for i in instruments}
        self._book_ts = dict.fromkeys(self.books, 0)
        self.portfolio = Portfolio(instruments, clock)
        self.risk = RiskPipeline(instruments, config.risk, clock, self.portfolio)
        self.halted = ""
        self.fills: list[BookedFill] = []
        self.oms = OrderManager(
            instruments,
            clock=clock,
            risk=self.risk,
            portfolio=self.portfolio,
            ids=_RunIds(),
            journal=None,
            market=self.market_state,
            breaker_tripped=lambda: bool(self.halted),
            on_trip=self.trip,
            on_booked=self._booked,
            keep_finished=None,  # the run's report lists every order
        )
        self.strategies = StrategyRunner(
            self.oms, self.books, clock, halted=lambda: self.risk.halted, budget_ns=BUDGET_NS
        )
        section = StrategySection(kind=config.strategy, symbol=symbol, params=dict(config.params))
        try:
            self.strategy = build_strategy("bt", section, instruments)
        except ValueError as exc:  # ParamsError names the field, value and range
            raise BacktestSetupError(str(exc)) from exc
        self.context = self.strategies.add(self.strategy)
        self._wants_trades = type(self.strategy).on_trade is not Strategy.on_trade
        self.latency = latency_model(config)
        fees = {
            venue: FeeSchedule(rates.maker, rates.taker)
            for venue, rates in config.venue_fees.items()
        }
        exchange = sim_exchange(instruments, config.paper(), fees=fees, latency=self.latency)
        self.gateway = BacktestGateway(instruments, self.strategies.listener(), clock, exchange)
        self.oms.attach(self.gateway)
        self.gateway.stats.healthy = True
        self.start_ns = config.start_ns
        self.started = False
        self.equity: list[EquitySample] = []
        self._sample_every = config.sample_ms * MS
        self._next_sample = 0
        self._hk_every = config.housekeeping_ms * MS
        self._next_hk = first_ns + self._hk_every
        self._dirty: set[int] = set()
        self._marks: dict[int, int] = {}
        self.book_events = 0
        self.trade_events = 0

    # ---- the engine side ---------------------------------------------------------------------

    def market_state(self, instrument: int) -> MarketState:
        """The market an order is checked against: the engine's own book and its age."""
        book = self.books[instrument]
        bid, ask = book.best_bid(), book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=bid is not None and ask is not None and bid[0] < ask[0],
            recv_ts=self._book_ts[instrument],
        )

    def to_engine(self, event: MarketEvent) -> None:
        """A market event reaches the engine: the book, then the strategies (live order)."""
        iid = event.instrument
        if isinstance(event, Trade):
            self.trade_events += 1
            if self._wants_trades:
                self.strategies.on_trade(event)
            return
        book = self.books[iid]
        if isinstance(event, BookDelta):
            book.apply_delta(event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.last_id)
        else:
            book.apply_snapshot(
                event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.update_id
            )
        self.book_events += 1
        self._book_ts[iid] = self.clock.time_ns()
        self._dirty.add(iid)
        if not self.started and self.clock.time_ns() >= self.start_ns:
            self.started = True
            self.strategies.start()
        self.strategies.on_book(iid)

    def trip(self, reason: str) -> None:
        """The loss limits tripped the breaker: halt and cancel every open order."""
        if self.halted:
            return
        self.halted = reason
        self.risk.halt(reason)
        for order in self.oms.open_orders():
            self.oms.cancel(order.client_order_id, f"breaker: {reason}")

    def _booked(self, fill: Fill) -> None:
        mid_x2 = self.books[fill.instrument].mid_x2() or 0
        self.fills.append(BookedFill(fill, self.clock.time_ns(), mid_x2))

    # ---- the venue side ----------------------------------------------------------------------

    def next_due_ns(self) -> int | None:
        """When the venue next acts on a command or shows a report."""
        return self.gateway.exchange.next_due_ns()

    def deliver(self) -> None:
        """The venue's reports due now."""
        self.gateway.deliver()

    def to_venue(self, ts: int, event: MarketEvent) -> None:
        """A market event reaches the matching core."""
        self.gateway.on_market(ts, event)

    # ---- time --------------------------------------------------------------------------------

    def tick(self, now_ns: int) -> None:
        """Housekeeping (marks, loss limits, timers) and equity samples that fell due."""
        if now_ns >= self._next_hk:
            self._housekeeping()
            self._next_hk = now_ns - (now_ns - self._next_hk) % self._hk_every + self._hk_every
        if self.started and now_ns >= self._next_sample:
            if self._next_sample == 0:
                self._next_sample = now_ns
            self._mark()
            self.equity.append(self._sample(self._next_sample))
            self.context.forget_closed()  # its order table stays the size of its open orders
            self._next_sample += self._sample_every
            if now_ns >= self._next_sample:  # a quiet stretch: one sample per gap, on the grid
                self._next_sample = now_ns - (now_ns - self._next_sample) % self._sample_every
                self._next_sample += self._sample_every

    def _mark(self) -> bool:
        """Mark the changed books to mid; True when a mark moved."""
        dirty = self._dirty
        marks = self._marks
        moved = False
        while dirty:
            iid = dirty.pop()
            mid_x2 = self.books[iid].mid_x2()
            if mid_x2 is not None and mid_x2 != marks.get(iid):
                marks[iid] = mid_x2
                self.portfolio.mark(iid, mid_x2)
                moved = True
        return moved

    def _housekeeping(self) -> None:
        # Fills update the PnL the checks read as they are booked (the OMS does); between fills
        # only a moved mark can change it, so an unchanged mid costs no PnL recount.
        if self._dirty and self._mark():
            self.risk.on_pnl()
            self.oms.check_loss_limits()
        self.strategies.run_timers()

    def _sample(self, ts: int) -> EquitySample:
        totals = self.portfolio.totals()
        return EquitySample(
            ts_ns=ts,
            realised=totals.realised,
            unrealised=totals.unrealised,
            fees=totals.fees,
            net=totals.net,
            inventory_lots=tuple(self.portfolio.position(i).net for i in self.books),
            mid_x2=tuple(self.books[i].mid_x2() or 0 for i in self.books),
        )

    def finish(self) -> None:
        """The last sample, the strategy stopped (its quotes canceled, left unanswered)."""
        self._mark()
        now = self.clock.time_ns()
        if self.started and (not self.equity or self.equity[-1].ts_ns < now):
            self.equity.append(self._sample(now))
        self.strategies.stop(reason="backtest finished")
        self.strategies.close()


def check_range(source: Source, config: BacktestConfig) -> tuple[int, int]:
    """The run's (start, end) in ns, after checking the data covers it.

    Raises:
        DataRangeError: part of the range is missing (every gap named), before anything runs.
    """
    first, last = source.span()
    start = config.start_ns or first
    end = config.end_ns or last + 1
    if end <= start:
        raise DataRangeError(f"empty range: start {start} >= end {end}", [])
    missing = source.missing(start, end)
    if missing:
        raise DataRangeError(f"the data ({source.name}) does not cover the asked range", missing)
    return start, end


def prepare(config: BacktestConfig, source: Source) -> tuple[BacktestRun, Replay]:
    """Check the range, build the run and its replay (nothing replayed yet).

    Raises:
        DataRangeError: the data does not cover the range.
        BacktestSetupError: the symbol or a parameter is refused.
    """
    start, end = check_range(source, config)
    config = msgspec_replace(config, start, end)
    _use_kernels()
    events = source.events(end, config.time)
    head = next(events, None)
    if head is None:
        raise DataRangeError(f"the data ({source.name}) has no event before {iso(end)}", [])
    # The clock starts at the first event, so the same events give the same run whatever
    # else the source holds.
    run = BacktestRun(config, source.instruments, head[0])
    feed = run.latency if config.feed_latency_us or config.latency_model != "constant" else None
    replay = Replay(run, itertools.chain([head], events), feed)
    return run, replay


def _use_kernels() -> None:
    """Books and the matching core's mirror on their compiled ladders (once per process).

    About 1.5 s to load from numba's cache the first time; the runs are faster by more than that
    past a few minutes of data, and identical either way (the pure-Python paths give the same
    results), so a failed load only costs speed.
    """
    try:
        warm_up_kernels()
    except KernelLoadError as exc:
        log.warning(
            "compiled kernels unavailable, replaying in pure Python", extra={"error": str(exc)}
        )


def msgspec_replace(config: BacktestConfig, start: int, end: int) -> BacktestConfig:
    """The config with its range made explicit."""
    return msgspec.structs.replace(config, start_ns=start, end_ns=end)


def run_backtest(config: BacktestConfig, source: Source) -> BacktestResult:
    """Replay the source through the strategy as fast as possible; see :class:`BacktestRun`.

    Raises:
        DataRangeError: the data does not cover the range (before the run starts).
        BacktestSetupError: the symbol or a parameter is refused.
    """
    run, replay = prepare(config, source)
    began = time.perf_counter()
    replay.run()
    wall = time.perf_counter() - began
    return result_of(run, source, wall)


def result_of(run: BacktestRun, source: Source, wall_s: float) -> BacktestResult:
    """A finished run's results."""
    cfg = run.config
    return BacktestResult(
        config=cfg,
        instruments=run.instruments,
        source=source.name,
        start_ns=cfg.start_ns,
        end_ns=cfg.end_ns,
        fills=run.fills,
        orders=list(run.oms.orders.values()),
        equity=run.equity,
        book_events=run.book_events,
        trade_events=run.trade_events,
        refused=sum(s.refused for s in run.strategies.stats()),
        halted=run.halted,
        wall_s=wall_s,
        alerts=[f"{a.level} {a.source}: {a.message}" for a in run.oms.alerts],
    )
