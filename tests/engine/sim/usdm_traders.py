"""Clients for the local venue's Binance USD-M side: signed ``/fapi`` calls and the user stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from engine.sim.server import SimVenue
from tests.engine.sim.traders import KEY, SECRET, Reply, Trader

ALL_EVENTS = "ORDER_TRADE_UPDATE/ACCOUNT_UPDATE/listenKeyExpired"


class FuturesTrader(Trader):
    """Signed USD-M REST calls to a local venue as one account."""

    async def order(self, **params: str) -> Reply:
        """``POST /fapi/v1/order`` on BTCUSDT unless another symbol is given."""
        return await self.on_symbol("POST", "/fapi/v1/order", params)

    async def limit(
        self, side: str, quantity: str, price: str, tif: str = "GTC", **more: str
    ) -> Reply:
        """A LIMIT order with its time in force."""
        return await self.order(
            side=side, type="LIMIT", timeInForce=tif, quantity=quantity, price=price, **more
        )

    async def market(self, side: str, quantity: str, **more: str) -> Reply:
        """A MARKET order."""
        return await self.order(side=side, type="MARKET", quantity=quantity, **more)

    async def modify(self, **params: str) -> Reply:
        """``PUT /fapi/v1/order``."""
        return await self.on_symbol("PUT", "/fapi/v1/order", params)

    async def cancel(self, **params: str) -> Reply:
        """``DELETE /fapi/v1/order``."""
        return await self.on_symbol("DELETE", "/fapi/v1/order", params)

    async def get(self, path: str, **params: Any) -> Reply:
        """A signed GET (``key``, ``secret`` and ``timestamp`` as :meth:`Trader.call` takes)."""
        return await self.call("GET", path, **params)

    async def on_symbol(self, method: str, path: str, params: dict[str, str]) -> Reply:
        """A signed call on BTCUSDT unless ``params`` name another symbol."""
        merged: Any = {"symbol": "BTCUSDT", **params}
        return await self.call(method, path, **merged)

    async def listen_key(self, method: str = "POST", key: str | None = None) -> Reply:
        """``POST``/``PUT``/``DELETE /fapi/v1/listenKey`` with the API key only."""
        assert self._http is not None
        headers = {"X-MBX-APIKEY": self.key if key is None else key}
        url = f"{self.venue.rest_url}/fapi/v1/listenKey"
        async with self._http.request(method, url, headers=headers) as response:
            return Reply(response.status, dict(response.headers), await response.text())


class FuturesStream:
    """One ``/private/ws`` connection: every event it got, parsed."""

    def __init__(self, venue: SimVenue, listen_key: str, events: str | None = ALL_EVENTS) -> None:
        self.venue = venue
        self.listen_key = listen_key
        self.events = events
        self.received: list[dict[str, Any]] = []
        self.closed = False
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The stream's URL, in the current (query) form."""
        query = f"listenKey={self.listen_key}"
        if self.events is not None:
            query += f"&events={self.events}"
        return f"{self.venue.ws_url}/private/ws?{query}"

    async def __aenter__(self) -> FuturesStream:
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(self.url)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.received.append(json.loads(msg.data))
        self.closed = True

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Every event of type ``kind``."""
        return [e for e in self.received if e.get("e") == kind]

    def orders(self, client_order_id: str) -> list[dict[str, Any]]:
        """The ``o`` of every ORDER_TRADE_UPDATE of one order."""
        return [e["o"] for e in self.of("ORDER_TRADE_UPDATE") if e["o"]["c"] == client_order_id]

    async def wait(self, what: str, condition: Any, within_s: float = 5.0) -> None:
        """Wait until ``condition()`` holds (the limit only ends a hung test)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"gave up waiting for {what}: {self.received[-5:]}")
            await asyncio.sleep(0.005)


__all__ = ["KEY", "SECRET", "FuturesStream", "FuturesTrader"]
