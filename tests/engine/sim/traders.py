"""Clients for local-venue trading tests: signed REST calls and a WebSocket-API user stream."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Self

import aiohttp

from engine.core.instruments import Instrument
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.binance.signing import encode_params, sign_rest, sign_ws

KEY = "simKey0001"
SECRET = "simSecret0001"
OTHER_KEY = "simKey0002"
OTHER_SECRET = "simSecret0002"


def accounts(**overrides: Any) -> list[AccountSpec]:
    """Two accounts with 1,000,000 USDT and 10 BTC each; ``overrides`` change the first."""
    first = {"balances": {"USDT": "1000000", "BTC": "10"}, "name": "alice", **overrides}
    return [
        AccountSpec(KEY, SECRET, **first),
        AccountSpec(OTHER_KEY, OTHER_SECRET, balances={"USDT": "1000000", "BTC": "10"}, name="bob"),
    ]


def now_ms() -> int:
    """Wall-clock milliseconds, as a client stamps ``timestamp``."""
    return time.time_ns() // 1_000_000


class Reply:
    """One REST answer: status, headers and the parsed body (None when it is not JSON)."""

    def __init__(self, status: int, headers: dict[str, str], text: str) -> None:
        self.status = status
        self.headers = headers
        self.text = text
        try:
            self.body: Any = json.loads(text)
        except ValueError:
            self.body = None

    @property
    def code(self) -> int | None:
        """Binance's error code, when the body is an error."""
        return self.body.get("code") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.text[:200]!r})"


class Session:
    """One account's keep-alive HTTP session to a local venue (open it with ``async with``)."""

    def __init__(self, venue: SimVenue, key: str = KEY, secret: str = SECRET) -> None:
        self.venue = venue
        self.key = key
        self.secret = secret
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()


async def next_frame(ws: aiohttp.ClientWebSocketResponse, within_s: float, what: str) -> Any:
    """The next frame ``what`` sends, parsed (raw text when it is not JSON)."""
    msg = await asyncio.wait_for(ws.receive(), within_s)
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"{what} sent {msg.type.name}")
    try:
        return json.loads(msg.data)
    except ValueError:
        return msg.data


class Trader(Session):
    """Signed REST calls to a local venue as one account, over one keep-alive session."""

    async def call(
        self,
        method: str,
        path: str,
        *,
        in_body: bool = False,
        key: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        **params: str,
    ) -> Reply:
        """Sign ``params`` (plus ``timestamp``) and send them in the query string or the body."""
        assert self._http is not None
        params = {**params, "timestamp": str(now_ms() if timestamp is None else timestamp)}
        payload = encode_params(params.items())
        payload += "&signature=" + sign_rest((secret or self.secret).encode(), payload)
        headers = {"X-MBX-APIKEY": key if key is not None else self.key}
        url = f"{self.venue.rest_url}{path}"
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = self._http.request(method, url, data=payload.encode(), headers=headers)
        else:
            request = self._http.request(method, f"{url}?{payload}", headers=headers)
        async with request as response:
            return Reply(response.status, dict(response.headers), await response.text())

    async def raw(
        self, method: str, path: str, query: str, body: str = "", **headers: str
    ) -> Reply:
        """Send exactly ``query`` and ``body`` (already signed, or not)."""
        assert self._http is not None
        url = f"{self.venue.rest_url}{path}?{query}"
        data = body.encode() if body else None
        hdrs = {"X-MBX-APIKEY": self.key, **headers}
        if body:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        async with self._http.request(method, url, data=data, headers=hdrs) as response:
            return Reply(response.status, dict(response.headers), await response.text())

    async def order(self, **params: str) -> Reply:
        """``POST /api/v3/order`` on BTCUSDT unless another symbol is given."""
        return await self.call("POST", "/api/v3/order", **{"symbol": "BTCUSDT", **params})


def price_text(instrument: Instrument, ticks: int) -> str:
    """Ticks as the decimal text a client sends."""
    return instrument.price_grid().to_text(ticks)


def size_text(instrument: Instrument, lots: int) -> str:
    """Lots as the decimal text a client sends."""
    return instrument.size_grid().to_text(lots)


class UserStream:
    """A WebSocket-API connection with the user-stream subscription of one account."""

    def __init__(self, venue: SimVenue, key: str = KEY, secret: str = SECRET) -> None:
        self.venue = venue
        self.key = key
        self.secret = secret
        self._http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.subscription_id: int | None = None
        self.pending: list[Any] = []
        self._next_id = 0

    async def __aenter__(self) -> UserStream:
        self._http = aiohttp.ClientSession()
        self.ws = await self._http.ws_connect(f"{self.venue.ws_url}/ws-api/v3")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._http is not None:
            await self._http.close()

    def signed_params(self, secret: str | None = None, **params: Any) -> dict[str, Any]:
        """``params`` with ``apiKey``, ``timestamp`` and the WebSocket-API signature."""
        out: dict[str, Any] = {"apiKey": self.key, "timestamp": now_ms(), **params}
        text = {k: str(v) for k, v in out.items()}
        out["signature"] = sign_ws((secret or self.secret).encode(), text)
        return out

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its answer (events that arrive first are kept)."""
        assert self.ws is not None
        self._next_id += 1
        request_id = f"r{self._next_id}"
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.ws.send_str(json.dumps(message))
        while True:
            frame = await self.frame()
            if isinstance(frame, dict) and frame.get("id") == request_id:
                return frame
            self.pending.append(frame)

    async def subscribe(self) -> dict[str, Any]:
        """Subscribe with ``userDataStream.subscribe.signature``; returns the answer."""
        reply = await self.request("userDataStream.subscribe.signature", self.signed_params())
        if reply.get("status") == 200:
            self.subscription_id = reply["result"]["subscriptionId"]
        return reply

    async def frame(self, within_s: float = 5.0) -> Any:
        """The next frame, parsed (raw text when it is not JSON)."""
        assert self.ws is not None
        return await next_frame(self.ws, within_s, "the WebSocket API")

    async def event(self, kind: str | None = None, within_s: float = 5.0) -> dict[str, Any]:
        """The next user-stream event (of type ``kind``), skipping others."""
        while True:
            frame = self.pending.pop(0) if self.pending else await self.frame(within_s)
            if isinstance(frame, dict) and "event" in frame:
                event: dict[str, Any] = frame["event"]
                if kind is None or event.get("e") == kind:
                    return event

    async def reports(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` ``executionReport`` events."""
        return [await self.event("executionReport") for _ in range(count)]
