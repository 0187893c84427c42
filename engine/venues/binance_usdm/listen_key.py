"""The USD-M user data stream connection: listen key, keep-alive, reconnect (venues.md §2.9, §9).

One connection at a time, to ``<stream base>/ws?listenKey=<key>&events=ORDER_TRADE_UPDATE/
ACCOUNT_UPDATE/listenKeyExpired`` (the base is ``wss://fstream.binance.com/private``; ``events``
is an allow-list, and leaving ``listenKeyExpired`` out would mean never hearing of expiry). The
key comes from ``POST /fapi/v1/listenKey`` (the API key only, no signature) and is kept alive
with ``PUT`` every ``keepalive_s`` (the venue lets a key lapse after 60 minutes); ``stop``
closes it with ``DELETE``.

:class:`ListenKeyLink` reports the link up once the socket is open, hands every frame's events
on, and reports it down when the socket closes, a frame is garbage, the key expires
(``listenKeyExpired``, or a keep-alive refused with -1125), the stream refuses the key at the
handshake, or the connection reaches ``max_age_s`` (Binance closes at 24 h; we rotate before).
It then reconnects after a :class:`~engine.venues.backoff.Backoff` delay, with a new key when
the old one is gone; the gateway's owner reconciles after every reconnect (user-stream gaps
cannot be seen, §9.5). The first connection's outcome is :attr:`ListenKeyLink.first_answer`: a
refused API key fails start-up with AuthError.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from engine.core.clock import Clock
from engine.errors import AuthError, GatewayError, IpBanned, RateLimited
from engine.venues.backoff import Backoff
from engine.venues.binance.rest import BinanceRest
from engine.venues.binance.stream_link import OnEvents, OnLink, StreamLink
from engine.venues.binance_usdm.answers import listen_key_answer
from engine.venues.binance_usdm.errors import INVALID_LISTEN_KEY
from engine.venues.binance_usdm.rest import UsdmCosts
from engine.venues.binance_usdm.user_stream import AccountUpdate, KeyExpired, UsdmStreamParser

log = logging.getLogger("engine.venues.binance_usdm")

LISTEN_KEY_PATH = "/fapi/v1/listenKey"
EVENTS = ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "listenKeyExpired")
"""The event types asked for."""


class ListenKeyLink(StreamLink):
    """Keeps one user data stream open on a live listen key.

    Args:
        stream_url: the private stream base, e.g. ``wss://fstream.binance.com/private``.
        rest: makes the listen-key calls (its session sends the API key).
        costs: what those calls spend.
        parser: turns frames into events for our markets.
        on_events: gets each ORDER_TRADE_UPDATE's events.
        on_link: gets ``(up, reason)``.
        clock: for the connection's age.
        venue: venue name for logs.
        backoff: reconnect delays.
        keepalive_s: how often the key is extended.
        max_age_s: rotate the connection after this long.
        open_timeout_s: how long the WebSocket handshake may take.
    """

    _log = log
    _again = "reconnect"
    _redoing = "reconnecting"
    _started = "connecting"

    def __init__(
        self,
        stream_url: str,
        rest: BinanceRest,
        costs: UsdmCosts,
        parser: UsdmStreamParser,
        on_events: OnEvents,
        on_link: OnLink,
        clock: Clock,
        *,
        venue: str = "binance-usdm",
        backoff: Backoff | None = None,
        keepalive_s: float = 1800.0,
        max_age_s: float = 23 * 3600.0,
        open_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(venue, parser, on_events, on_link, clock, backoff, max_age_s)
        self.stream_url = stream_url.rstrip("/")
        self._rest = rest
        self._costs = costs
        self.keepalive_s = keepalive_s
        self._open_timeout_s = open_timeout_s
        self._key: str | None = None
        self.keys = 0
        """Listen keys created so far."""
        self.positions: dict[int, int] = {}
        """Net lots per instrument as the last ``ACCOUNT_UPDATE`` named them."""

    def __repr__(self) -> str:  # the listen key is a credential of sorts: never shown
        return f"ListenKeyLink({self.stream_url!r}, up={self.up})"

    def url(self, key: str) -> str:
        """The stream URL for ``key``, with the events allow-list."""
        return f"{self.stream_url}/ws?listenKey={key}&events={'/'.join(EVENTS)}"

    async def _closing(self) -> None:
        """Close the listen key (best effort)."""
        if self._key is not None:
            self._key = None
            with contextlib.suppress(GatewayError, OSError, TimeoutError):
                await asyncio.wait_for(self._call("DELETE"), timeout=2.0)

    def _lost(self, error: Exception) -> str:
        if isinstance(error, InvalidStatus):  # the stream refused the key at the handshake
            self._key = None
            return f"the stream refused the listen key: HTTP {error.response.status_code}"
        return super()._lost(error)

    # ---- one connection --------------------------------------------------------------------------

    async def _connection(self) -> None:
        key = self._key
        if key is None:
            key = self._key = listen_key_answer(await self._call("POST"))
            self.keys += 1
        async with connect(
            self.url(key),
            compression=None,
            max_size=1 << 22,
            open_timeout=self._open_timeout_s,
            close_timeout=1.0,
        ) as ws:
            self._ws = ws
            self.connections += 1
            if self._stopping:
                return
            self._opened("user stream open", keys=self.keys)
            keeper = asyncio.get_running_loop().create_task(self._keep_alive(ws))
            try:
                await self._read(ws, self._clock.monotonic_ns())
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                self._ended()

    async def _call(self, method: str) -> bytes:
        return await self._rest.call(
            method, LISTEN_KEY_PATH, "", self._costs.listen_key, signed=False
        )

    async def _keep_alive(self, ws: ClientConnection) -> None:
        """``PUT`` every ``keepalive_s``; a key the venue no longer knows ends the connection."""
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                listen_key_answer(await self._call("PUT"))
            except GatewayError as exc:
                if exc.code != INVALID_LISTEN_KEY:
                    log.warning(
                        "listen key keep-alive failed; trying again",
                        extra={"venue": self.venue, "error": str(exc)},
                    )
                    continue
                self._key = None
                self._restart_reason = f"the listen key expired (keep-alive refused: {exc.reason})"
                await ws.close(code=1000, reason="listen key expired")
                return

    def _message(self, parsed: object) -> bool:
        if isinstance(parsed, KeyExpired):
            self._key = None
            self._restart_reason = "the listen key expired (listenKeyExpired)"
            return True
        if isinstance(parsed, AccountUpdate):
            self.positions.update(parsed.positions)
        return False

    # ---- refusals --------------------------------------------------------------------------------

    async def _refused(self, error: GatewayError) -> float | None:
        """The listen key was refused; returns how long to wait (None: the usual backoff)."""
        self._down(f"listen key refused: {error}")
        log.warning(
            "listen key refused",
            extra={"venue": self.venue, "code": error.code, "error": error.reason},
        )
        if isinstance(error, AuthError):
            if not self.first_answer.done():
                self.first_answer.set_exception(error)
            return self._backoff.cap_s  # a configuration problem: do not hammer the venue
        if isinstance(error, IpBanned | RateLimited):
            return error.retry_after_s
        return None
