"""The ``matching`` benchmark: the simulated matching core's cost per order and per market event.

One BTC-like instrument (0.01 tick, 0.00001 lot) with a seeded 20-level book a side of 1,000 lots
a level around 6,000,000 ticks, and 50 of our orders resting in its queues (25 a side, spread over
the 10 levels nearest the touch). Every workload runs on a fresh core set up outside the timing,
from commands and events built in advance, and the workloads take turns within each repetition:

* ``submit_cancel``: a passive GTC limit submitted and then canceled, per second (each order is a
  submit and a cancel, both with their reports);
* ``sweep``: an IOC that takes three ask levels (three fills and an expiry), followed by the three
  level reports that restore the asks, per second;
* ``market_events``: level reports (sizes moving around 1,000 lots at prices where we rest) and
  small public trades at those prices, 3 to 1, per second, with the conservative queue model;
* ``market_events_power``: the same stream under ``PowerProbQueue(2)``.

There is no peer for now; the figures are medians over the repetitions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from engine.bench.report import Result, SubjectRun, summarize
from engine.core.commands import CancelOrder, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.sim.fees import FeeSchedule
from engine.sim.matching import MatchingCore
from engine.sim.queue import ConservativeQueue, PowerProbQueue, QueueModel

SUBJECT = "matching"
OURS = "MatchingCore"
SEED = 20240915
MID = 6_000_000
"""Mid in ticks (60,000.00 at a 0.01 tick)."""
LEVELS = 20
LEVEL_LOTS = 1_000
RESTING = 50
SWEEP_LEVELS = 3
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
FEES = FeeSchedule("-0.00001", "0.0004")

Workload = Callable[[], float]
"""One timed pass; returns operations per second."""


class BenchMismatch(EngineError):
    """A workload did not do what its figures claim (no fills where a sweep should fill)."""


def _core(queue: QueueModel | None = None) -> MatchingCore:
    """A core over the benchmark book with our 50 orders resting in it."""
    core = MatchingCore(BTC, fees=FEES, queue=queue)
    bids = np.arange(MID - 1, MID - 1 - LEVELS, -1, dtype=np.int64)
    asks = np.arange(MID + 1, MID + 1 + LEVELS, dtype=np.int64)
    sizes = np.full(LEVELS, LEVEL_LOTS, dtype=np.int64)
    core.on_snapshot(bids, sizes, asks, sizes, 0)
    for n in range(RESTING):
        side = Side.BUY if n % 2 == 0 else Side.SELL
        offset = 1 + (n // 2) % 10
        price = MID - offset if side is Side.BUY else MID + offset
        core.submit(_limit(f"rest-{n}", side, 1 + n % 3, price), 0)
    return core


def _sweeping_core() -> MatchingCore:
    """The benchmark core with our resting bids only.

    Our resting asks sit among the levels a sweep takes: it would meet them (self-trade).
    """
    core = _core()
    for view in core.open_orders():
        if view.side is Side.SELL:
            core.cancel(CancelOrder(client_order_id=view.client_order_id, instrument=0), 0)
    return core


def _limit(
    cid: str, side: Side, size: int, price: int, tif: TimeInForce = TimeInForce.GTC
) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=cid,
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=price,
        time_in_force=tif,
    )


def _rate(count: int, start: int) -> float:
    return count * 1e9 / max(1, time.perf_counter_ns() - start)


def _submit_cancel(count: int) -> Workload:
    rng = random.Random(SEED)
    pairs = []
    for n in range(count):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        offset = rng.randint(1, LEVELS)
        price = MID - offset if side is Side.BUY else MID + offset
        pairs.append(
            (
                _limit(f"sc-{n}", side, rng.randint(1, 5), price),
                CancelOrder(client_order_id=f"sc-{n}", instrument=0),
            )
        )

    def run() -> float:
        core = _core()
        submit, cancel = core.submit, core.cancel
        start = time.perf_counter_ns()
        for ts, (new, gone) in enumerate(pairs, start=1):
            submit(new, ts)
            cancel(gone, ts)
        return _rate(count, start)

    return run


def _sweep(count: int) -> Workload:
    top = [MID + 1 + k for k in range(SWEEP_LEVELS)]
    orders = [
        _limit(f"sw-{n}", Side.BUY, LEVEL_LOTS * SWEEP_LEVELS + 1, top[-1], TimeInForce.IOC)
        for n in range(count)
    ]

    def run() -> float:
        core = _sweeping_core()
        submit, level = core.submit, core.on_level
        start = time.perf_counter_ns()
        for ts, order in enumerate(orders, start=1):
            submit(order, ts)
            for price in top:
                level(Side.SELL, price, LEVEL_LOTS, ts)
        return _rate(count, start)

    return run


def _market_events(count: int, queue: Callable[[], QueueModel]) -> Workload:
    rng = random.Random(SEED + 1)
    events: list[tuple[bool, Side, int, int]] = []  # (is trade, side, price, size)
    for _ in range(count):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        offset = rng.randint(1, 10)
        price = MID - offset if side is Side.BUY else MID + offset
        if rng.random() < 0.25:
            events.append((True, side, price, rng.randint(1, 3)))
        else:
            events.append((False, side, price, LEVEL_LOTS + rng.randint(-100, 100)))

    def run() -> float:
        core = _core(queue())
        level, trade = core.on_level, core.on_trade
        buy, sell = Side.BUY, Side.SELL
        start = time.perf_counter_ns()
        for ts, (is_trade, side, price, size) in enumerate(events, start=1):
            if is_trade:  # a trade prints against the resting side: the aggressor is opposite
                trade(price, size, sell if side is buy else buy, ts)
            else:
                level(side, price, size, ts)
        return _rate(count, start)

    return run


def check_workloads() -> None:
    """One order of each kind, checked: the figures must measure what they say."""
    core = _sweeping_core()
    size = LEVEL_LOTS * SWEEP_LEVELS + 1
    out = core.submit(_limit("check", Side.BUY, size, MID + SWEEP_LEVELS, TimeInForce.IOC), 1)
    fills = [r.price for r in out if isinstance(r, Fill)]
    last = out[-1]
    if fills != [MID + 1 + k for k in range(SWEEP_LEVELS)] or not (
        isinstance(last, OrderUpdate) and last.kind is OrderUpdateKind.EXPIRED
    ):
        raise BenchMismatch(f"a sweep did not take {SWEEP_LEVELS} levels and expire: {out}")
    out = core.submit(_limit("rest", Side.BUY, 1, MID - 5), 2)
    out += core.cancel(CancelOrder(client_order_id="rest", instrument=0), 3)
    if [r.kind for r in out if isinstance(r, OrderUpdate)] != [
        OrderUpdateKind.ACCEPTED,
        OrderUpdateKind.CANCELED,
    ]:
        raise BenchMismatch(f"a passive order did not rest and cancel: {out}")


def _measure(quick: bool) -> tuple[list[Result], str]:
    count, reps = (20_000, 5) if quick else (100_000, 9)
    check_workloads()
    workloads: dict[str, tuple[str, Workload]] = {
        "submit_cancel": ("orders/s", _submit_cancel(count)),
        "sweep": ("orders/s", _sweep(count // 2)),
        "market_events": ("events/s", _market_events(count * 2, ConservativeQueue)),
        "market_events_power": ("events/s", _market_events(count * 2, lambda: PowerProbQueue(2))),
    }
    for _, run in workloads.values():  # warm-up: first-call costs are not part of the figures
        run()
    samples: dict[str, list[float]] = {name: [] for name in workloads}
    names = list(workloads)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:  # interleaved, in a rotating order
            samples[name].append(workloads[name][1]())
    results = [
        summarize(SUBJECT, OURS, name, unit, samples[name]) for name, (unit, _) in workloads.items()
    ]
    described = (
        f"{LEVELS} levels a side of {LEVEL_LOTS} lots, {RESTING} of our orders resting; "
        f"{count} submit+cancel pairs, {count // 2} three-level IOC sweeps each followed by "
        f"{SWEEP_LEVELS} restoring level reports, {count * 2} market events (3 level reports "
        f"to 1 trade); {reps} interleaved repetitions"
    )
    return results, described


def run(quick: bool) -> SubjectRun:
    """The ``matching`` subject for ``python -m engine.bench``."""
    results, described = _measure(quick)
    return SubjectRun(subject=SUBJECT, ours=OURS, input=described, results=results)
