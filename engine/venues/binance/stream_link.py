"""The user-stream connection loop both Binance gateways keep: reconnect, rotate, report the link.

:class:`StreamLink` holds one connection at a time. Each connection (a subclass's
``_connection``) opens the socket, gets the stream going and reads it with :meth:`_read`,
which hands every frame's order events on and ends the connection when a frame is garbage,
the subclass says the stream has ended, or the connection reaches ``max_age_s`` (Binance closes
connections at 24 h; we rotate before). The link is reported down whenever a connection ends,
and a new one follows after a :class:`~engine.venues.backoff.Backoff` delay, or after the wait
a refusal asks for (the subclass's ``_refused``). Spot subscribes on the WebSocket API
(:mod:`.user_link`); USD-M opens a listen-key stream (``binance_usdm.listen_key``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from engine.core.clock import Clock
from engine.errors import GatewayError, StatusUnknown, VenueGarbage
from engine.venues.backoff import Backoff
from engine.venues.binance.orders import Events

_NS = 1_000_000_000
OnEvents = Callable[[Events], None]
OnLink = Callable[[bool, str], None]
"""Told ``(up, reason)`` whenever the stream starts or ends."""


class FrameParser(Protocol):
    """Turns one frame into order events (a list) or another message."""

    def parse(self, raw: bytes | str, recv_ts: int) -> object:
        """The frame's events or message; VenueGarbage when it cannot be read."""


class StreamLink:
    """The reconnect loop, rotation, restart and link reports of one user data stream.

    A subclass sets ``_log``, ``_again`` (what a new connection does: the close reason),
    ``_redoing`` (the same, for the logs) and ``_started`` (what ``first_answer`` is missing
    when stopped early), and writes
    ``_connection``, ``_refused`` and ``_message``.

    Args:
        venue: venue name for logs and errors.
        parser: turns frames into events for our markets.
        on_events: gets each frame's order events.
        on_link: gets ``(up, reason)``.
        clock: for the connection's age.
        backoff: reconnect delays.
        max_age_s: rotate the connection after this long.
    """

    _log: ClassVar[logging.Logger]
    _again: ClassVar[str]
    _redoing: ClassVar[str]
    _started: ClassVar[str]

    def __init__(
        self,
        venue: str,
        parser: FrameParser,
        on_events: OnEvents,
        on_link: OnLink,
        clock: Clock,
        backoff: Backoff | None,
        max_age_s: float,
    ) -> None:
        self.venue = venue
        self._parser = parser
        self._on_events = on_events
        self._on_link = on_link
        self._clock = clock
        self._backoff = backoff or Backoff(base_s=0.2, cap_s=30.0)
        self._max_age_s = max_age_s
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._restart_reason = ""
        self.up = False
        """True while the stream is going."""
        self.connections = 0
        """Connections opened so far."""
        self.first_answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done when the first stream started, or failed with the venue's refusal."""

    async def run(self) -> None:
        """Connect, read, reconnect; until :meth:`stop`."""
        while not self._stopping:
            started = self._clock.monotonic_ns()
            wait_s: float | None = None
            try:
                await self._connection()
            except GatewayError as exc:
                wait_s = await self._refused(exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                self._down(self._lost(exc))
            finally:
                self._ws = None
            if self._stopping:
                break
            healthy_s = (self._clock.monotonic_ns() - started) / _NS
            delay = self._backoff.next_delay(healthy_s) if wait_s is None else wait_s
            self._log.info(
                "user stream reconnecting", extra={"venue": self.venue, "delay_s": delay}
            )
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        await self._closing()
        if not self.first_answer.done():
            self.first_answer.set_exception(
                StatusUnknown(self.venue, f"stopped before {self._started}")
            )
            self.first_answer.exception()  # retrieved: nobody may be waiting any more

    def restart(self, reason: str) -> None:
        """Drop the connection now (garbage seen, reconcile needed); a new one follows."""
        self._restart_reason = reason
        ws = self._ws
        if ws is not None:
            asyncio.get_running_loop().create_task(ws.close(code=1000, reason=self._again))

    # ---- what a subclass writes ------------------------------------------------------------------

    async def _connection(self) -> None:
        """Open one connection, start the stream and read it until it ends."""
        raise NotImplementedError

    async def _refused(self, error: GatewayError) -> float | None:
        """The venue refused the stream; returns how long to wait (None: the usual backoff)."""
        raise NotImplementedError

    def _message(self, parsed: object) -> bool:
        """A frame that is not order events; True when it ends the connection."""
        raise NotImplementedError

    async def _closing(self) -> None:
        """Anything to release on :meth:`stop`, after the socket is closed."""

    def _lost(self, error: Exception) -> str:
        """Why the link is down when the connection failed with ``error``."""
        return f"user stream lost: {error!r}"

    # ---- shared steps ----------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection, opened_ns: int) -> None:
        parser = self._parser
        clock = self._clock
        on_events = self._on_events
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
                self._log.warning(
                    f"garbage on the user stream; {self._redoing}",
                    extra={"venue": self.venue, "error": str(exc)},
                )
                return
            if isinstance(parsed, list):
                on_events(parsed)
            elif self._message(parsed):
                return

    def _ended(self) -> None:
        """The connection ended: the link is down for the reason it ended with."""
        reason = self._restart_reason or "user stream closed"
        self._restart_reason = ""
        self._down(reason)

    def _opened(self, message: str, **extra: object) -> None:
        """The stream is going: the link is up."""
        self.up = True
        self._log.info(message, extra={"venue": self.venue, **extra})
        self._on_link(True, "")
        if not self.first_answer.done():
            self.first_answer.set_result(None)

    def _down(self, reason: str) -> None:
        was = self.up
        self.up = False
        if was and not self._stopping:
            self._log.warning("user stream down", extra={"venue": self.venue, "reason": reason})
        if not self._stopping:
            self._on_link(False, reason)
