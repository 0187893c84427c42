"""The Bybit private WebSocket connection: auth, subscribe, heartbeat, reconnect (venues.md §3.9).

One connection to ``/v5/private`` at a time. After it opens, :class:`PrivateLink` sends the
signed ``auth`` (expiring ``expires_after_ms`` after the venue's clock now) and waits for the
answer, subscribes ``order``, ``execution``, ``position`` and ``wallet`` and waits for that
answer; then it reports the link up and hands every push on. A ``ping`` goes every
``ping_interval_s`` (Bybit asks for 20 s); a pong that does not come within ``pong_timeout_s``
ends the connection. The link is reported down when the socket closes, a frame is garbage, or
the heartbeat fails; then it reconnects with :class:`~engine.venues.backoff.Backoff` delays and
authenticates and subscribes again. The gateway's owner reconciles after every reconnect: what
happened while the stream was down cannot be seen from it (§9.5).

A refused ``auth`` is :class:`~engine.errors.AuthError` (the key or signature) and waits the
longest backoff step. The first connection's outcome is :attr:`PrivateLink.first_answer`, which
the gateway's ``start`` awaits, so a wrong secret fails start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from engine.core.clock import Clock
from engine.errors import AuthError, GatewayError, StatusUnknown, VenueGarbage
from engine.venues.backoff import Backoff
from engine.venues.bybit.private import (
    TOPICS,
    OpAnswer,
    PrivateFrame,
    PrivateParser,
    ping_frame,
    subscribe_frame,
)
from engine.venues.bybit.signing import BybitSigner
from engine.venues.clock_offset import ClockOffset

log = logging.getLogger("engine.venues.bybit")

_NS = 1_000_000_000
OnFrame = Callable[[PrivateFrame], None]
OnLink = Callable[[bool, str], None]
"""Told ``(up, reason)`` whenever the subscription starts or ends."""


class PrivateLink:
    """Keeps one authenticated, subscribed private stream.

    Args:
        url: ``wss://stream.bybit.com/v5/private`` or the local venue's.
        signer: signs the ``auth`` op (API key and secret, never logged).
        parser: turns frames into events for our markets.
        offset: the venue clock estimate the auth expiry is taken from.
        on_frame: gets every push (events, position reports, other topics).
        on_link: gets ``(up, reason)``.
        clock: for the connection's age.
        venue: venue name for logs and errors.
        backoff: reconnect delays.
        ping_interval_s: seconds between pings.
        pong_timeout_s: a ping unanswered this long ends the connection.
        answer_timeout_s: how long to wait for the auth and subscribe answers.
        expires_after_ms: how far ahead the auth expires.
    """

    def __init__(
        self,
        url: str,
        signer: BybitSigner,
        parser: PrivateParser,
        offset: ClockOffset,
        on_frame: OnFrame,
        on_link: OnLink,
        clock: Clock,
        *,
        venue: str = "bybit",
        backoff: Backoff | None = None,
        ping_interval_s: float = 20.0,
        pong_timeout_s: float = 10.0,
        answer_timeout_s: float = 10.0,
        expires_after_ms: int = 10_000,
    ) -> None:
        self.url = url
        self.venue = venue
        self._signer = signer
        self._parser = parser
        self._offset = offset
        self._on_frame = on_frame
        self._on_link = on_link
        self._clock = clock
        self._backoff = backoff or Backoff(base_s=0.2, cap_s=30.0)
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self._answer_timeout_s = answer_timeout_s
        self._expires_after_ms = expires_after_ms
        self._ws: ClientConnection | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._pong = asyncio.Event()
        self._requests = 0
        self._stopping = False
        self._restart_reason = ""
        self._down_reported = False
        self.up = False
        """True while authenticated and subscribed."""
        self.connections = 0
        """Connections opened so far."""
        self.first_answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done when the first subscription stood, or failed with the venue's refusal."""

    def __repr__(self) -> str:
        return f"PrivateLink({self.url!r}, up={self.up})"

    async def run(self) -> None:
        """Connect, authenticate, subscribe, read, reconnect; until :meth:`stop`."""
        while not self._stopping:
            started = self._clock.monotonic_ns()
            wait_s: float | None = None
            try:
                await self._connection()
            except VenueGarbage as exc:
                self._down(f"garbage on the private stream: {exc}")
            except GatewayError as exc:
                wait_s = self._refused(exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                self._down(f"private stream lost: {exc!r}")
            finally:
                self._ws = None
            if self._stopping:
                break
            healthy_s = (self._clock.monotonic_ns() - started) / _NS
            delay = self._backoff.next_delay(healthy_s) if wait_s is None else wait_s
            log.info("private stream reconnecting", extra={"venue": self.venue, "delay_s": delay})
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
            task = asyncio.get_running_loop().create_task(ws.close(code=1000, reason="resubscribe"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    # ---- one connection --------------------------------------------------------------------------

    async def _connection(self) -> None:
        async with connect(
            self.url, compression=None, max_size=1 << 22, open_timeout=10.0, close_timeout=1.0
        ) as ws:
            self._ws = ws
            self.connections += 1
            if self._stopping:
                return
            expires = self._offset.timestamp_ms() + self._expires_after_ms
            auth = await self._ask(ws, "auth", self._signer.ws_auth(expires, req_id=self._req_id()))
            if not auth.success:
                raise AuthError(self.venue, f"private stream auth refused: {auth.ret_msg}")
            sub = await self._ask(ws, "subscribe", subscribe_frame(self._req_id(), TOPICS))
            if not sub.success:
                raise AuthError(self.venue, f"private stream subscribe refused: {sub.ret_msg}")
            self.up = True
            self._down_reported = False
            log.info("private stream subscribed", extra={"venue": self.venue, "topics": TOPICS})
            self._on_link(True, "")
            if not self.first_answer.done():
                self.first_answer.set_result(None)
            pinger = asyncio.get_running_loop().create_task(self._heartbeat(ws))
            try:
                await self._read(ws)
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
                reason = self._restart_reason or "private stream closed"
                self._restart_reason = ""
                self._down(reason)

    def _req_id(self) -> str:
        self._requests += 1
        return f"r{self._requests}"

    async def _ask(self, ws: ClientConnection, op: str, frame: str) -> OpAnswer:
        """Send a request and wait for its answer (pushes before it are handed on)."""
        await ws.send(frame)
        async with asyncio.timeout(self._answer_timeout_s):
            while True:
                parsed = self._parser.parse(await ws.recv(decode=False), self._clock.time_ns())
                if isinstance(parsed, OpAnswer):
                    if parsed.op == op:
                        return parsed
                    continue
                self._on_frame(parsed)

    async def _heartbeat(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_interval_s)
            self._pong.clear()
            await ws.send(ping_frame(self._req_id()))
            try:
                await asyncio.wait_for(self._pong.wait(), self.pong_timeout_s)
            except TimeoutError:
                self._restart_reason = f"no pong within {self.pong_timeout_s:g} s"
                log.warning("private stream heartbeat failed", extra={"venue": self.venue})
                await ws.close(code=1000, reason="heartbeat")
                return

    async def _read(self, ws: ClientConnection) -> None:
        parser = self._parser
        clock = self._clock
        while True:
            raw = await ws.recv(decode=False)
            try:
                parsed = parser.parse(raw, clock.time_ns())
            except VenueGarbage as exc:
                self._restart_reason = f"garbage on the private stream: {exc}"
                log.warning(
                    "garbage on the private stream; reconnecting",
                    extra={"venue": self.venue, "error": str(exc)},
                )
                return
            if isinstance(parsed, OpAnswer):
                if parsed.op in ("pong", "ping"):
                    self._pong.set()
                continue
            self._on_frame(parsed)

    # ---- refusals --------------------------------------------------------------------------------

    def _refused(self, error: GatewayError) -> float:
        """The venue refused auth or subscribe; returns how long to wait before trying again."""
        self._down(str(error))
        if not self.first_answer.done():
            self.first_answer.set_exception(error)
        log.warning("private stream refused", extra={"venue": self.venue, "error": error.reason})
        return self._backoff.cap_s  # a configuration problem: do not hammer the venue

    def _down(self, reason: str) -> None:
        """Report the link down, once per outage (the first reason is the one that counts)."""
        was = self.up
        self.up = False
        if self._stopping or (not was and self._down_reported):
            return
        if was:
            log.warning("private stream down", extra={"venue": self.venue, "reason": reason})
        self._down_reported = True
        self._on_link(False, reason)
