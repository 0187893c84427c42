"""The local venue's Binance spot REST endpoints: depth snapshots, exchangeInfo, ping and time.

Every answer carries ``X-MBX-USED-WEIGHT-1M`` (the request weight used this wall-clock minute,
weights as Binance's table); more than 6000 in a minute is answered 429 with ``Retry-After`` and
code -1003, as Binance does. Faults armed on the venue apply here first: a slow answer waits, a
rate-limit fault answers 429, a stale-snapshot fault serves the oldest book the model remembers,
a garbage fault replaces the body with something that is not JSON. The order endpoints
(:mod:`engine.sim.orders`) are mounted behind the same guard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from engine.sim import wire
from engine.sim.orders import add_order_routes
from engine.sim.orders import weight as order_weight

if TYPE_CHECKING:
    from engine.sim.server import SimVenue

log = logging.getLogger("engine.sim")

_JSON = "application/json"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_rest_routes(app: web.Application, venue: SimVenue) -> None:
    """Mount ``/api/v3/depth``, ``/api/v3/exchangeInfo``, ``/api/v3/ping`` and ``/api/v3/time``."""
    rest = _Rest(venue)
    app.router.add_get("/api/v3/depth", rest.guarded(rest.depth))
    app.router.add_get("/api/v3/exchangeInfo", rest.guarded(rest.exchange_info))
    app.router.add_get("/api/v3/ping", rest.guarded(rest.ping))
    app.router.add_get("/api/v3/time", rest.guarded(rest.time))
    add_order_routes(app, venue, rest.guarded)


class _WeightWindow:
    """Request weight used in the current wall-clock minute, as Binance counts it per IP."""

    def __init__(self) -> None:
        self.minute = 0
        self.used = 0

    def add(self, weight: int) -> int:
        minute = int(time.time() // 60)
        if minute != self.minute:
            self.minute, self.used = minute, 0
        self.used += weight
        return self.used

    @staticmethod
    def seconds_left() -> int:
        return 60 - int(time.time() % 60)


class _Rest:
    """The endpoint handlers over one venue."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.faults = venue.faults
        self.weight = _WeightWindow()
        self.text = {i.symbol: wire.WireText(i) for i in venue.instruments}

    def guarded(self, handler: _Handler) -> _Handler:
        """Wrap a handler with faults, request weight and Binance error bodies."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            delay = self.faults.take_delay()
            if delay:
                await asyncio.sleep(delay)
            fault = self.faults.take_rate_limit()
            if fault is not None:
                return _error(wire.too_many_requests(fault.retry_after_s), fault.retry_after_s)
            used = self.weight.add(_request_weight(request))
            response: web.StreamResponse
            if used > wire.REQUEST_WEIGHT_PER_MINUTE:
                wait = self.weight.seconds_left()
                response = _error(wire.too_many_requests(wait), wait)
            else:
                try:
                    response = await handler(request)
                except wire.RestError as exc:
                    response = _error(exc, exc.retry_after_s)
            garbage = self.faults.trading.take_garbage()
            if garbage is not None:
                response = _garbage(response, garbage)
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
            return response

        return guarded

    async def depth(self, request: web.Request) -> web.StreamResponse:
        symbol = wire.rest_symbol(request.query.get("symbol"))
        limit = wire.depth_limit(request.query.get("limit"))
        if not self.venue.has_symbol(symbol):
            raise wire.invalid_symbol()
        model = self.venue.model(symbol)
        if self.faults.take_stale_snapshot():
            image = model.book_at(model.oldest_update_id, limit)
            log.info("served a stale snapshot", extra={"symbol": symbol, "id": image.update_id})
        else:
            image = model.image(limit)
        body = wire.depth_snapshot(self.text[symbol], image.update_id, image.bids, image.asks)
        return _json(body)

    async def exchange_info(self, request: web.Request) -> web.StreamResponse:
        one, many = request.query.get("symbol"), request.query.get("symbols")
        if one is not None and many is not None:
            raise wire.RestError(400, -1128, "Combination of optional parameters invalid.")
        listed = self.venue.instruments
        if one is not None or many is not None:
            names = [one] if one is not None else _symbol_list(many or "")
            names = [wire.rest_symbol(n) for n in names]
            by_symbol = {i.symbol: i for i in listed}
            if not all(n in by_symbol for n in names):
                raise wire.invalid_symbol()
            listed = [by_symbol[n] for n in names]
        limits = wire.rate_limits(self.venue.orders_per_10s, self.venue.orders_per_day)
        return _json(wire.exchange_info(listed, time.time_ns() // 1_000_000, limits))

    async def ping(self, _request: web.Request) -> web.StreamResponse:
        return _json(b"{}")

    async def time(self, _request: web.Request) -> web.StreamResponse:
        return _json(msgspec.json.encode({"serverTime": time.time_ns() // 1_000_000}))


def _symbol_list(raw: str) -> list[str]:
    try:
        return msgspec.json.decode(raw, type=list[str])
    except msgspec.DecodeError:
        raise wire.RestError(400, -1135, "JSON sent for parameter 'symbols' is not valid") from None


def _request_weight(request: web.Request) -> int:
    path = request.path
    weight = order_weight(request.method, path, request.query)
    if weight is not None:
        return weight
    if path == "/api/v3/depth":
        try:
            return wire.depth_weight(wire.depth_limit(request.query.get("limit")))
        except wire.RestError:
            return wire.depth_weight(wire.DEPTH_LIMIT_DEFAULT)
    if path == "/api/v3/exchangeInfo":
        return 20
    return 1


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=_JSON, charset="UTF-8")


_GARBAGE_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


def _garbage(response: web.StreamResponse, variant: int) -> web.Response:
    """The same answer with a body that is not JSON: an HTML page, or the JSON cut short."""
    if variant % 2 == 0 or not isinstance(response, web.Response) or not response.body:
        garbled = web.Response(status=response.status, body=_GARBAGE_PAGE, content_type="text/html")
    else:
        body = bytes(response.body) if isinstance(response.body, bytes | bytearray) else b"{"
        garbled = web.Response(
            status=response.status, body=body[: max(1, len(body) // 2)], content_type=_JSON
        )
    for name in ("Retry-After", "X-MBX-ORDER-COUNT-10S", "X-MBX-ORDER-COUNT-1D"):
        if name in response.headers:
            garbled.headers[name] = response.headers[name]
    return garbled


def _error(error: wire.RestError, retry_after_s: int | None = None) -> web.Response:
    response = web.Response(
        status=error.status, body=error.body(), content_type=_JSON, charset="UTF-8"
    )
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response
