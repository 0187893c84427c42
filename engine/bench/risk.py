"""The ``risk`` benchmark: the pre-trade pipeline's cost per order with every check on.

One BTC-like instrument (0.1 tick, 0.01 lot, mid near 50,000.0) with limits wide enough that every
order passes, so every check runs to the end (an early rejection would flatter the figures). The
seeded orders mix limit, post-only and market orders of 1 to 5 lots on both sides, priced within
the band. Between checks the OMS hooks run as in the engine: each order is counted as sent (the
rate windows and pending lots grow) and the one sent 20 orders earlier is done, so about 20 orders
stay open. The clock is the live one, as in production.

* ``check_p50`` / ``check_p99``: nanoseconds of one :meth:`RiskPipeline.check` call, timed one by
  one (the timer's own cost, tens of nanoseconds, is included).
* ``throughput``: orders checked per second in a tight loop over the same orders (no timer and
  no OMS hooks inside the loop).

There is no peer: the goal is a p99 under 10 microseconds.
"""

from __future__ import annotations

import random
import statistics
import time

from engine.bench.report import Result, SubjectRun, summarize
from engine.bench.setup import open_limits
from engine.core.clock import LiveClock
from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.pipeline import RiskPipeline

SUBJECT = "risk"
OURS = "RiskPipeline"
SEED = 20240808
MID = 500_000
"""Mid in ticks (50,000.0 at a 0.1 tick)."""
OPEN = 20
"""Orders kept working while the benchmark runs."""
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", min_notional="5")
LIMITS = open_limits(post_only_band_bps=200)


class BenchRejected(EngineError):
    """A benchmark order was rejected: the figures would not cover every check."""


def _orders(count: int) -> list[SubmitOrder]:
    rng = random.Random(SEED)
    out = []
    for n in range(count):
        roll = rng.random()
        kind = OrderType.MARKET if roll < 0.1 else OrderType.LIMIT
        tif = TimeInForce.POST_ONLY if roll > 0.6 else TimeInForce.GTC
        out.append(
            SubmitOrder(
                client_order_id=f"bench-{n}",
                instrument=0,
                side=Side.BUY if rng.random() < 0.5 else Side.SELL,
                size_lots=rng.randint(1, 5),
                price_ticks=0 if kind is OrderType.MARKET else MID + rng.randint(-9_000, 9_000),
                order_type=kind,
                time_in_force=tif,
            )
        )
    return out


def _pipeline() -> tuple[RiskPipeline, LiveClock]:
    clock = LiveClock()
    portfolio = Portfolio([BTC], clock)
    return RiskPipeline([BTC], LIMITS, clock, portfolio), clock


def _timed_rep(orders: list[SubmitOrder]) -> tuple[float, float]:
    """One pass timing every check: (median ns, p99 ns)."""
    risk, clock = _pipeline()
    market = MarketState(best_bid=MID - 1, best_ask=MID + 1, live=True, recv_ts=clock.time_ns())
    check, sent, done = risk.check, risk.on_submitted, risk.on_done
    timer = time.perf_counter_ns
    times = []
    for n, order in enumerate(orders):
        start = timer()
        rejection = check(order, market)
        times.append(timer() - start)
        if rejection is not None:
            raise BenchRejected(f"{order.client_order_id}: {rejection.message}")
        sent(order)
        if n >= OPEN:
            done(orders[n - OPEN].client_order_id)
    times.sort()
    return float(statistics.median(times)), float(times[int(len(times) * 0.99)])


def _throughput_rep(orders: list[SubmitOrder]) -> float:
    """One tight pass over the orders: checks per second."""
    risk, clock = _pipeline()
    market = MarketState(best_bid=MID - 1, best_ask=MID + 1, live=True, recv_ts=clock.time_ns())
    check = risk.check
    start = time.perf_counter_ns()
    for order in orders:
        check(order, market)
    elapsed = time.perf_counter_ns() - start
    return len(orders) * 1e9 / elapsed


def _measure(quick: bool) -> tuple[list[Result], str]:
    count, reps = (2_000, 3) if quick else (20_000, 9)
    orders = _orders(count)
    _timed_rep(orders[:200])  # warm-up: first-call costs are not part of the figures
    p50: list[float] = []
    p99: list[float] = []
    rates: list[float] = []
    for _ in range(reps):
        median, tail = _timed_rep(orders)
        p50.append(median)
        p99.append(tail)
        rates.append(_throughput_rep(orders))
    results = [
        summarize(SUBJECT, OURS, "check_p50", "ns", p50),
        summarize(SUBJECT, OURS, "check_p99", "ns", p99),
        summarize(SUBJECT, OURS, "throughput", "checks/s", rates),
    ]
    described = (
        f"{count} seeded orders (limit, post-only, market; 1-5 lots), all passing, "
        f"{OPEN} kept open, {reps} repetitions"
    )
    return results, described


def run(quick: bool) -> SubjectRun:
    """The ``risk`` subject for ``python -m engine.bench``."""
    results, described = _measure(quick)
    return SubjectRun(subject=SUBJECT, ours=OURS, input=described, results=results)
