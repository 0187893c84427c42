"""The local venue: seeded markets served on 127.0.0.1 over Binance spot's WebSocket and REST API.

One aiohttp server carries everything on one port:

- ``/stream?streams=...``, ``/ws/<stream>``, ``/ws``: the market streams (see ``streams``), with
  ``<sym>@trade`` in real time and ``<sym>@depth@100ms`` / ``<sym>@depth`` (1000 ms) /
  ``<sym>@depth@<depth_interval_ms>ms`` diffs;
- ``GET /api/v3/depth``, ``/api/v3/exchangeInfo``, ``/api/v3/ping``, ``/api/v3/time`` (see
  ``rest``), with request weights, ``X-MBX-USED-WEIGHT-1M`` and Binance's error answers;
- the signed order endpoints ``/api/v3/order``, ``/openOrders``, ``/order/cancelReplace``,
  ``/account``, ``/myTrades`` (see ``orders``) for the accounts given to the venue, matched by
  the shared matching core (see ``desk``);
- ``/ws-api/v3``: the WebSocket API with the user data stream (see ``user_stream``);
- Binance USD-M's market streams on ``/public`` and ``/market`` (diff depth with ``pu``, trades)
  and ``/fapi/v1/depth`` (see ``usdm_market``), Bybit v5's public ``/v5/public/linear`` and
  ``/v5/public/spot`` (see ``bybit_market``), each a :class:`MarketSide` over the same markets,
  and those venues' order sides (``usdm_venue``, ``bybit_venue``);
- ``/sim/...``: pause, resume, step, the true book and every fault, for tests in other processes
  (see ``control``).

Level changes from the market models are batched per depth stream and published every interval
as one ``depthUpdate`` covering ids ``U..u``, the last size per price winning, exactly as Binance
coalesces. The model keeps pace with the wall clock (``autorun``), or a test drives it one
:meth:`SimVenue.step` at a time. Every level change and trade also reaches the matching cores;
liquidity our orders take leaves the model's book and prints on ``<sym>@trade`` like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from aiohttp import web

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim import SimError, wire
from engine.sim.accounts import AccountSpec
from engine.sim.bybit_market import BybitMarketStreams
from engine.sim.bybit_venue import add_bybit_linear
from engine.sim.control import add_control_routes
from engine.sim.desk import TradingDesk
from engine.sim.faults import FaultInjector
from engine.sim.market import Level, LevelChange, MarketActivity, MarketModel, TradePrint
from engine.sim.matching import MatchingCore
from engine.sim.queue import QueueModel
from engine.sim.rest import add_rest_routes
from engine.sim.streams import StreamHub
from engine.sim.trading import VenueTrading
from engine.sim.usdm_market import UsdmMarketStreams
from engine.sim.usdm_venue import add_binance_usdm
from engine.sim.ws_orders import ws_order_methods

log = logging.getLogger("engine.sim")

_NS = 1_000_000_000
_MS = 1_000_000
_TICK_S = 0.01
"""The market task's step: trades leave within this long of happening."""
_MAX_CATCH_UP_S = 1.0
"""After a stall the model skips ahead at most this much, instead of bursting to catch up."""


class MarketSide(Protocol):
    """Another venue's market streams served from the same markets (USD-M, Bybit public)."""

    def add_routes(self, app: web.Application) -> None:
        """Mount its endpoints."""
        ...

    def start(self, now: float) -> None:
        """The market task starts at loop time ``now``."""
        ...

    def on_activity(
        self, symbol: str, changes: list[LevelChange], trades: list[TradePrint], event_ms: int
    ) -> None:
        """What the market of ``symbol`` did."""
        ...

    def flush_due(self, now: float, event_ms: int) -> None:
        """Publish what is due at loop time ``now``."""
        ...

    def flush_all(self, event_ms: int) -> None:
        """Publish everything pending now."""
        ...

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        """A gap fault: the next ``missing`` updates of ``symbol`` are lost."""
        ...

    def drop_connections(self) -> int:
        """Cut its connections without a close frame; how many."""
        ...

    async def close(self) -> None:
        """Close its connections politely."""
        ...


class _DepthBatch:
    """Level changes waiting for the next diff of one depth stream."""

    __slots__ = ("due", "interval_s", "pending", "skip", "stream")

    def __init__(self, stream: str, interval_ms: int) -> None:
        self.stream = stream
        self.interval_s = interval_ms / 1000
        self.pending: list[LevelChange] = []
        self.skip = 0
        self.due = 0.0

    def take(self) -> list[LevelChange]:
        """The changes for the next diff, after leaving out ids a gap fault asked to skip."""
        pending, self.pending = self.pending, []
        if self.skip:
            dropped = min(self.skip, len(pending))
            self.skip -= dropped
            pending = pending[dropped:]
        return pending


class _Market:
    """One symbol on the venue: its model, its text formatter and its streams."""

    def __init__(self, instrument: Instrument, model: MarketModel, depth_interval_ms: int) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.model = model
        self.text = wire.WireText(instrument)
        lower = self.symbol.lower()
        self.trade_stream = f"{lower}@trade"
        names = {f"{lower}@depth@{n}ms": n for n in {depth_interval_ms, 100}}
        names[f"{lower}@depth"] = 1000
        self.batches = {name: _DepthBatch(name, ms) for name, ms in names.items()}


class SimVenue:
    """The built-in local venue.

    Args:
        instruments: what it lists; each gets its own seeded market.
        seed: the same seed gives the same markets.
        mid_price: starting mid price of every market, on each instrument's tick grid.
        events_per_second: mean book events per second per market.
        depth_interval_ms: cadence of the ``@depth@<n>ms`` stream (100 and 1000 are always served).
        host: loopback address to listen on.
        port: port to listen on; 0 picks a free one.
        ping_interval_s: seconds between WebSocket pings to each client.
        autorun: run the market in real time; when False only :meth:`step` moves it.
        pong_timeout_s: a client that answers no ping for this long is disconnected.
        max_client_messages_per_s: frames a client may send per second before it is cut off.
        mid_prices: starting mid price per symbol, overriding ``mid_price`` for those symbols.
        accounts: the trading accounts (API key, secret, balances, commissions); none: the
            order endpoints refuse every key.
        orders_per_10s: each account's unfilled-order limit per 10 seconds.
        orders_per_day: each account's unfilled-order limit per UTC day.
        queue: makes each matching core's queue-position model; conservative when omitted.

    Raises:
        SimError: when no instruments are given or ``mid_prices`` names an unlisted symbol.
        InstrumentError: when a mid price is off its instrument's tick grid.
        AccountError: when an account is configured wrongly.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        *,
        seed: int = 7,
        mid_price: str = "65000.00",
        events_per_second: float = 400.0,
        depth_interval_ms: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval_s: float = 20.0,
        autorun: bool = True,
        pong_timeout_s: float = 60.0,
        max_client_messages_per_s: int = 5,
        mid_prices: Mapping[str, str] | None = None,
        accounts: Sequence[AccountSpec] = (),
        orders_per_10s: int = 100,
        orders_per_day: int = 200_000,
        queue: Callable[[], QueueModel] | None = None,
    ) -> None:
        if not instruments:
            raise SimError("the local venue needs at least one instrument")
        mids = dict(mid_prices or {})
        unknown = set(mids) - {i.symbol for i in instruments}
        if unknown:
            raise SimError(f"mid_prices names symbols the venue does not list: {sorted(unknown)}")
        self._markets = {
            i.symbol: _Market(
                i,
                MarketModel(
                    i,
                    seed=seed,
                    mid_price=mids.get(i.symbol, mid_price),
                    events_per_second=events_per_second,
                ),
                depth_interval_ms,
            )
            for i in instruments
        }
        self._host = host
        self._port = port
        self.autorun = autorun
        self.faults = FaultInjector(self, self)
        self.trading = VenueTrading(
            [m.instrument for m in self._markets.values()],
            {s: m.model for s, m in self._markets.items()},
            accounts,
            self.faults.trading,
            self._absorb_taken,
            orders_per_10s=orders_per_10s,
            orders_per_day=orders_per_day,
            queue=queue,
            seed=seed,
            heartbeat_s=ping_interval_s,
        )
        self.trading.user_streams.add_methods(ws_order_methods(self))
        self._hub_settings = (ping_interval_s, pong_timeout_s, max_client_messages_per_s)
        self._hub = self._new_hub(self._is_served)
        models = {s: m.model for s, m in self._markets.items()}
        self.usdm_market = UsdmMarketStreams(
            self.instruments,
            models,
            self.faults,
            self._new_hub,
            depth_interval_ms=depth_interval_ms,
            tick_s=_TICK_S,
        )
        """Binance USD-M market streams (``/public``, ``/market``) and ``/fapi/v1/depth``."""
        self.bybit_market = BybitMarketStreams(self.instruments, models, self.faults, seed=seed)
        """Bybit v5 public streams (``/v5/public/linear``, ``/v5/public/spot``)."""
        self._sides: list[MarketSide] = [self.usdm_market, self.bybit_market]
        self._paused = False
        self._model_ns = 0
        self._wall_offset_ns = time.time_ns()
        self._runner: web.AppRunner | None = None
        self._market_task: asyncio.Task[None] | None = None

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen and, with ``autorun``, start the market.

        Raises:
            OSError: when the address cannot be bound.
        """
        app = web.Application()
        app.router.add_get("/stream", self._hub.handle)
        app.router.add_get("/ws", self._hub.handle)
        app.router.add_get("/ws/{streams:.+}", self._hub.handle)
        app.router.add_get("/ws-api/v3", self.trading.user_streams.handle)
        for side in self._sides:
            side.add_routes(app)
        add_rest_routes(app, self)
        self.bybit = add_bybit_linear(app, self)  # Bybit v5 linear on the same markets
        self.usdm = add_binance_usdm(app, self)  # Binance USD-M futures on the same markets
        add_control_routes(app, self)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._wall_offset_ns = time.time_ns() - self._model_ns
        if self.autorun:
            self._market_task = asyncio.create_task(self._run_market(), name="sim-market")
        log.info(
            "local venue listening",
            extra={
                "ws_url": self.ws_url,
                "rest_url": self.rest_url,
                "symbols": len(self._markets),
                "accounts": len(self.trading.accounts),
            },
        )

    async def stop(self) -> None:
        """Stop the market, close every stream (1001 going away) and stop listening. Idempotent."""
        task, self._market_task = self._market_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runner, self._runner = self._runner, None
        if runner is not None:
            await self._hub.close_all()
            for side in self._sides:
                await side.close()
            await self.trading.user_streams.close_all()
            await runner.cleanup()
            log.info("local venue stopped")

    @property
    def ws_url(self) -> str:
        """``ws://host:port``; clients add ``/stream?streams=...`` or ``/ws/<stream>``."""
        return f"ws://{self._netloc()}"

    @property
    def rest_url(self) -> str:
        """``http://host:port``; clients add ``/api/v3/...``."""
        return f"http://{self._netloc()}"

    def _netloc(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    @property
    def symbols(self) -> list[str]:
        """The symbols listed, in instrument order."""
        return list(self._markets)

    @property
    def instruments(self) -> list[Instrument]:
        """The instruments listed, in order."""
        return [m.instrument for m in self._markets.values()]

    @property
    def connections(self) -> int:
        """Market-stream WebSocket clients connected now."""
        return len(self._hub.connections)

    @property
    def desk(self) -> TradingDesk:
        """The trading desk: every account's orders."""
        return self.trading.desk

    @property
    def orders_per_10s(self) -> int:
        """Each account's unfilled-order limit per 10 seconds."""
        return self.trading.orders_per_10s

    @property
    def orders_per_day(self) -> int:
        """Each account's unfilled-order limit per UTC day."""
        return self.trading.orders_per_day

    # ---- the market ------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True while the market is frozen."""
        return self._paused

    def pause(self) -> None:
        """Freeze the market: streams stay open, pending changes go out now, no new diffs follow."""
        if self._paused:
            return
        self._paused = True
        self._flush_all()
        log.info("market paused")

    def resume(self) -> None:
        """Let the market run again from where it stopped (paused time is skipped, not replayed)."""
        if not self._paused:
            return
        self._paused = False
        self._wall_offset_ns = time.time_ns() - self._model_ns
        log.info("market resumed")

    async def step(self, dt_ns: int) -> None:
        """Advance every market by ``dt_ns`` and publish at once: trades, then one diff per stream.

        Works while paused or without ``autorun``, which makes runs repeatable.

        Raises:
            SimError: when ``dt_ns`` is negative.
        """
        if dt_ns < 0:
            raise SimError(f"cannot step the market back in time ({dt_ns} ns)")
        self._advance(dt_ns)
        self._flush_all()
        await asyncio.sleep(0)

    def model(self, symbol: str) -> MarketModel:
        """The market model of ``symbol`` (read it, do not drive it).

        Raises:
            SimError: for a symbol the venue does not list.
        """
        return self._market(symbol).model

    def true_book(self, symbol: str) -> tuple[list[Level], list[Level], int]:
        """The venue's own book: bids and asks best first as (ticks, lots), and its update id.

        Raises:
            SimError: for a symbol the venue does not list.
        """
        model = self._market(symbol).model
        return model.bids(), model.asks(), model.update_id

    def _market(self, symbol: str) -> _Market:
        market = self._markets.get(symbol)
        if market is None:
            raise SimError(f"unknown symbol {symbol!r}; the venue lists {', '.join(self._markets)}")
        return market

    async def _run_market(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        self._wall_offset_ns = time.time_ns() - self._model_ns
        for market in self._markets.values():
            for batch in market.batches.values():
                batch.due = last + batch.interval_s
        for side in self._sides:
            side.start(last)
        while True:
            await asyncio.sleep(_TICK_S)
            now = loop.time()
            elapsed, last = now - last, now
            if self._paused:
                continue
            self._advance(int(min(elapsed, _MAX_CATCH_UP_S) * _NS))
            event_ms = time.time_ns() // _MS
            for market in self._markets.values():
                for batch in market.batches.values():
                    if now >= batch.due:
                        self._flush(market, batch, event_ms)
                        batch.due += batch.interval_s
                        if batch.due <= now:  # fell behind: keep the cadence from now on
                            batch.due = now + batch.interval_s
            for side in self._sides:
                side.flush_due(now, event_ms)

    def _advance(self, dt_ns: int) -> None:
        self._model_ns += dt_ns
        event_ms = time.time_ns() // _MS
        for market in self._markets.values():
            self._absorb(market, market.model.advance(dt_ns), event_ms)

    def _absorb(
        self,
        market: _Market,
        activity: MarketActivity,
        event_ms: int,
        taker: MatchingCore | None = None,
    ) -> None:
        """Publish what the market did and feed it to the matching cores."""
        if activity.changes:
            for batch in market.batches.values():
                batch.pending.extend(activity.changes)
        if activity.trades:
            self._publish_trades(market, activity.trades, event_ms)
        for side in self._sides:
            side.on_activity(market.symbol, activity.changes, activity.trades, event_ms)
        try:
            self.trading.desk.on_market(market.symbol, activity.in_order, taker)
        except SimError:
            log.exception("the matching cores refused market data", extra={"symbol": market.symbol})

    def _absorb_taken(
        self, symbol: str, activity: MarketActivity, taker: MatchingCore | None
    ) -> None:
        self._absorb(self._market(symbol), activity, time.time_ns() // _MS, taker)

    def market_order(self, symbol: str, side: Side, lots: int) -> MarketActivity:
        """A public market order of ``lots`` sweeps ``symbol``'s book now (a test's market mover).

        Its trades go out at once, its depth changes with the next diff, and the matching cores
        see both, so it fills resting orders it reaches.

        Raises:
            SimError: for an unlisted symbol or a size below one lot.
        """
        market = self._market(symbol)
        activity = market.model.sweep(side, lots)
        self._absorb(market, activity, time.time_ns() // _MS)
        return activity

    def _publish_trades(self, market: _Market, trades: list[TradePrint], event_ms: int) -> None:
        stream = market.trade_stream
        if not self._hub.subscribers(stream):
            return
        for print_ in trades:
            trade_ms = min(event_ms, (self._wall_offset_ns + print_.time_ns) // _MS)
            data = wire.trade(market.text, market.symbol, event_ms, trade_ms, print_)
            self._hub.broadcast(stream, data, self._garbage(stream, data, market, event_ms))

    def _flush(self, market: _Market, batch: _DepthBatch, event_ms: int) -> None:
        changes = batch.take()
        if not changes or not self._hub.subscribers(batch.stream):
            return
        data = wire.depth_update(market.text, market.symbol, event_ms, changes)
        for frame in self.faults.depth_frames(batch.stream, data):
            garbage = self._garbage(batch.stream, frame, market, event_ms)
            self._hub.broadcast(batch.stream, frame, garbage)

    def _flush_all(self) -> None:
        event_ms = time.time_ns() // _MS
        for market in self._markets.values():
            for batch in market.batches.values():
                self._flush(market, batch, event_ms)
        for side in self._sides:
            side.flush_all(event_ms)

    def _new_hub(self, is_served: Callable[[str], bool]) -> StreamHub:
        """A market-stream hub with the venue's ping, pong and message-rate settings."""
        ping_interval_s, pong_timeout_s, max_messages_per_s = self._hub_settings
        return StreamHub(
            ping_interval_s=ping_interval_s,
            pong_timeout_s=pong_timeout_s,
            max_messages_per_s=max_messages_per_s,
            is_served=is_served,
        )

    def _garbage(self, stream: str, data: str, market: _Market, event_ms: int) -> str | None:
        oversized = self.faults.take_oversized()
        if oversized is not None:
            return oversized
        variant = self.faults.take_malformed()
        if variant is None:
            return None
        return wire.malformed(stream, data, market.symbol, event_ms, variant)

    def _is_served(self, stream: str) -> bool:
        parsed = wire.parse_data_stream(stream)
        if parsed is None or parsed[0] not in self._markets:
            return False
        market = self._markets[parsed[0]]
        return stream == market.trade_stream or stream in market.batches

    # ---- fault target ----------------------------------------------------------------------------

    def has_symbol(self, symbol: str) -> bool:
        """Whether the venue lists ``symbol``."""
        return symbol in self._markets

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        """Leave the next ``missing`` update ids of ``symbol`` out of every depth stream."""
        for batch in self._market(symbol).batches.values():
            batch.skip += missing
        for side in self._sides:
            side.skip_update_ids(symbol, missing)

    def drop_connections(self) -> int:
        """Cut every WebSocket connection (streams and API) without a close frame; how many."""
        dropped = self._hub.drop_all() + self.trading.user_streams.drop_all()
        return dropped + sum(side.drop_connections() for side in self._sides)

    def drop_user_streams(self) -> int:
        """Cut every WebSocket-API connection without a close frame; returns how many."""
        return self.trading.user_streams.drop_all()

    def end_user_streams(self) -> int:
        """End every user-stream subscription with ``eventStreamTerminated``; returns how many."""
        return self.trading.user_streams.end_all()
