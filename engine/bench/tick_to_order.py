"""The ``tick-to-order`` benchmark: a depth frame received to the order's request bytes written.

What is timed, per frame, on the engine's own objects: the raw ``depthUpdate`` frame is parsed
(:class:`~engine.venues.binance.protocol.BinanceSpotParser`), applied to the book through
:class:`~engine.venues.binance.sync.SpotBookSync`, the strategy runner dispatches it to the
reference market maker, which decides to move both quotes; each replace goes through the order
manager (which journals it first, with the engine's default batch fsync policy) and the full risk
pipeline to :class:`~engine.venues.binance.gateway.BinanceSpotGateway`,
which prices it against its rate limits, builds and signs the ``cancelReplace`` request and
writes it on an idle keep-alive connection. The clock stops at the transport's ``on_write`` (as
``transport.write`` is called): ``first_order`` for the first request, ``both_orders`` for the
second.

The venue is the local venue in its own process on 127.0.0.1 (as in the ``gateway`` subject);
its answers are awaited between frames, outside the timing, so every frame finds the loop idle.

Input: synthetic ``depthUpdate`` frames in Binance's exact layout that move the touch 50 ticks
back and forth (BTCUSDT-like at 65,000.00, 0.01 tick), so every frame makes the market maker
replace both quotes; a real capture's frames mostly do not move the mid, and the figure is the
cost of the frames that do. The goal is a p99 under 100 us.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from engine.bench.gateway import KEY, SECRET, WIDE, local_venue
from engine.bench.report import Result, SubjectRun, summarize
from engine.bench.setup import one_instrument_oms, open_limits, run_on_engine_loop
from engine.book.order_book import OrderBook
from engine.book.order_book import warm_up as warm_up_book
from engine.core.clock import LiveClock
from engine.core.events import BookDelta
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.oms.ids import ClientOrderIds
from engine.oms.journal import Journal
from engine.oms.order import OrderStatus
from engine.risk.checks import MarketState
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.runner import StrategyRunner
from engine.venues.binance.gateway import BinanceSpotGateway
from engine.venues.binance.http import KeepAliveClient
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.protocol import warm_up as warm_up_parser
from engine.venues.binance.sync import SpotBookSync

SUBJECT = "tick-to-order"
OURS = "engine"
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
MID = 6_500_000
"""65,000.00 in ticks: the local venue's market, so the quotes rest without crossing it."""
HALF_SPREAD = 100_000
"""1,000.00 each side: far enough from the venue's touch that nothing fills."""
MOVE = 50
LIMITS = open_limits(max_order_notional="10000000", price_band_bps=1000, post_only_band_bps=1000)
_SETTLED = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class BenchStalled(EngineError):
    """The venue did not answer, or the market maker stopped replacing: no figure would be true."""


def _text(units: int, decimals: int) -> str:
    whole, frac = divmod(units, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" + "0" * (8 - decimals)


def frames(count: int, first_id: int = 1001) -> list[bytes]:
    """Frames moving the touch ``MOVE`` ticks up and back; each replaces the other's levels.

    ``count`` must be even, so the book ends where it began; update ids start at ``first_id``.
    """
    out = []
    for n in range(count):
        up = n % 2 == 0
        bid, ask = MID - 1 + (MOVE if up else 0), MID + 1 + (MOVE if up else 0)
        old_bid, old_ask = MID - 1 + (0 if up else MOVE), MID + 1 + (0 if up else MOVE)
        data = {
            "e": "depthUpdate",
            "E": 1_723_161_255_000 + n,
            "s": BTC.symbol,
            "U": first_id + n,
            "u": first_id + n,
            "b": [[_text(bid, 2), _text(50_000, 5)], [_text(old_bid, 2), "0.00000000"]],
            "a": [[_text(old_ask, 2), "0.00000000"], [_text(ask, 2), _text(50_000, 5)]],
        }
        out.append(msgspec.json.encode({"stream": "btcusdt@depth@100ms", "data": data}))
    return out


class _Rig:
    """Parser, book sync, runner with the market maker, OMS with risk, and the live gateway."""

    def __init__(self, state: Path, rest_url: str, ws_url: str) -> None:
        clock = LiveClock()
        self.clock = clock
        self.book = OrderBook(BTC.symbol)
        self.sync = SpotBookSync(BTC, self.book, venue="sim")
        self.parser = BinanceSpotParser([BTC])
        self.journal = Journal(state / "journal", "t2o")  # the engine's policy: batch, 50 ms
        self.oms = one_instrument_oms(
            BTC,
            LIMITS,
            clock,
            ClientOrderIds("t2o", state / "ids.json"),
            self.market,
            self.journal,
        )
        self.runner = StrategyRunner(self.oms, {0: self.book}, clock)
        self.writes: list[int] = []
        transport = KeepAliveClient(rest_url, {"X-MBX-APIKEY": KEY})
        transport.on_write = self._written
        self.gateway = BinanceSpotGateway(
            [BTC],
            self.runner.listener(),
            rest_url,
            f"{ws_url}/ws-api/v3",
            KEY,
            SECRET,
            clock,
            venue="sim",
            limits=WIDE,
            order_transport=transport,
        )
        self.oms.attach(self.gateway)
        self.mm = MarketMaker(
            "mm", MarketMakerParams(half_spread_ticks=HALF_SPREAD, size_lots=100, requote_ticks=0)
        )
        self.runner.add(self.mm)

    def _written(self) -> None:
        self.writes.append(time.perf_counter_ns())

    def market(self, instrument: int) -> MarketState:
        """The book's top, always fresh."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=True,
            recv_ts=self.clock.time_ns(),
        )

    def seed(self) -> None:
        """The book before the first frame: one level each side around ``MID``."""
        px = np.array([MID - 1], dtype=np.int64)
        sz = np.array([5_000_000], dtype=np.int64)
        self.book.apply_snapshot(px, sz, px + 2, sz, 1000)
        self.sync.phase = type(self.sync.phase).LIVE
        self.sync.update_id = 1000

    def on_frame(self, raw: bytes) -> int:
        """What the engine does with a frame, up to the orders written; returns its start."""
        start = time.perf_counter_ns()
        delta = self.parser.parse_frame(raw, start)
        assert isinstance(delta, BookDelta)
        self.sync.on_delta(delta)
        self.runner.on_book(0)
        return start

    async def settle(self, timeout_s: float = 5.0) -> None:
        """Wait until every quote is acknowledged and the gateway has no replace on its way."""
        deadline = time.monotonic() + timeout_s
        while True:
            await asyncio.sleep(0.001)
            orders = self.oms.open_orders()
            live = self.gateway.working.live()
            if (
                orders
                and all(o.status in _SETTLED for o in orders)
                and all(w.replacing is None for w in live)
            ):
                return
            if time.monotonic() > deadline:
                states = sorted({str(o.status) for o in orders})
                raise BenchStalled(
                    f"quotes not acknowledged in {timeout_s} s: {states}; "
                    f"last refusal: {self.mm.last_refusal or 'none'}"
                )


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _rep(rig: _Rig, stream: list[bytes]) -> tuple[list[float], list[float]]:
    first: list[float] = []
    both: list[float] = []
    for n, raw in enumerate(stream):
        rig.writes.clear()
        start = rig.on_frame(raw)
        if len(rig.writes) < 2:
            orders = [(o.client_order_id, str(o.status)) for o in rig.oms.open_orders()]
            raise BenchStalled(
                f"frame {n} led to {len(rig.writes)} requests, not 2 replaces; open orders "
                f"{orders}; last refusal: {rig.mm.last_refusal or 'none'}"
            )
        first.append((rig.writes[0] - start) / 1e3)
        both.append((rig.writes[1] - start) / 1e3)
        await rig.settle()
    return first, both


async def _measure(quick: bool) -> tuple[list[Result], str]:
    count, reps, warm = (150, 3, 30) if quick else (400, 5, 100)  # under 6000 weight a minute
    streams = [frames(count, 1001 + warm + rep * count) for rep in range(reps)]
    warm_up_book()
    warm_up_parser()
    figures: dict[str, list[float]] = {"p50": [], "p99": [], "both_p50": [], "both_p99": []}
    async with local_venue() as venue:
        with tempfile.TemporaryDirectory() as tmp:
            rig = _Rig(Path(tmp), venue.rest_url, venue.ws_url)
            await rig.gateway.start()
            try:
                rig.seed()
                rig.runner.start()
                rig.runner.on_book(0)  # the first quotes
                await rig.settle()
                await _rep(rig, frames(warm))
                for stream in streams:
                    first, both = await _rep(rig, stream)
                    figures["p50"].append(_p(first, 0.5))
                    figures["p99"].append(_p(first, 0.99))
                    figures["both_p50"].append(_p(both, 0.5))
                    figures["both_p99"].append(_p(both, 0.99))
            finally:
                rig.runner.stop()
                with contextlib.suppress(Exception):
                    await rig.gateway.stop()
                rig.journal.close()
    results = [
        summarize(SUBJECT, OURS, "first_order_p50", "us", figures["p50"]),
        summarize(SUBJECT, OURS, "first_order_p99", "us", figures["p99"]),
        summarize(SUBJECT, OURS, "both_orders_p50", "us", figures["both_p50"]),
        summarize(SUBJECT, OURS, "both_orders_p99", "us", figures["both_p99"]),
    ]
    described = (
        f"synthetic Binance depthUpdate frames moving the touch {MOVE} ticks, {count} per "
        f"repetition after {warm} warm-up, {reps} repetitions; each frame: parse, sync, book, "
        "market maker, OMS (journaled), risk (every check on), signed cancelReplace written to "
        "the local venue on 127.0.0.1 (answers awaited between frames)"
    )
    return results, described


def run(quick: bool) -> SubjectRun:
    """The ``tick-to-order`` subject for ``python -m engine.bench``."""
    return run_on_engine_loop(SUBJECT, OURS, _measure, quick)
