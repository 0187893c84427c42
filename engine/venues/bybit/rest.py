"""Signed Bybit v5 REST calls: the rate limits per endpoint, the signer, and one request path.

Bybit signs into per-request headers (``X-BAPI-TIMESTAMP``, ``X-BAPI-SIGN``) and takes order
requests as JSON bodies (venues.md §3.5-3.6), while the Binance hot-path client
(:mod:`engine.venues.binance.http`) writes one fixed header block and no body, by design, as
Binance signs into the query string. Every Bybit request therefore goes through aiohttp here, on
one pooled keep-alive session; a GET's query is sent exactly as signed (``encoded=True``).

Limits (§3.7): each endpoint has its own bucket per account (order entry 10/s, queries 50/s,
rolling second), and every request also spends from the address bucket (600 per 5 s). Each
answer's ``X-Bapi-Limit`` and ``X-Bapi-Limit-Status`` say how much of the endpoint's bucket the
venue counts as used, which the limiter takes when it is more than ours; a 10006 spends the
bucket to the full, so its next request waits for the window to turn; HTTP 403 (the address
limit) bans every request for 10 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import msgspec
from yarl import URL

from engine.errors import GatewayError, IpBanned, RateLimited, StatusUnknown
from engine.venues.bybit.answers import envelope_of, server_time_ms
from engine.venues.bybit.errors import answer_error
from engine.venues.bybit.signing import BybitSigner
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimit, RateLimiter

IP = "IP_5S"
ENDPOINT_BUCKETS: Mapping[str, str] = {
    "/v5/order/create": "ORDER_CREATE",
    "/v5/order/amend": "ORDER_AMEND",
    "/v5/order/cancel": "ORDER_CANCEL",
    "/v5/order/cancel-all": "ORDER_CANCEL_ALL",
    "/v5/order/realtime": "ORDER_REALTIME",
    "/v5/order/history": "ORDER_HISTORY",
    "/v5/execution/list": "EXECUTION_LIST",
    "/v5/position/list": "POSITION_LIST",
    "/v5/account/wallet-balance": "WALLET_BALANCE",
}
"""The rate-limit bucket of each endpoint (``/v5/market/time`` spends only the address's)."""
LIMITS = (
    RateLimit(name=IP, limit=600, window_s=5.0),
    RateLimit(name="ORDER_CREATE", limit=10, window_s=1.0),
    RateLimit(name="ORDER_AMEND", limit=10, window_s=1.0),
    RateLimit(name="ORDER_CANCEL", limit=10, window_s=1.0),
    RateLimit(name="ORDER_CANCEL_ALL", limit=10, window_s=1.0),
    RateLimit(name="ORDER_REALTIME", limit=50, window_s=1.0),
    RateLimit(name="ORDER_HISTORY", limit=50, window_s=1.0),
    RateLimit(name="EXECUTION_LIST", limit=50, window_s=1.0),
    RateLimit(name="POSITION_LIST", limit=50, window_s=1.0),
    RateLimit(name="WALLET_BALANCE", limit=50, window_s=1.0),
)
"""Bybit's default limits for the linear category (venues.md §3.7)."""
_LIMIT = "x-bapi-limit"
_LIMIT_STATUS = "x-bapi-limit-status"


class RequestNotSent(GatewayError):
    """The request never left (no connection, gateway stopped): the venue did nothing."""


class BybitRest:
    """Bybit REST with aiohttp: signed, limited, answers checked.

    Args:
        base_url: ``https://api.bybit.com``, the testnet, or the local venue's URL.
        signer: signs with the API key and secret.
        limiter: the venue's rate limiter; endpoints whose bucket it lacks are not limited.
        offset: the venue clock estimate that stamps requests.
        venue: venue name for errors.
        timeout_s: a call with no answer this long is :class:`StatusUnknown`.
    """

    def __init__(
        self,
        base_url: str,
        signer: BybitSigner,
        limiter: RateLimiter,
        offset: ClockOffset,
        *,
        venue: str = "bybit",
        timeout_s: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.venue = venue
        self.limiter = limiter
        self.offset = offset
        self._signer = signer
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._limits = {limit.name: limit.limit for limit in limiter.limits}
        self._costs = {
            path: limiter.cost({n: 1 for n in (bucket, IP) if n in self._limits})
            for path, bucket in ENDPOINT_BUCKETS.items()
        }
        self._ip_cost = limiter.cost({IP: 1} if IP in self._limits else {})

    def __repr__(self) -> str:
        return f"BybitRest({self.base_url!r})"

    def cost(self, path: str) -> Cost:
        """What a request to ``path`` spends."""
        return self._costs.get(path, self._ip_cost)

    async def open(self) -> None:
        """Create the HTTP session (keep-alive connections pooled by aiohttp)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Close the HTTP session."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def call(self, method: str, path: str, payload: str = "") -> msgspec.Raw:
        """Wait for budget, then :meth:`send`."""
        await self.limiter.acquire(self.cost(path))
        return await self.send(method, path, payload)

    async def send(
        self, method: str, path: str, payload: str = "", *, signed: bool = True
    ) -> msgspec.Raw:
        """One request now (its budget already taken); the ``result`` of a success.

        Args:
            method: ``GET`` (``payload`` is the query string) or ``POST`` (the JSON body).
            path: the endpoint.
            payload: exactly what is signed and sent.
            signed: False for public endpoints.

        Raises:
            GatewayError: the venue's refusal, mapped (:mod:`engine.venues.bybit.errors`);
                StatusUnknown when no answer came; RequestNotSent when nothing left.
        """
        session = self._session
        if session is None:
            raise RequestNotSent(self.venue, f"{method} {path}: the gateway is not started")
        headers = self._signer.headers(self.offset.timestamp_ms(), payload) if signed else {}
        target = self.base_url + path
        if method == "GET" and payload:
            target += "?" + payload
        data = None
        if method == "POST":
            headers["Content-Type"] = "application/json"
            data = payload.encode()
        try:
            async with session.request(
                method, URL(target, encoded=True), data=data, headers=headers
            ) as response:
                body = await response.read()
                status = response.status
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
        except aiohttp.ClientConnectorError as exc:
            raise RequestNotSent(self.venue, f"{method} {path}: cannot connect ({exc})") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StatusUnknown(self.venue, f"{method} {path}: no answer ({exc!r})") from None
        error = answer_error(
            status, body, answer_headers, now_ms=self.offset.timestamp_ms(), venue=self.venue
        )
        self.observe(path, answer_headers, error)
        if error is not None:
            raise error
        return envelope_of(body, f"{method} {path}").result

    def observe(self, path: str, headers: Mapping[str, str], error: GatewayError | None) -> None:
        """Feed an answer to the limiter: the endpoint's use, a 10006, a 403 ban."""
        bucket = ENDPOINT_BUCKETS.get(path)
        if isinstance(error, IpBanned):
            self.limiter.ban(error.retry_after_s, error.reason)
            return
        if bucket is None or bucket not in self._limits:
            return
        if isinstance(error, RateLimited) and error.code in (10006, 10018):
            self.limiter.observe(self._limits[bucket], bucket)
            return
        try:
            limit = int(headers[_LIMIT])
            left = int(headers[_LIMIT_STATUS])
        except (KeyError, ValueError):
            return
        self.limiter.observe(max(0, limit - left), bucket)

    async def server_time_ms(self) -> int:
        """``GET /v5/market/time``: the venue's clock in ms.

        Raises:
            GatewayError: when the venue did not answer with its time.
        """
        await self.limiter.acquire(self._ip_cost)
        return server_time_ms(await self.send("GET", "/v5/market/time", signed=False))
