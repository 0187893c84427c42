"""Hot-path requests to Binance: budget, a fresh signature at write time, answers, retries.

A :class:`Request` takes its rate-limit budget when it is made; when the limiter says go (at once,
or after a pace or a queue), its target is built, stamped and signed in one pass and written by
the transport. The answer (or the transport's failure) is mapped to a
:class:`~engine.errors.GatewayError` and handed to the request's handler, except for the errors
that are answered by sending again:

- -1021 (timestamp refused): once, after a fresh clock measurement;
- 429 on a cancel: up to three times; the limiter holds it until ``Retry-After`` has passed.

A 418 bans the limiter and marks the link bad; an auth error marks it bad too. A request whose
bytes left without an answer is :class:`~engine.errors.StatusUnknown`; one that never left is
:class:`RequestNotSent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.errors import (
    AuthError,
    ClockSkew,
    GatewayError,
    IpBanned,
    OrderRejected,
    RateLimited,
    StatusUnknown,
)
from engine.venues.base import GatewayStats
from engine.venues.binance.errors import rest_error
from engine.venues.binance.health import LinkHealth
from engine.venues.binance.http import HttpError, HttpResponse, ResponseCallback, TargetBuilder
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance.rest import BinanceRest, ErrorMap, RestSigner
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimiter

log = logging.getLogger("engine.venues.binance")

Subject = SubmitOrder | CancelOrder | ReplaceOrder
_USAGE_EVERY_NS = 50_000_000
"""``stats.rate`` is refreshed with answers, at most this often."""
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class RequestNotSent(GatewayError):
    """The request never left (no connection could take it): nothing happened at the venue."""


class OrderTransport(Protocol):
    """How hot-path requests reach the venue: a keep-alive client, or a peer in benchmarks."""

    def send(self, method: str, target: TargetBuilder, callback: ResponseCallback) -> None:
        """Write one request now or when a connection is free; one callback per request."""
        ...

    async def start(self, connections: int = 1) -> None:
        """Open connections ahead of the first request."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...


class Handler(Protocol):
    """What is done with a request's answer (or its failure)."""

    def __call__(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """Handle ``request``'s answer: the response, and the error it means (None: success)."""
        ...


class Request:
    """One hot-path request and what to do with its answer."""

    __slots__ = (
        "attempts",
        "cost",
        "dispatcher",
        "handler",
        "market",
        "method",
        "path",
        "query",
        "subject",
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        method: str,
        path: str,
        query: str,
        cost: Cost,
        handler: Handler,
        market: BinanceMarket,
        subject: Subject,
    ) -> None:
        self.dispatcher = dispatcher
        self.method = method
        self.path = path
        self.query = query
        self.cost = cost
        self.handler = handler
        self.market = market
        self.subject = subject
        self.attempts = 0

    def target(self) -> str:
        """The signed target, stamped now."""
        d = self.dispatcher
        return d.signer.target(self.path, self.query, d.offset.timestamp_ms(), d.recv_window_ms)

    def answered(self, response: HttpResponse | None, error: HttpError | None) -> None:
        """The transport's callback."""
        self.dispatcher.answered(self, response, error)


class Dispatcher:
    """Sends requests through the limiter and the transport, and routes their answers.

    Args:
        venue: venue name for errors.
        transport: the hot-path HTTP client.
        signer: signs every target.
        limiter: the venue's rate limiter.
        offset: stamps every target.
        rest: feeds answers' headers to the limiter.
        stats: the gateway's counters.
        health: told of bans and refused keys.
        spawn: runs a background coroutine under the gateway.
        resync: takes a fresh clock measurement.
        recv_window_ms: ``recvWindow`` of every request.
        errors: maps error answers to exceptions; Binance spot's codes by default.
    """

    def __init__(
        self,
        venue: str,
        transport: OrderTransport,
        signer: RestSigner,
        limiter: RateLimiter,
        offset: ClockOffset,
        rest: BinanceRest,
        stats: GatewayStats,
        health: LinkHealth,
        spawn: Spawn,
        resync: Callable[[], Awaitable[None]],
        recv_window_ms: int,
        *,
        errors: ErrorMap = rest_error,
    ) -> None:
        self.venue = venue
        self.errors = errors
        self.transport = transport
        self.signer = signer
        self.limiter = limiter
        self.offset = offset
        self.rest = rest
        self.stats = stats
        self.health = health
        self.recv_window_ms = recv_window_ms
        self._spawn = spawn
        self._resync = resync
        self._usage_at = 0

    def send(self, request: Request) -> None:
        """Take the budget and write now, or when the limiter says."""
        try:
            delay = self.limiter.reserve(request.cost)
        except IpBanned as exc:
            self.stats.errors += 1
            request.handler(request, None, exc)
            return
        self.stats.requests += 1
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._write, request)
        else:
            self.transport.send(request.method, request.target, request.answered)

    def _write(self, request: Request) -> None:
        if not self.health.started:
            request.handler(request, None, RequestNotSent(self.venue, "gateway stopped"))
            return
        self.transport.send(request.method, request.target, request.answered)

    def answered(
        self, request: Request, response: HttpResponse | None, error: HttpError | None
    ) -> None:
        """Map the answer to an error (or none), retry where that is the answer, else handle."""
        failure: GatewayError | None = None
        if error is not None:
            what = f"{request.method} {request.path}"
            if error.sent:
                failure = StatusUnknown(self.venue, f"{what}: no answer ({error})")
            else:
                failure = RequestNotSent(self.venue, f"{what} was not sent: {error}")
        else:
            assert response is not None
            status = response.status
            if not 200 <= status < 300:
                failure = self.errors(
                    status,
                    response.body,
                    response.headers.get("retry-after"),
                    now_ms=self.offset.timestamp_ms(),
                    venue=self.venue,
                )
            self.rest.observe(status, response.headers, failure)
        if failure is not None:
            if self._retried(request, failure):
                return
            if not isinstance(failure, OrderRejected):  # a refusal is a reject, counted there
                self.stats.errors += 1
        try:
            request.handler(request, response, failure)
        except Exception:  # a report bug must not take the connection down
            log.exception("handling an answer failed", extra={"venue": self.venue})
        now = time.monotonic_ns()
        if now - self._usage_at >= _USAGE_EVERY_NS:
            self._usage_at = now
            self.stats.rate = self.limiter.usage()

    def _retried(self, request: Request, failure: GatewayError) -> bool:
        if isinstance(failure, IpBanned):
            self.health.banned(failure)
            return False
        if isinstance(failure, ClockSkew) and request.attempts == 0:
            request.attempts += 1
            self._spawn(self._resend_after_resync(request), "resend")
            return True
        if (
            isinstance(failure, RateLimited)
            and isinstance(request.subject, CancelOrder)
            and request.attempts < 3
        ):
            request.attempts += 1
            self.send(request)  # the limiter holds it until Retry-After has passed
            return True
        if isinstance(failure, AuthError):
            self.health.bad(f"the venue refused our key: {failure}", resubscribe=False)
        return False

    async def _resend_after_resync(self, request: Request) -> None:
        with contextlib.suppress(GatewayError):
            await self._resync()
        self.send(request)
