"""The ``kill`` benchmark: from a kill command to the last cancel request on the wire.

Two local venues, each in its own process on 127.0.0.1 (``python -m engine.sim``), each traded
through its own :class:`~engine.venues.binance.gateway.BinanceSpotGateway` by one
:class:`~engine.oms.manager.OrderManager`, as a two-venue engine is wired. Each round rests 100
limit orders on each venue (200 in all, far from the touch so none fills), waits until the venues
have acknowledged every one, then runs the kill path exactly as :meth:`Engine.kill
<engine.engine.Engine.kill>` does: trip the circuit breaker (persisted with fsync), halt the risk
pipeline, start the verified cancel-all on every venue.

* ``kill_to_last_cancel_write``: from the kill call to the moment the last venue's cancel-all
  request is handed to ``transport.write`` (the gateways' ``on_write`` hook); the issue's goal is
  a p99 under 10 ms.
* ``kill_to_verified``: until the verified cancel-all returns: every venue answered its cancel-all
  and then reported no open order.

The local venue allows 6000 request weight a minute, so rounds are few (each costs about 215
weight); p99 over a handful of rounds is close to the maximum, which the report also gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from engine.bench.report import Result, SubjectRun, summarize
from engine.bench.setup import open_limits, run_on_engine_loop
from engine.core.clock import LiveClock
from engine.core.commands import SubmitOrder
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.oms.ids import ClientOrderIds
from engine.oms.manager import OrderManager
from engine.oms.order import OrderStatus
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.circuit_breaker import CircuitBreaker
from engine.risk.pipeline import RiskPipeline
from engine.sim.process import SimVenueProcess
from engine.venues.binance.gateway import BinanceSpotGateway
from engine.venues.binance.http import KeepAliveClient
from engine.venues.ratelimit import RateLimit

SUBJECT = "kill"
OURS = "kill switch"
VENUES = ("sim-a", "sim-b")
PER_VENUE = 100
KEY = "killBenchKey01"
SECRET = "killBenchSecret01"  # noqa: S105 - a made-up account of the local venue
MID = 6_500_000
"""65,000.00 in ticks: the local venue's starting mid."""
_VENUE_CONFIG = """
[sim]
events_per_second = 50.0
orders_per_10s = 100000000
orders_per_day = 1000000000
"""
WIDE = (
    RateLimit(name="REQUEST_WEIGHT", limit=5000, window_s=60.0),
    RateLimit(name="ORDERS_10S", limit=10**9, window_s=10.0),
    RateLimit(name="ORDERS_1D", limit=10**9, window_s=86_400.0),
    RateLimit(name="RAW_REQUESTS", limit=10**9, window_s=300.0),
)
"""The gateways' limits: the local venue is configured for any order rate, so placing 200 orders
is not paced as Binance's 100 per 10 s would; request weight stays under the venue's 6000."""
LIMITS = open_limits(
    max_order_size="1",
    max_order_notional="100000",
    max_orders_per_second=100_000,
    max_orders_per_minute=1_000_000,
    price_band_bps=1000,
    post_only_band_bps=1000,
)


class _Venue:
    """One venue process, its gateway and the timestamps of its writes."""

    def __init__(self, name: str, instrument: Instrument) -> None:
        self.name = name
        self.instrument = instrument
        self.process: SimVenueProcess | None = None
        self.gateway: BinanceSpotGateway | None = None
        self.last_write = 0

    def wrote(self) -> None:
        self.last_write = time.perf_counter_ns()


async def _start(venue: _Venue, oms: OrderManager, config: Path) -> None:
    venue.process = SimVenueProcess(
        str(config), env={"HFT_SIM_API_KEY": KEY, "HFT_SIM_API_SECRET": SECRET}
    )
    await venue.process.start()
    client = KeepAliveClient(venue.process.rest_url, {"X-MBX-APIKEY": KEY})
    client.on_write = venue.wrote
    venue.gateway = BinanceSpotGateway(
        [venue.instrument],
        oms,
        venue.process.rest_url,
        f"{venue.process.ws_url}/ws-api/v3",
        KEY,
        SECRET,
        venue=venue.name,
        order_transport=client,
        limits=WIDE,
    )
    oms.attach(venue.gateway)
    await venue.gateway.start()


async def _rest_orders(oms: OrderManager, venues: list[_Venue]) -> None:
    """Rest PER_VENUE buys on each venue, 3-8% under the mid, and wait for every ack."""
    sent = []
    for n in range(PER_VENUE):
        for venue in venues:
            order = oms.submit(
                SubmitOrder(
                    client_order_id=oms.new_id(),
                    instrument=venue.instrument.instrument_id,
                    side=Side.BUY,
                    size_lots=100,
                    price_ticks=MID - 200_000 - 3_000 * n,
                )
            )
            sent.append(order)
    deadline = time.monotonic() + 30
    while any(o.status is not OrderStatus.ACCEPTED for o in sent):
        if time.monotonic() > deadline:
            late = [o for o in sent if o.status is not OrderStatus.ACCEPTED]
            raise RuntimeError(f"{len(late)} orders not acknowledged, e.g. {late[0]!r}")
        await asyncio.sleep(0.01)


async def _measure(quick: bool) -> tuple[list[Result], str]:
    rounds = 3 if quick else 10
    to_write: list[float] = []
    to_verified: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = root / "venue.toml"
        config.write_text(_VENUE_CONFIG)
        clock = LiveClock()
        instruments = [
            Instrument(
                venue=name,
                symbol="BTCUSDT",
                tick_size="0.01",
                lot_size="0.00001",
                min_notional="5",
                instrument_id=n,
            )
            for n, name in enumerate(VENUES)
        ]
        portfolio = Portfolio(instruments, clock)
        risk = RiskPipeline(instruments, LIMITS, clock, portfolio)
        breaker = CircuitBreaker(root / "state", clock)
        breaker.open(0)

        def market(_instrument: int) -> MarketState:
            return MarketState(
                best_bid=MID - 1, best_ask=MID + 1, live=True, recv_ts=clock.time_ns()
            )

        oms = OrderManager(
            instruments,
            clock=clock,
            risk=risk,
            portfolio=portfolio,
            ids=ClientOrderIds("kb", root / "ids.json"),
            journal=None,
            market=market,
            breaker_tripped=lambda: breaker.tripped,
            on_trip=lambda _reason: None,
        )
        venues = [_Venue(name, inst) for name, inst in zip(VENUES, instruments, strict=True)]
        try:
            for venue in venues:
                await _start(venue, oms, config)
            for _ in range(rounds + 1):  # the first round warms up
                await _rest_orders(oms, venues)
                for venue in venues:
                    venue.last_write = 0
                start = time.perf_counter_ns()
                # Engine.kill: trip (persisted), halt, verified cancel-all on every venue.
                breaker.trip("kill switch (bench)")
                risk.halt(breaker.reason)
                job = asyncio.get_running_loop().create_task(oms.cancel_all("kill switch"))
                left = await job
                done = time.perf_counter_ns()
                if left:
                    raise RuntimeError(f"{left} orders still open after cancel-all")
                written = max(v.last_write for v in venues)
                to_write.append((written - start) / 1e6)
                to_verified.append((done - start) / 1e6)
                breaker.reset("bench")
                risk.resume()
                await asyncio.sleep(0.2)
        finally:
            for venue in venues:
                if venue.gateway is not None:
                    with contextlib.suppress(Exception):
                        await venue.gateway.stop()
                if venue.process is not None:
                    await venue.process.stop()
            breaker.close()
    to_write, to_verified = to_write[1:], to_verified[1:]
    results = [
        summarize(SUBJECT, OURS, "kill_to_last_cancel_write", "ms", to_write),
        summarize(SUBJECT, OURS, "kill_to_verified", "ms", to_verified),
        summarize(SUBJECT, OURS, "kill_to_last_cancel_write_p99", "ms", [_p99(to_write)]),
    ]
    described = (
        f"{rounds} kills, each with {PER_VENUE} resting orders on each of {len(VENUES)} local "
        f"venues ({PER_VENUE * len(VENUES)} open), each venue in its own process on 127.0.0.1; "
        f"median kill-to-last-write {statistics.median(to_write):.2f} ms"
    )
    return results, described


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(quick: bool) -> SubjectRun:
    """The ``kill`` subject for ``python -m engine.bench``."""
    return run_on_engine_loop(SUBJECT, OURS, _measure, quick)
