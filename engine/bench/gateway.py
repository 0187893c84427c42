"""The ``gateway`` benchmark: tick-to-order latency inside the engine, our HTTP client vs aiohttp.

What is timed: from the moment ``BinanceSpotGateway.submit()`` is called to the moment the
order's request bytes are handed to the socket (``transport.write``), for two hot-path
transports behind the same gateway, in the same run:

* ``keepalive`` (ours, :mod:`engine.venues.binance.http`): the request is checked, priced
  against the rate limiter, built, signed and written on an idle keep-alive connection inside
  ``submit()``; the time ends at its ``on_write`` hook, as ``transport.write`` is called.
* ``aiohttp``: the same gateway with an aiohttp ``ClientSession`` as its transport (one task per
  request, the request built by aiohttp); the time ends when aiohttp calls its connection's
  ``transport.write`` (a stand-in transport marks it). aiohttp's own ``on_request_headers_sent``
  trace hook fires before the headers are even serialised, so it would flatter aiohttp.
* ``usdm-keepalive``: ``BinanceUsdmGateway.submit()`` on our client, to the local venue's USD-M
  order API (``/fapi/v1/order``) in the same process and run: the futures gateway's own cost.

The venue is the local venue in its own process (``python -m engine.sim``) on 127.0.0.1, with
its order-count limit raised and the gateway's own limits widened, so that no order waits for
budget: the figures are the engine's own cost, not the venue's. A run stays under the venue's
6000 request weight a minute (one weight per order). Each order is a far-away IOC
limit buy (it expires at once, nothing rests) and the next one goes when its ack is in, so the
loop is idle when ``submit()`` is called. Contestants alternate in rounds after a warm-up.
Metrics: ``submit_to_write_p50`` / ``_p99`` in microseconds (per round, then the median over
rounds), and ``submit_to_ack_p50`` for the whole round trip, on uvloop as the engine runs.
The goal is a p99 under 100 us.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp.connector import Connection
from yarl import URL

from engine.bench.report import Result, SubjectRun, summarize
from engine.bench.setup import run_on_engine_loop
from engine.core.clock import LiveClock
from engine.core.commands import SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.sim.process import SimVenueProcess
from engine.venues.binance.gateway import BinanceSpotGateway
from engine.venues.binance.http import (
    HttpError,
    HttpResponse,
    KeepAliveClient,
    ResponseCallback,
    TargetBuilder,
)
from engine.venues.binance_usdm.gateway import BinanceUsdmGateway
from engine.venues.ratelimit import RateLimit

SUBJECT = "gateway"
OURS = "keepalive"
PEER = "aiohttp"
USDM = "usdm-keepalive"
KEY = "benchKey0001"
SECRET = "benchSecret0001"  # noqa: S105 - a made-up account of the local venue
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
FAR_BID = 5_000_000
"""50,000.00: far under the local venue's 65,000 market, so the IOC expires at once."""
WIDE = (
    RateLimit(name="REQUEST_WEIGHT", limit=10**9, window_s=60.0),
    RateLimit(name="ORDERS_10S", limit=10**9, window_s=10.0),
    RateLimit(name="ORDERS_1D", limit=10**9, window_s=86_400.0),
    RateLimit(name="RAW_REQUESTS", limit=10**9, window_s=300.0),
)
WIDE_USDM = (
    RateLimit(name="REQUEST_WEIGHT", limit=10**9, window_s=60.0),
    RateLimit(name="ORDERS_10S", limit=10**9, window_s=10.0),
    RateLimit(name="ORDERS_1M", limit=10**9, window_s=60.0),
)
_VENUE_CONFIG = """
[sim]
events_per_second = 50.0
orders_per_10s = 100000000
orders_per_day = 1000000000
"""


class AiohttpTransport:
    """The peer: the gateway's hot-path seam on an aiohttp ``ClientSession``.

    Args:
        base_url: the venue's REST base.
        headers: sent with every request.
        max_connections: the connector's limit.
    """

    def __init__(self, base_url: str, headers: dict[str, str], max_connections: int = 4) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.max_connections = max_connections
        self.on_write: Callable[[], None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, connections: int = 1) -> None:
        """Open the session; its requests mark the moment they call ``transport.write``."""
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        self._session = aiohttp.ClientSession(
            connector=connector, headers=self.headers, request_class=self._request_class()
        )

    def _request_class(self) -> type[aiohttp.ClientRequest]:
        transport = self

        class MarkedRequest(aiohttp.ClientRequest):
            """A request whose connection's transport calls the hook on each write."""

            async def send(self, conn: Connection) -> aiohttp.ClientResponse:
                protocol = conn.protocol
                if protocol is not None and not isinstance(protocol.transport, _MarkedWrites):
                    protocol.transport = _MarkedWrites(protocol.transport, transport)  # type: ignore[assignment]
                return await super().send(conn)

        return MarkedRequest

    async def close(self) -> None:
        """Close the session."""
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def send(self, method: str, target: TargetBuilder, callback: ResponseCallback) -> None:
        """One request in its own task, as an aiohttp client sends."""
        task = asyncio.get_running_loop().create_task(self._request(method, target, callback))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _request(
        self, method: str, target: TargetBuilder, callback: ResponseCallback
    ) -> None:
        assert self._session is not None
        url = URL(self.base_url + target(), encoded=True)
        try:
            async with self._session.request(method, url) as response:
                body = await response.read()
                headers = {k.lower(): v for k, v in response.headers.items()}
                answer = HttpResponse(response.status, headers, body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            callback(None, HttpError(repr(exc), sent=True))
            return
        callback(answer, None)


class _MarkedWrites:
    """Stands in for a connection's transport and calls the hook as bytes are written to it."""

    def __init__(self, inner: object, owner: AiohttpTransport) -> None:
        self._inner = inner
        self._owner = owner

    def write(self, data: bytes) -> None:
        hook = self._owner.on_write
        if hook is not None:
            hook()
        self._inner.write(data)  # type: ignore[attr-defined]

    def writelines(self, chunks: list[bytes]) -> None:
        hook = self._owner.on_write
        if hook is not None:
            hook()
        self._inner.writelines(chunks)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


class _Acks:
    """A listener that notes an order's first update and wakes the benchmark when it is over.

    Over means both the REST answer and the user stream reported its end (two EXPIRED), so the
    next order finds the loop idle and its connection free.
    """

    def __init__(self) -> None:
        self.first: dict[str, int] = {}
        self.over: dict[str, asyncio.Future[None]] = {}
        self._ended: dict[str, int] = {}

    def on_order_update(self, update: OrderUpdate) -> None:
        cid = update.client_order_id
        self.first.setdefault(cid, time.perf_counter_ns())
        if update.kind is OrderUpdateKind.EXPIRED or update.kind is OrderUpdateKind.REJECTED:
            ended = self._ended[cid] = self._ended.get(cid, 0) + 1
            future = self.over.get(cid)
            if future is not None and not future.done() and ended >= 2:
                future.set_result(None)

    def on_fill(self, fill: Fill) -> None:
        del fill

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        del venue, healthy, reason


class _Contestant:
    def __init__(
        self, name: str, gateway: BinanceSpotGateway | BinanceUsdmGateway, acks: _Acks
    ) -> None:
        self.name = name
        self.gateway = gateway
        self.acks = acks
        self.written = 0

    def mark(self) -> None:
        self.written = time.perf_counter_ns()


async def _contestant(
    name: str, rest_url: str, ws_url: str, transport: KeepAliveClient | AiohttpTransport
) -> _Contestant:
    acks = _Acks()
    gateway = BinanceSpotGateway(
        [BTC],
        acks,
        rest_url,
        f"{ws_url}/ws-api/v3",
        KEY,
        SECRET,
        LiveClock(),
        venue="sim",
        limits=WIDE,
        order_transport=transport,
    )
    contestant = _Contestant(name, gateway, acks)
    transport.on_write = contestant.mark
    await gateway.start()
    return contestant


async def _usdm_contestant(rest_url: str, ws_url: str) -> _Contestant:
    acks = _Acks()
    transport = KeepAliveClient(rest_url, {"X-MBX-APIKEY": KEY})
    gateway = BinanceUsdmGateway(
        [BTC],
        acks,
        rest_url,
        f"{ws_url}/private",
        KEY,
        SECRET,
        LiveClock(),
        venue="sim",
        limits=WIDE_USDM,
        order_transport=transport,
    )
    contestant = _Contestant(USDM, gateway, acks)
    transport.on_write = contestant.mark
    await gateway.start()
    return contestant


@contextlib.asynccontextmanager
async def local_venue() -> AsyncIterator[SimVenueProcess]:
    """The local venue in its own process, with the bench account and its limits raised."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "venue.toml"
        config.write_text(_VENUE_CONFIG)
        saved = {k: os.environ.get(k) for k in ("HFT_SIM_API_KEY", "HFT_SIM_API_SECRET")}
        os.environ.update({"HFT_SIM_API_KEY": KEY, "HFT_SIM_API_SECRET": SECRET})
        venue = SimVenueProcess(str(config))
        try:
            await venue.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        try:
            yield venue
        finally:
            await venue.stop()


async def _round(c: _Contestant, orders: int, tag: str) -> tuple[list[float], list[float]]:
    """``orders`` orders one after the other: (submit-to-write us, submit-to-ack us) each."""
    loop = asyncio.get_running_loop()
    writes: list[float] = []
    acks: list[float] = []
    for n in range(orders):
        cid = f"{c.name[:2]}-{tag}-{n}"
        order = SubmitOrder(
            client_order_id=cid,
            instrument=0,
            side=Side.BUY,
            size_lots=100,
            price_ticks=FAR_BID,
            time_in_force=TimeInForce.IOC,
        )
        over: asyncio.Future[None] = loop.create_future()
        c.acks.over[cid] = over
        c.written = 0
        start = time.perf_counter_ns()
        c.gateway.submit(order)
        await asyncio.wait_for(over, 5.0)
        if c.written:
            writes.append((c.written - start) / 1000)
        acks.append((c.acks.first.pop(cid) - start) / 1000)
        del c.acks.over[cid]
    return writes, acks


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _measure(quick: bool) -> tuple[list[Result], str]:
    orders, reps = (150, 3) if quick else (500, 5)  # the venue allows 6000 weight a minute
    async with local_venue() as venue:
        headers = {"X-MBX-APIKEY": KEY}
        contestants: list[_Contestant] = []
        figures: dict[str, dict[str, list[float]]] = {}
        try:
            contestants = [
                await _contestant(
                    OURS, venue.rest_url, venue.ws_url, KeepAliveClient(venue.rest_url, headers)
                ),
                await _contestant(
                    PEER, venue.rest_url, venue.ws_url, AiohttpTransport(venue.rest_url, headers)
                ),
                await _usdm_contestant(venue.rest_url, venue.ws_url),
            ]
            for c in contestants:
                await _round(c, 50, "warm")
            figures = {c.name: {"p50": [], "p99": [], "ack": []} for c in contestants}
            for rep in range(reps):
                for c in contestants if rep % 2 == 0 else contestants[::-1]:
                    writes, acks = await _round(c, orders, f"r{rep}")
                    figures[c.name]["p50"].append(_p(writes, 0.5))
                    figures[c.name]["p99"].append(_p(writes, 0.99))
                    figures[c.name]["ack"].append(statistics.median(acks))
        finally:
            for c in contestants:
                with contextlib.suppress(Exception):
                    await c.gateway.stop()
    results = []
    for name, got in figures.items():
        results += [
            summarize(SUBJECT, name, "submit_to_write_p50", "us", got["p50"]),
            summarize(SUBJECT, name, "submit_to_write_p99", "us", got["p99"]),
            summarize(SUBJECT, name, "submit_to_ack_p50", "us", got["ack"]),
        ]
    described = (
        f"{orders} IOC orders per round one after the other, {reps} rounds per contestant "
        "alternating, local venue in its own process on 127.0.0.1"
    )
    return results, described


def run(quick: bool) -> SubjectRun:
    """The ``gateway`` subject for ``python -m engine.bench``."""
    return run_on_engine_loop(SUBJECT, OURS, _measure, quick)
