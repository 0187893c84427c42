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
from websockets.exceptions import WebSocketException

from engine.core.clock import Clock
from engine.errors import (
    AuthError,
    ClockSkew,
    GatewayError,
    IpBanned,
    RateLimited,
    StatusUnknown,
    VenueGarbage,
)
from engine.venues.backoff import Backoff
from engine.venues.binance.orders import Events
from engine.venues.binance.user_stream import (
    OtherEvent,
    StreamAnswer,
    StreamTerminated,
    UserStreamParser,
    subscribe_request,
)
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimiter

log = logging.getLogger("engine.venues.binance")

_NS = 1_000_000_000
OnEvents = Callable[[Events], None]
OnLink = Callable[[bool, str], None]
"""Told ``(up, reason)`` whenever the subscription starts or ends."""


class _Restart(Exception):
    """Ends the current connection so that a new one subscribes again."""


class UserStreamLink:
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
        self.url = url
        self.venue = venue
        self._api_key = api_key
        self._secret = secret
        self._parser = parser
        self._offset = offset
        self._resync = resync
        self._limiter = limiter
        self._connect_cost = connect_cost
        self._on_events = on_events
        self._on_link = on_link
        self._clock = clock
        self._recv_window_ms = recv_window_ms
        self._backoff = backoff or Backoff(base_s=0.2, cap_s=30.0)
        self._answer_timeout_s = answer_timeout_s
        self._max_age_s = max_age_s
        self._ws: ClientConnection | None = None
        self._requests = 0
        self._stopping = False
        self._restart_reason = ""
        self.up = False
        """True while subscribed."""
        self.connections = 0
        """Connections opened so far."""
        self.first_answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done when the first subscription succeeded, or failed with the venue's error."""

    def __repr__(self) -> str:
        return f"UserStreamLink({self.url!r}, up={self.up})"

    async def run(self) -> None:
        """Subscribe, read, reconnect; until :meth:`stop`."""
        while not self._stopping:
            started = self._clock.monotonic_ns()
            wait_s: float | None = None
            try:
                await self._connection()
            except _Restart:
                pass
            except GatewayError as exc:
                wait_s = await self._refused(exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                self._down(f"user stream lost: {exc!r}")
            finally:
                self._ws = None
            if self._stopping:
                break
            healthy_s = (self._clock.monotonic_ns() - started) / _NS
            delay = self._backoff.next_delay(healthy_s) if wait_s is None else wait_s
            log.info("user stream reconnecting", extra={"venue": self.venue, "delay_s": delay})
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        if not self.first_answer.done():
            self.first_answer.set_exception(StatusUnknown(self.venue, "stopped before subscribing"))
            self.first_answer.exception()  # retrieved: nobody may be waiting any more

    def restart(self, reason: str) -> None:
        """Drop the connection now (garbage seen, reconcile needed); a new one follows."""
        self._restart_reason = reason
        ws = self._ws
        if ws is not None:
            asyncio.get_running_loop().create_task(ws.close(code=1000, reason="resubscribe"))

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
                reason = self._restart_reason or "user stream closed"
                self._restart_reason = ""
                self._down(reason)

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
                parsed = self._parser.parse(raw, self._clock.time_ns())
                if isinstance(parsed, StreamAnswer) and parsed.request_id == request_id:
                    break
        if parsed.error is not None:
            raise parsed.error
        self.up = True
        log.info(
            "user stream subscribed",
            extra={"venue": self.venue, "subscription": parsed.subscription_id},
        )
        self._on_link(True, "")
        if not self.first_answer.done():
            self.first_answer.set_result(None)

    async def _read(self, ws: ClientConnection, opened_ns: int) -> None:
        parser = self._parser
        clock = self._clock
        while True:
            age_s = (clock.monotonic_ns() - opened_ns) / _NS
            try:
                async with asyncio.timeout(max(0.0, self._max_age_s - age_s)):
                    raw = await ws.recv(decode=False)
            except TimeoutError:
                self._restart_reason = "user stream rotated before the venue's 24 h limit"
                return
            try:
                parsed = parser.parse(raw, clock.time_ns())
            except VenueGarbage as exc:
                self._restart_reason = f"garbage on the user stream: {exc}"
                log.warning(
                    "garbage on the user stream; resubscribing",
                    extra={"venue": self.venue, "error": str(exc)},
                )
                return
            if isinstance(parsed, list):
                self._on_events(parsed)
            elif isinstance(parsed, StreamTerminated):
                self._restart_reason = "the venue ended the user stream subscription"
                return
            elif isinstance(parsed, OtherEvent | StreamAnswer):
                continue

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

    def _down(self, reason: str) -> None:
        was = self.up
        self.up = False
        if was and not self._stopping:
            log.warning("user stream down", extra={"venue": self.venue, "reason": reason})
        if not self._stopping:
            self._on_link(False, reason)
