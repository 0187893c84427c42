"""The user data stream connection: WebSocket API, signed subscription, reconnect (venues.md §9).

One connection to ``/ws-api/v3`` at a time. After it opens, :class:`UserStreamLink` sends
``userDataStream.subscribe.signature`` and waits for the answer; once subscribed it reports the
link up and hands every frame's events on. It reports the link down when the socket closes, the
venue ends the subscription (``eventStreamTerminated``), a frame is garbage, or the connection
reaches ``max_age_s`` (Binance closes connections at 24 h; we rotate before). Then it reconnects
with :class:`~engine.venues.backoff.Backoff` delays and subscribes again; the gateway's owner
reconciles after every reconnect, as user-stream gaps cannot be seen (§9.5).

A refused subscription says why: a bad key or signature (AuthError) waits the longest backoff
step; a refused timestamp resynchronises the clock and tries again at once; rate limits feed the
limiter. The first subscription's outcome is :attr:`UserStreamLink.first_answer`, which the
gateway's ``start`` awaits, so a wrong secret fails start-up with AuthError.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect

from engine.core.clock import Clock
from engine.errors import AuthError, ClockSkew, GatewayError, IpBanned, RateLimited
from engine.venues.backoff import Backoff
from engine.venues.binance.stream_link import OnEvents, OnLink, StreamLink
from engine.venues.binance.user_stream import (
    StreamAnswer,
    StreamTerminated,
    UserStreamParser,
    subscribe_request,
)
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimiter

log = logging.getLogger("engine.venues.binance")


class UserStreamLink(StreamLink):
    """Keeps one subscribed user data stream.

    Args:
        url: the WebSocket API, e.g. ``wss://ws-api.binance.com:443/ws-api/v3``.
        api_key: our API key (sent in the signed params, never logged).
        secret: the API secret (signs the subscription, never logged).
        parser: turns frames into events for our markets.
        offset: stamps the subscription; resynced when the venue refuses the timestamp.
        resync: takes a new clock measurement now.
        limiter: counts connection weight, honours bans and pauses.
        connect_cost: what opening a connection spends.
        on_events: gets each executionReport's events.
        on_link: gets ``(up, reason)``.
        clock: for the connection's age.
        venue: venue name for logs and errors.
        recv_window_ms: ``recvWindow`` of the subscription.
        backoff: reconnect delays.
        answer_timeout_s: how long to wait for the subscription's answer.
        max_age_s: rotate the connection after this long.
    """

    _log = log
    _again = "resubscribe"
    _redoing = "resubscribing"
    _started = "subscribing"

    def __init__(
        self,
        url: str,
        api_key: str,
        secret: bytes,
        parser: UserStreamParser,
        offset: ClockOffset,
        resync: Callable[[], Awaitable[None]],
        limiter: RateLimiter,
        connect_cost: Cost,
        on_events: OnEvents,
        on_link: OnLink,
        clock: Clock,
        *,
        venue: str = "binance",
        recv_window_ms: int = 5000,
        backoff: Backoff | None = None,
        answer_timeout_s: float = 10.0,
        max_age_s: float = 23 * 3600.0,
    ) -> None:
        super().__init__(venue, parser, on_events, on_link, clock, backoff, max_age_s)
        self.url = url
        self._api_key = api_key
        self._secret = secret
        self._user_parser = parser
        self._offset = offset
        self._resync = resync
        self._limiter = limiter
        self._connect_cost = connect_cost
        self._recv_window_ms = recv_window_ms
        self._answer_timeout_s = answer_timeout_s
        self._requests = 0

    def __repr__(self) -> str:
        return f"UserStreamLink({self.url!r}, up={self.up})"

    # ---- one connection --------------------------------------------------------------------------

    async def _connection(self) -> None:
        await self._limiter.acquire(self._connect_cost)
        async with connect(
            self.url, compression=None, max_size=1 << 22, open_timeout=10.0, close_timeout=1.0
        ) as ws:
            self._ws = ws
            self.connections += 1
            if self._stopping:
                return
            await self._subscribe(ws)
            opened = self._clock.monotonic_ns()
            try:
                await self._read(ws, opened)
            finally:
                self._ended()

    async def _subscribe(self, ws: ClientConnection) -> None:
        self._requests += 1
        request_id = f"subscribe-{self._requests}"
        frame = subscribe_request(
            request_id,
            self._api_key,
            self._secret,
            self._offset.timestamp_ms(),
            self._recv_window_ms,
        )
        await ws.send(frame)
        async with asyncio.timeout(self._answer_timeout_s):
            while True:
                raw = await ws.recv(decode=False)
                parsed = self._user_parser.parse(raw, self._clock.time_ns())
                if isinstance(parsed, StreamAnswer) and parsed.request_id == request_id:
                    break
        if parsed.error is not None:
            raise parsed.error
        self._opened("user stream subscribed", subscription=parsed.subscription_id)

    def _message(self, parsed: object) -> bool:
        if isinstance(parsed, StreamTerminated):
            self._restart_reason = "the venue ended the user stream subscription"
            return True
        return False  # another event, or an answer to a request of ours

    # ---- refusals --------------------------------------------------------------------------------

    async def _refused(self, error: GatewayError) -> float | None:
        """The subscription was refused; returns how long to wait (None: the usual backoff)."""
        self._down(f"user stream subscription refused: {error}")
        if isinstance(error, AuthError) and not self.first_answer.done():
            self.first_answer.set_exception(error)
        log.warning(
            "user stream subscription refused",
            extra={"venue": self.venue, "code": error.code, "error": error.reason},
        )
        if isinstance(error, ClockSkew):
            self._offset.invalidate()
            with contextlib.suppress(GatewayError):
                await self._resync()
            return 0.0
        if isinstance(error, IpBanned):
            self._limiter.ban(error.retry_after_s, error.reason)
            return error.retry_after_s
        if isinstance(error, RateLimited):
            self._limiter.retry_after(error.retry_after_s)
            return error.retry_after_s
        if isinstance(error, AuthError):
            return self._backoff.cap_s  # a configuration problem: do not hammer the venue
        return None
