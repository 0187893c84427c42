"""The local venue's Binance USD-M market streams and ``/fapi/v1/depth``, from the same markets.

The spot streams' market model feeds these too: level changes are batched per futures depth
stream and published every interval as one ``depthUpdate`` covering ``U..u`` with ``T`` and
``pu`` (the ``u`` of the previous diff on that stream, where ``U`` starts), the last size per
price winning; trades
go out at once as ``@trade`` (undocumented on Binance, on ``/public``) and ``@aggTrade``. The
streams are served on fstream's routed bases, ``/public`` and ``/market``, each with
``/stream?streams=...`` (combined), ``/ws/<streams>`` and ``/ws`` (live ``SUBSCRIBE``), by a
stream hub of their own (:class:`~engine.sim.streams.StreamHub`: pings, message-rate limit,
slow clients cut off).

Faults armed on the venue apply here as on spot: a gap leaves update ids out of the next diff
and the ids it skipped still count as sent, so the diff after them carries a ``pu`` the client
never saw (how a lost futures diff shows); duplicated and reordered diffs, malformed and
oversized frames ahead of real ones, disconnects, stale, slow and rate-limited snapshots.

``@bookTicker`` goes out after each round of diffs when the top changed, with ``u`` the model's
id, which is the ``u`` of every diff sent in that round: a client can check its book against it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from engine.sim import wire
from engine.sim.market import Level, LevelChange, TradePrint
from engine.sim.streams import StreamHub

if TYPE_CHECKING:
    from engine.core.instruments import Instrument
    from engine.sim.faults import FaultInjector
    from engine.sim.market import MarketModel

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
_MS = 1_000_000
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
"""The ``limit`` values ``/fapi/v1/depth`` takes; the default is 500."""
_WEIGHTS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
ROUTES = ("/public", "/market")
"""fstream's routed bases the streams are served on."""
_FAULT_KEY = "usdm:"  # fault state of our streams is kept apart from spot's same-named streams


def depth_update(
    symbol: str,
    text: _Text,
    event_ms: int,
    changes: list[LevelChange],
    prev_id: int,
) -> str:
    """A futures ``depthUpdate`` covering ``changes`` (in id order), after diff ``prev_id``.

    ``U`` is ``prev_id``: the diff spans from where the last one ended. The model's ids are
    contiguous, unlike the venue's, so a snapshot taken between two diffs has ``lastUpdateId``
    equal to the last ``u``; starting the next diff there keeps ``U <= L <= u`` true for it, as
    it is on the venue.
    """
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for change in changes:
        (bids if change.side.name == "BUY" else asks)[change.price] = change.size
    data = {
        "e": "depthUpdate",
        "E": event_ms,
        "T": event_ms,
        "s": symbol,
        "U": prev_id if 0 < prev_id < changes[0].update_id else changes[0].update_id,
        "u": changes[-1].update_id,
        "pu": prev_id,
        "b": text.levels(sorted(bids.items(), reverse=True)),
        "a": text.levels(sorted(asks.items())),
    }
    return _encode(data).decode()


class _Text:
    """Futures text: prices and sizes on the instrument's grid, unpadded (``"65000.1"``)."""

    __slots__ = ("_price", "_size")

    def __init__(self, instrument: Instrument) -> None:
        self._price = instrument.price_grid()
        self._size = instrument.size_grid()

    def price(self, ticks: int) -> str:
        return self._price.to_text(ticks)

    def size(self, lots: int) -> str:
        return self._size.to_text(lots)

    def levels(self, levels: list[Level]) -> list[list[str]]:
        return [[self.price(p), self.size(q)] for p, q in levels]


class _Batch:
    """Level changes waiting for the next diff of one futures depth stream, and its ``pu``."""

    __slots__ = ("due", "interval_s", "pending", "prev_id", "skip", "stream")

    def __init__(self, stream: str, interval_ms: int, prev_id: int) -> None:
        self.stream = stream
        self.interval_s = interval_ms / 1000
        self.pending: list[LevelChange] = []
        self.skip = 0
        self.due = 0.0
        self.prev_id = prev_id

    def take(self) -> list[LevelChange]:
        """The changes for the next diff; ids a gap skips count as sent in a diff that was lost."""
        pending, self.pending = self.pending, []
        if self.skip and pending:
            dropped = min(self.skip, len(pending))
            self.skip -= dropped
            self.prev_id = pending[dropped - 1].update_id  # the lost diff ended here
            pending = pending[dropped:]
        return pending


class _Market:
    """One symbol's futures streams."""

    def __init__(
        self, instrument: Instrument, model: MarketModel, depth_interval_ms: int, tick_s: float
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.model = model
        self.text = _Text(instrument)
        lower = self.symbol.lower()
        self.trade_stream = f"{lower}@trade"
        self.agg_stream = f"{lower}@aggTrade"
        self.ticker_stream = f"{lower}@bookTicker"
        self.last_top: tuple[Level, Level] | None = None
        names = {f"{lower}@depth@{n}ms": n for n in {depth_interval_ms, 100, 500}}
        names[f"{lower}@depth"] = 250
        names[f"{lower}@depth@0ms"] = max(1, int(tick_s * 1000))  # every market step
        self.batches = {n: _Batch(n, ms, model.update_id) for n, ms in names.items()}


class UsdmMarketStreams:
    """The USD-M market side of the local venue.

    Args:
        instruments: the venue's instruments.
        models: their market models (shared with spot).
        faults: the venue's fault injector.
        make_hub: builds a stream hub given which stream names are served.
        depth_interval_ms: the venue's own diff cadence (also served as ``@depth@<n>ms``).
        tick_s: the venue's market step, the cadence of ``@depth@0ms``.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: dict[str, MarketModel],
        faults: FaultInjector,
        make_hub: Callable[[Callable[[str], bool]], StreamHub],
        *,
        depth_interval_ms: int,
        tick_s: float,
    ) -> None:
        self._markets = {
            i.symbol: _Market(i, models[i.symbol], depth_interval_ms, tick_s) for i in instruments
        }
        self.faults = faults
        self.hub = make_hub(self._is_served)

    # ---- the venue's calls -----------------------------------------------------------------------

    def start(self, now: float) -> None:
        """The market starts: every batch is first due one interval from ``now`` (loop time)."""
        for market in self._markets.values():
            for batch in market.batches.values():
                batch.due = now + batch.interval_s

    def on_activity(
        self, symbol: str, changes: list[LevelChange], trades: list[TradePrint], event_ms: int
    ) -> None:
        """What the market did: changes wait for the next diffs, trades go out now."""
        market = self._markets[symbol]
        if changes:
            for batch in market.batches.values():
                batch.pending.extend(changes)
        for print_ in trades:
            self._publish_trade(market, print_, event_ms)

    def flush_due(self, now: float, event_ms: int) -> None:
        """Publish every diff whose interval is up at loop time ``now``."""
        for market in self._markets.values():
            for batch in market.batches.values():
                if now >= batch.due:
                    self._flush(market, batch, event_ms)
                    batch.due += batch.interval_s
                    if batch.due <= now:  # fell behind: keep the cadence from now on
                        batch.due = now + batch.interval_s
            self._publish_top(market, event_ms)

    def flush_all(self, event_ms: int) -> None:
        """Publish every pending diff now (pause, step)."""
        for market in self._markets.values():
            for batch in market.batches.values():
                self._flush(market, batch, event_ms)
            self._publish_top(market, event_ms)

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        """Leave the next ``missing`` ids of ``symbol`` out of every futures depth stream."""
        for batch in self._markets[symbol].batches.values():
            batch.skip += missing

    def drop_connections(self) -> int:
        """Cut every stream connection without a close frame; returns how many."""
        return self.hub.drop_all()

    async def close(self) -> None:
        """Close every stream connection politely (1001 going away)."""
        await self.hub.close_all()

    def add_routes(self, app: web.Application) -> None:
        """Mount the streams on ``/public`` and ``/market`` and ``GET /fapi/v1/depth``."""
        for route in ROUTES:
            app.router.add_get(f"{route}/stream", self.hub.handle)
            app.router.add_get(f"{route}/ws", self.hub.handle)
            app.router.add_get(f"{route}/ws/{{streams:.+}}", self.hub.handle)
        app.router.add_get("/fapi/v1/depth", self.depth)

    # ---- publishing ------------------------------------------------------------------------------

    def _publish_trade(self, market: _Market, print_: TradePrint, event_ms: int) -> None:
        if self.hub.subscribers(market.trade_stream):
            data = _encode(
                {
                    "e": "trade",
                    "E": event_ms,
                    "T": event_ms,
                    "s": market.symbol,
                    "t": print_.trade_id,
                    "p": market.text.price(print_.price),
                    "q": market.text.size(print_.size),
                    "X": "MARKET",
                    "m": print_.buyer_is_maker,
                }
            ).decode()
            self.hub.broadcast(market.trade_stream, data, self._garbage(market, data, event_ms))
        if self.hub.subscribers(market.agg_stream):
            data = _encode(
                {
                    "e": "aggTrade",
                    "E": event_ms,
                    "s": market.symbol,
                    "a": print_.trade_id,
                    "p": market.text.price(print_.price),
                    "q": market.text.size(print_.size),
                    "f": print_.trade_id,
                    "l": print_.trade_id,
                    "T": event_ms,
                    "m": print_.buyer_is_maker,
                }
            ).decode()
            self.hub.broadcast(market.agg_stream, data, self._garbage(market, data, event_ms))

    def _publish_top(self, market: _Market, event_ms: int) -> None:
        """A ``bookTicker`` when the top changed, at the model's id (where the diffs sent end)."""
        if not self.hub.subscribers(market.ticker_stream):
            return
        model = market.model
        bids, asks = model.bids(1), model.asks(1)
        if not bids or not asks:
            return
        top = (bids[0], asks[0])
        if top == market.last_top:
            return
        market.last_top = top
        (bid, bid_size), (ask, ask_size) = top
        text = market.text
        data = _encode(
            {
                "e": "bookTicker",
                "u": model.update_id,
                "s": market.symbol,
                "b": text.price(bid),
                "B": text.size(bid_size),
                "a": text.price(ask),
                "A": text.size(ask_size),
                "T": event_ms,
                "E": event_ms,
            }
        ).decode()
        self.hub.broadcast(market.ticker_stream, data)

    def _flush(self, market: _Market, batch: _Batch, event_ms: int) -> None:
        changes = batch.take()
        if not changes:
            return
        prev_id, batch.prev_id = batch.prev_id, changes[-1].update_id
        if not self.hub.subscribers(batch.stream):
            return
        data = depth_update(market.symbol, market.text, event_ms, changes, prev_id)
        for frame in self.faults.depth_frames(_FAULT_KEY + batch.stream, data):
            self.hub.broadcast(batch.stream, frame, self._garbage(market, frame, event_ms))

    def _garbage(self, market: _Market, data: str, event_ms: int) -> str | None:
        oversized = self.faults.take_oversized()
        if oversized is not None:
            return oversized
        variant = self.faults.take_malformed()
        if variant is None:
            return None
        stream = "@depth" if data.startswith('{"e":"depthUpdate"') else "@trade"
        return wire.malformed(stream, data, market.symbol, event_ms, variant)

    def _is_served(self, stream: str) -> bool:
        symbol, _, _ = stream.partition("@")
        market = self._markets.get(symbol.upper())
        if market is None:
            return False
        streams = (market.trade_stream, market.agg_stream, market.ticker_stream)
        return stream in market.batches or stream in streams

    # ---- REST ------------------------------------------------------------------------------------

    async def depth(self, request: web.Request) -> web.StreamResponse:
        """``GET /fapi/v1/depth?symbol=&limit=``: ``lastUpdateId``, ``E``, ``T``, bids, asks."""
        delay = self.faults.take_delay()
        if delay:
            await asyncio.sleep(delay)
        limited = self.faults.take_rate_limit()
        if limited is not None:
            return _error(429, -1003, "Too many requests.", limited.retry_after_s)
        symbol = request.query.get("symbol", "")
        market = self._markets.get(symbol)
        if market is None:
            return _error(400, -1121, "Invalid symbol.")
        raw_limit = request.query.get("limit", "500")
        if not raw_limit.isdigit() or int(raw_limit) not in DEPTH_LIMITS:
            return _error(400, -1130, "Data sent for parameter 'limit' is not valid.")
        limit = int(raw_limit)
        model = market.model
        if self.faults.take_stale_snapshot():
            image = model.book_at(model.oldest_update_id, limit)
            log.info("served a stale snapshot", extra={"symbol": symbol, "id": image.update_id})
        else:
            image = model.image(limit)
        now_ms = time.time_ns() // _MS
        body: dict[str, Any] = {
            "lastUpdateId": image.update_id,
            "E": now_ms,
            "T": now_ms,
            "bids": market.text.levels(image.bids),
            "asks": market.text.levels(image.asks),
        }
        response = web.Response(body=_encode(body), content_type="application/json")
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(_WEIGHTS[limit])
        return response


def _error(status: int, code: int, msg: str, retry_after_s: int | None = None) -> web.Response:
    response = web.Response(
        status=status,
        body=_encode({"code": code, "msg": msg}),
        content_type="application/json",
    )
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response
