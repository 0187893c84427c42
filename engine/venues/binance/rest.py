"""Signed Binance spot REST requests: limits and costs, the signer, and the awaited calls.

Every signed request carries ``recvWindow``, a ``timestamp`` from the venue clock estimate
(:class:`~engine.venues.clock_offset.ClockOffset`) and last the ``signature``: HMAC-SHA256 over
the query string exactly as sent (venues.md §1.7). :class:`RestSigner` keeps HMAC's two keyed
SHA-256 states (RFC 2104: the key padded and XORed with ``ipad`` and ``opad``) made once and copies
them per request, about 0.8 us a signature against 2.8 us through ``hmac.HMAC.copy``, whose copy,
update and hexdigest are each a Python call. Parameters ride in the query string with an empty
body.

:class:`BinanceRest` makes the calls that are awaited and off the hot path (server time, open
orders, account, cancel-all, order queries) with aiohttp, through the same rate limiter and clock
offset as the hot path: every answer's ``X-MBX-USED-WEIGHT-1M`` / ``X-MBX-ORDER-COUNT-*`` headers
feed the limiter, a 429 pauses it for ``Retry-After`` and a 418 bans it (see :meth:`observe`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol

import aiohttp
import msgspec
from yarl import URL

from engine.errors import GatewayError, IpBanned, RateLimited, StatusUnknown, VenueGarbage
from engine.venues.binance.errors import rest_error
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimit, RateLimiter

LIMITS = (
    RateLimit(name="REQUEST_WEIGHT", limit=6000, window_s=60.0, header="X-MBX-USED-WEIGHT-1M"),
    RateLimit(name="ORDERS_10S", limit=100, window_s=10.0, header="X-MBX-ORDER-COUNT-10S"),
    RateLimit(name="ORDERS_1D", limit=200_000, window_s=86_400.0, header="X-MBX-ORDER-COUNT-1D"),
    RateLimit(name="RAW_REQUESTS", limit=61_000, window_s=300.0),
)
"""Binance spot's published limits (venues.md §1.8; ORDERS as the docs' example and the venue's
exchangeInfo, per account)."""


_BLOCK = 64
"""SHA-256's block size: HMAC pads (or first hashes) the key to it."""
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
"""Translation tables XORing every key byte with HMAC's inner and outer pad bytes."""


class ErrorMap(Protocol):
    """Turns a REST answer that is not a success into its :class:`GatewayError`.

    Binance spot's is :func:`engine.venues.binance.errors.rest_error`; USD-M adds its own codes.
    """

    def __call__(
        self,
        status: int,
        body: bytes,
        retry_after: str | None = None,
        *,
        now_ms: int = 0,
        venue: str = "binance",
    ) -> GatewayError:
        """The error for ``status`` and ``body`` (``Retry-After`` and venue time to read bans)."""
        ...


class Costs:
    """What each call spends, resolved once against one limiter."""

    def __init__(self, limiter: RateLimiter) -> None:
        def cost(weight: int, orders: int = 0) -> Cost:
            spend = {"REQUEST_WEIGHT": weight, "RAW_REQUESTS": 1}
            if orders:
                spend |= {"ORDERS_10S": orders, "ORDERS_1D": orders}
            return limiter.cost(spend)

        self.new_order = cost(1, orders=1)
        self.cancel = cost(1)
        self.replace = cost(1, orders=1)
        self.cancel_all = cost(1)
        self.query_order = cost(4)
        self.open_orders_symbol = cost(6)
        self.open_orders_all = cost(80)
        self.account = cost(20)
        self.my_trades = cost(20)
        self.time = cost(1)
        self.ws_connect = cost(2)


class RestSigner:
    """HMAC-SHA256 under the API secret; the secret is never shown.

    The keyed inner and outer SHA-256 states are hashed once here (RFC 2104); each signature
    copies both, so no Python-level ``hmac`` call is on the hot path. The result is the same
    as ``hmac.new(secret, payload, hashlib.sha256).hexdigest()``.

    Args:
        secret: the API secret as bytes.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def __repr__(self) -> str:
        return "RestSigner(<secret hidden>)"

    def sign(self, payload: str) -> str:
        """Lowercase hex signature of ``payload`` (ASCII, already encoded as sent)."""
        inner = self._inner.copy()
        inner.update(payload.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def target(self, path: str, query: str, timestamp_ms: int, recv_window_ms: int) -> str:
        """``path?query&recvWindow=..&timestamp=..&signature=..``, signed in one pass."""
        stamp = f"recvWindow={recv_window_ms}&timestamp={timestamp_ms}"
        signed = f"{query}&{stamp}" if query else stamp
        inner = self._inner.copy()
        inner.update(signed.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return f"{path}?{signed}&signature={outer.hexdigest()}"


class BinanceRest:
    """Awaited REST calls with aiohttp, limited and signed like the hot path.

    Args:
        base_url: ``https://api.binance.com`` or the local venue's ``http://127.0.0.1:port``.
        api_key: sent in ``X-MBX-APIKEY``.
        signer: signs with the API secret.
        limiter: the venue's rate limiter.
        offset: the venue clock estimate that stamps requests.
        recv_window_ms: ``recvWindow`` of every signed request.
        venue: venue name for errors.
        timeout_s: a call with no answer this long is :class:`StatusUnknown`.
        time_path: the server-time endpoint (``/fapi/v1/time`` on USD-M).
        errors: maps error answers to exceptions; Binance spot's codes by default.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        signer: RestSigner,
        limiter: RateLimiter,
        offset: ClockOffset,
        *,
        recv_window_ms: int = 5000,
        venue: str = "binance",
        timeout_s: float = 10.0,
        time_path: str = "/api/v3/time",
        errors: ErrorMap = rest_error,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.time_path = time_path
        self.errors = errors
        self.venue = venue
        self.limiter = limiter
        self.offset = offset
        self.recv_window_ms = recv_window_ms
        self._signer = signer
        self._headers = {"X-MBX-APIKEY": api_key}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"BinanceRest({self.base_url!r})"

    async def open(self) -> None:
        """Create the HTTP session (keep-alive connections are pooled by aiohttp)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)

    async def close(self) -> None:
        """Close the HTTP session."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def observe(self, status: int, headers: Mapping[str, str], error: GatewayError | None) -> None:
        """Feed an answer to the limiter: used counts, a 429 pause, a 418 ban."""
        self.limiter.observe_headers(headers)
        if isinstance(error, IpBanned):
            self.limiter.ban(error.retry_after_s, error.reason)
        elif isinstance(error, RateLimited) and status in (418, 429):
            self.limiter.retry_after(error.retry_after_s)

    async def call(
        self, method: str, path: str, query: str, cost: Cost, *, signed: bool = True
    ) -> bytes:
        """One request; the body of a 2xx answer.

        Raises:
            GatewayError: the venue's error answer, mapped (see :mod:`.errors`); IpBanned while
                banned; StatusUnknown when no answer came.
        """
        await self.limiter.acquire(cost)
        session = self._session
        if session is None:
            raise StatusUnknown(self.venue, f"{method} {path}: the gateway is not started")
        if signed:
            target = self._signer.target(
                path, query, self.offset.timestamp_ms(), self.recv_window_ms
            )
        else:
            target = f"{path}?{query}" if query else path
        url = URL(self.base_url + target, encoded=True)
        try:
            async with session.request(method, url) as response:
                body = await response.read()
                status = response.status
                headers = response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StatusUnknown(self.venue, f"{method} {path}: no answer ({exc!r})") from None
        if 200 <= status < 300:
            self.observe(status, headers, None)
            return body
        error = self.errors(
            status,
            body,
            headers.get("Retry-After"),
            now_ms=self.offset.timestamp_ms(),
            venue=self.venue,
        )
        self.observe(status, headers, error)
        raise error

    async def server_time_ms(self, cost: Cost) -> int:
        """``GET /api/v3/time`` (or the ``time_path`` given): the venue's clock in ms.

        Raises:
            GatewayError: when the venue did not answer with its time.
        """
        body = await self.call("GET", self.time_path, "", cost, signed=False)
        try:
            return msgspec.json.decode(body, type=_ServerTime).server_time
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise VenueGarbage(self.venue, f"{self.time_path}: {exc}", body) from None


class _ServerTime(msgspec.Struct):
    server_time: int = msgspec.field(name="serverTime")
