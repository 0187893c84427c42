"""The ``strategy`` benchmark: what a strategy's quote update costs, and how fast it decides.

The reference market maker runs in a runner on the whole in-process order path: context, order
manager, risk pipeline (every check on, limits wide enough that nothing is refused), and the paper
gateway over the matching core, on the live clock. One BTC-like instrument (0.1 tick, 0.01 lot).

* ``callback_p50`` / ``callback_p99``: microseconds of one ``on_book`` dispatch in which the book
  moved 50 ticks, so both quotes are replaced: the runner's dispatch, the strategy's decision,
  the context's flush and the risk check of each replace, timed around ``runner.on_book``. The
  venue's answers are delivered between updates, outside the timing.
* ``decisions``: book updates decided per second when the book flickers inside the requote
  threshold (the decision runs in full; no order is needed).

There is no peer: the figures are ours alone, for the closing note.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.bench.report import Result, SubjectRun, summarize
from engine.bench.setup import one_instrument_oms, open_limits
from engine.book.order_book import OrderBook
from engine.core.clock import LiveClock
from engine.core.instruments import Instrument
from engine.oms.ids import ClientOrderIds
from engine.risk.checks import MarketState
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.runner import StrategyRunner

SUBJECT = "strategy"
OURS = "market_maker"
MID = 500_000
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", min_notional="5")
LIMITS = open_limits()


class _Rig:
    """The order path with one market maker."""

    def __init__(self, state: Path, requote_ticks: int) -> None:
        clock = LiveClock()
        self.book = OrderBook(BTC.symbol)
        self.oms = one_instrument_oms(
            BTC, LIMITS, clock, ClientOrderIds("bench", state / "ids.json"), self.market
        )
        self.clock = clock
        self.runner = StrategyRunner(self.oms, {0: self.book}, clock)
        core = MatchingCore(BTC, fees=FeeSchedule("0", "0"))
        exchange = SimulatedExchange({0: core})
        self.gateway = PaperGateway([BTC], self.runner.listener(), clock, exchange)
        self.oms.attach(self.gateway)
        self.mm = MarketMaker(
            "mm", MarketMakerParams(half_spread_ticks=100, levels=1, requote_ticks=requote_ticks)
        )
        self.runner.add(self.mm)
        self.runner.start()

    def market(self, instrument: int) -> MarketState:
        """The book's top, always fresh."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=True,
            recv_ts=self.clock.time_ns(),
        )

    def set_book(self, bid: int, seq: int) -> None:
        """A one-level book with the ask 1,000 ticks above ``bid``."""
        px = np.array([bid], dtype=np.int64)
        sz = np.array([1000], dtype=np.int64)
        self.book.apply_snapshot(px, sz, px + 1000, sz, seq)


async def _callback_rep(updates: int, state: Path) -> tuple[float, float]:
    """Quote updates that each replace both quotes: (p50 us, p99 us)."""
    rig = _Rig(state, requote_ticks=0)
    await rig.gateway.start()
    timer = time.perf_counter_ns
    samples: list[int] = []
    try:
        for n in range(updates + 50):
            rig.set_book(MID - 500 + (50 if n % 2 else 0), n + 1)
            start = timer()
            rig.runner.on_book(0)
            if n >= 50:  # the first 50 are warm-up
                samples.append(timer() - start)
            await rig.gateway.open_orders()
        (stats,) = rig.runner.stats()
    finally:
        await rig.gateway.stop()
    if stats.refused or not stats.running:
        raise RuntimeError(f"benchmark quotes were refused or the strategy stopped: {stats}")
    if rig.mm.requotes < 2 * updates:
        raise RuntimeError(f"only {rig.mm.requotes} requotes in {updates} updates")
    samples.sort()
    return samples[len(samples) // 2] / 1e3, samples[len(samples) * 99 // 100] / 1e3


def _decision_rep(updates: int, state: Path) -> float:
    """Book updates decided per second with the book inside the requote threshold."""
    rig = _Rig(state, requote_ticks=1_000)
    rig.set_book(MID - 500, 1)
    rig.runner.on_book(0)
    start = time.perf_counter_ns()
    for n in range(updates):
        rig.set_book(MID - 500 + (n & 7), n + 2)
        rig.runner.on_book(0)
    elapsed = time.perf_counter_ns() - start
    return updates * 1e9 / elapsed


def _measure(updates: int, reps: int) -> list[Result]:
    p50: list[float] = []
    p99: list[float] = []
    rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            state = Path(tmp) / str(rep)
            state.mkdir()
            median, tail = asyncio.run(_callback_rep(updates, state))
            p50.append(median)
            p99.append(tail)
            rates.append(_decision_rep(updates * 5, state))
    return [
        summarize(SUBJECT, OURS, "callback_p50", "us", p50),
        summarize(SUBJECT, OURS, "callback_p99", "us", p99),
        summarize(SUBJECT, OURS, "decisions", "decisions/s", rates),
    ]


def run(quick: bool) -> SubjectRun:
    """Time quote updates through the whole order path and the market maker's decisions."""
    updates, reps = (1_000, 3) if quick else (10_000, 7)
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"{updates} quote updates (two replaces each) and {updates * 5} decisions, "
            f"{reps} repetitions, one instrument, every risk check on"
        ),
        results=_measure(updates, reps),
    )
