"""Clients for the local venue's Bybit v5 linear side: signed REST calls and the private stream."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from yarl import URL

from engine.sim.server import SimVenue
from engine.venues.bybit.signing import BybitSigner, sign, sign_string
from tests.engine.sim.traders import KEY, SECRET, Reply, Session, next_frame, now_ms


class BybitReply(Reply):
    """One answer: HTTP status, headers and the parsed body (None when it is not JSON)."""

    @property
    def code(self) -> int | None:
        """``retCode``, when the body is Bybit's answer."""
        return self.body.get("retCode") if isinstance(self.body, dict) else None

    @property
    def msg(self) -> str:
        """``retMsg``."""
        return self.body.get("retMsg", "") if isinstance(self.body, dict) else ""

    @property
    def result(self) -> Any:
        """``result``."""
        return self.body.get("result") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"BybitReply({self.status}, {self.text[:300]!r})"


class BybitTrader(Session):
    """Signed Bybit REST calls to a local venue as one account."""

    async def send(
        self,
        method: str,
        path: str,
        payload: str,
        *,
        key: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        window: int = 5000,
        signature: str | None = None,
    ) -> BybitReply:
        """Send ``payload`` (query or body) signed with the given (or our) key and secret."""
        assert self._http is not None
        stamp = now_ms() if timestamp is None else timestamp
        api_key = self.key if key is None else key
        text = sign_string(stamp, api_key, window, payload)
        headers = {
            "X-BAPI-API-KEY": api_key,
            "X-BAPI-TIMESTAMP": str(stamp),
            "X-BAPI-RECV-WINDOW": str(window),
            "X-BAPI-SIGN": signature or sign((secret or self.secret).encode(), text),
        }
        url = f"{self.venue.rest_url}{path}"
        if method == "POST":
            headers["Content-Type"] = "application/json"
            request = self._http.post(url, data=payload.encode(), headers=headers)
        else:
            target = URL(f"{url}?{payload}" if payload else url, encoded=True)  # sent as signed
            request = self._http.get(target, headers=headers)
        async with request as response:
            return BybitReply(response.status, dict(response.headers), await response.text())

    async def post(self, path: str, **body: Any) -> BybitReply:
        """A signed POST of ``body`` as JSON (category linear unless given)."""
        return await self.send("POST", path, json.dumps({"category": "linear", **body}))

    async def get(self, path: str, **query: str) -> BybitReply:
        """A signed GET with ``query`` sorted by key (category linear unless given)."""
        params = {"category": "linear", **query}
        return await self.send("GET", path, "&".join(f"{k}={params[k]}" for k in sorted(params)))

    async def create(self, **body: Any) -> BybitReply:
        """``POST /v5/order/create`` on BTCUSDT unless another symbol is given."""
        return await self.post("/v5/order/create", **{"symbol": "BTCUSDT", **body})

    async def open_orders(self, **query: str) -> list[dict[str, Any]]:
        """``GET /v5/order/realtime`` on BTCUSDT: the list."""
        reply = await self.get("/v5/order/realtime", **{"symbol": "BTCUSDT", **query})
        assert reply.code == 0, reply
        items: list[dict[str, Any]] = reply.result["list"]
        return items


class PrivateClient:
    """A ``/v5/private`` connection, authenticated and subscribed when asked."""

    def __init__(self, venue: SimVenue, key: str = KEY, secret: str = SECRET) -> None:
        self.venue = venue
        self.signer = BybitSigner(key, secret.encode())
        self._http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pushes: list[dict[str, Any]] = []

    async def __aenter__(self) -> PrivateClient:
        self._http = aiohttp.ClientSession()
        self.ws = await self._http.ws_connect(f"{self.venue.ws_url}/v5/private")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._http is not None:
            await self._http.close()

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send one frame (a dict as JSON)."""
        assert self.ws is not None
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def frame(self, within_s: float = 5.0) -> Any:
        """The next frame, parsed (raw text when it is not JSON)."""
        assert self.ws is not None
        return await next_frame(self.ws, within_s, "the private stream")

    async def answer(self, op: str) -> dict[str, Any]:
        """The next answer to ``op`` (pushes that arrive first are kept)."""
        while True:
            frame = await self.frame()
            if isinstance(frame, dict) and frame.get("op") == op:
                return frame
            self.pushes.append(frame)

    async def auth(self, expires_ms: int | None = None) -> dict[str, Any]:
        """Authenticate; returns the answer."""
        expires = now_ms() + 10_000 if expires_ms is None else expires_ms
        await self.send(self.signer.ws_auth(expires, req_id="auth-1"))
        return await self.answer("auth")

    async def subscribe(self, *topics: str) -> dict[str, Any]:
        """Subscribe to ``topics`` (every private topic when none); returns the answer."""
        args = list(topics) or ["order", "execution", "position", "wallet"]
        await self.send({"req_id": "sub-1", "op": "subscribe", "args": args})
        return await self.answer("subscribe")

    async def push(self, topic: str, within_s: float = 5.0) -> dict[str, Any]:
        """The next push on ``topic``; pushes on other topics stay for later."""
        for n, kept in enumerate(self.pushes):
            if isinstance(kept, dict) and kept.get("topic") == topic:
                return self.pushes.pop(n)
        while True:
            frame = await self.frame(within_s)
            if isinstance(frame, dict) and frame.get("topic") == topic:
                return frame
            self.pushes.append(frame)

    async def orders(self, count: int) -> list[dict[str, Any]]:
        """The items of the next ``count`` ``order`` pushes."""
        return [(await self.push("order"))["data"][0] for _ in range(count)]
