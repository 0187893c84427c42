"""One market-data WebSocket's life, the same for every venue: connect, read, notice, reconnect.

:class:`StreamFeed` owns the connection loop of venues.md §9: DISCONNECTED -> CONNECTING ->
SUBSCRIBING -> SYNCING -> LIVE, reconnects by its :class:`~engine.venues.reconnect.ReconnectPolicy`
(exponential backoff and jitter, at once when the venue asked us to move, never more than the
policy's attempts per minute, an alert through :attr:`StreamFeed.on_alert` after five failures in
a row and when the link holds again), declares the link stale after ``stale_after_s`` without a
frame, reads frames in one loop (no task per message) and hands each to the venue's parser,
counts and logs a frame that does not parse (venue, stream, a short excerpt) and never stops for
one. What differs per venue is left to the subclass: the URL, what to send once open
(subscriptions), a keep-alive the venue wants from us (Bybit's ``{"op":"ping"}``), what each
parsed event does to the books, and which book a malformed frame may have broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from engine.core.clock import Clock, LiveClock
from engine.errors import MalformedMessage
from engine.ipc.protocol import LinkState
from engine.venues.backoff import Backoff
from engine.venues.base import FeedListener, FeedStats
from engine.venues.reconnect import LinkAlert, ReconnectPolicy

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument

log = logging.getLogger("engine.venues")

_NS = 1_000_000_000
_EXCERPT = 120  # characters of a malformed frame kept in its log line


class StreamFeed:
    """The connection loop of one market-data WebSocket; venues fill in the hooks.

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        reconnect: the reconnect policy (its own backoff wins over ``backoff``); by default
            ``backoff`` capped at 12 attempts a minute, alerting after 5 failures in a row.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        venue: str,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 60.0,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.instruments = list(instruments)
        self.books = books
        self.listener = listener
        self.venue = venue
        self.stats = FeedStats()
        self.stale_after_s = stale_after_s
        self._clock = clock or LiveClock()
        self.reconnect = reconnect or ReconnectPolicy(backoff or Backoff())
        """When to connect again; may be replaced before :meth:`run` (the engine's config)."""
        self.on_alert: Callable[[str, bool], None] | None = None
        """Told ``(text, failing)`` when the link keeps failing (True) and when it holds again."""
        self.on_raw: Callable[[int, bytes], None] | None = None
        """Told ``(recv_ts, exact bytes)`` of every frame read, before it is parsed (recorder)."""
        self._opened = False
        self._held = False
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._connected = False
        self._ever_connected = False
        self._reconnect_now = False  # the venue asked us to move: no backoff
        self._last_frame_ns = 0

    # ---- what a venue fills in -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL every connection opens."""
        raise NotImplementedError

    def _warm_up(self) -> None:
        """Load compiled parsers before the first connection (nothing by default)."""

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        """The socket is open: subscribe and start syncing every book."""
        raise NotImplementedError

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        """One frame to an event (None for frames that change nothing).

        Raises:
            MalformedMessage: the frame cannot be read.
        """
        raise NotImplementedError

    def _dispatch(self, event: object) -> bool:
        """Act on one parsed event; True asks for a new connection now (no backoff)."""
        raise NotImplementedError

    def _on_malformed_stream(self, stream: str) -> None:
        """A frame of ``stream`` was lost to a parse error: resync the book it may have broken."""

    async def _keepalive(self, ws: ClientConnection) -> None:
        """What the venue wants from us to keep the link (nothing by default: it pings us)."""

    async def _on_closed(self) -> None:
        """The connection is gone (or the feed stops): cancel per-connection work."""

    def _on_unknown(self) -> None:
        """A frame parsed to nothing: the parser may have counted it as unknown."""

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, sync and stay in sync until cancelled or :meth:`stop` is called."""
        self._warm_up()
        self._stopping = False
        self._stopped.clear()
        await self._start_session()
        try:
            while not self._stopping:
                self.reconnect.attempt(self._clock.monotonic_ns() / _NS)
                healthy_for_s = await self._connection()
                if self._stopping:
                    break
                self._report(self.reconnect.ended(healthy_for_s, opened=self._opened))
                at_once, self._reconnect_now = self._reconnect_now, False
                now_s = self._clock.monotonic_ns() / _NS
                delay = self.reconnect.delay(now_s, healthy_for_s, at_once=at_once)
                self.stats.failures_in_row = self.reconnect.failures_in_row
                self.stats.reconnects_throttled = self.reconnect.throttled
                if delay <= 0:
                    continue
                log.info("reconnecting", extra={"venue": self.venue, "delay_s": round(delay, 3)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), timeout=delay)
        finally:
            await self._teardown()

    async def stop(self) -> None:
        """Close the connection; :meth:`run` returns soon after. Idempotent."""
        self._stopping = True
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        await self._teardown()

    async def _start_session(self) -> None:
        """Open what lives across connections (a REST session); nothing by default."""

    async def _teardown(self) -> None:
        await self._on_closed()
        self._set_link(LinkState.DISCONNECTED)

    # ---- the connection ----------------------------------------------------------------------

    async def _connection(self) -> float:
        """One connection from open to close; returns how long it was up, in seconds."""
        self._set_link(LinkState.CONNECTING)
        started = self._clock.monotonic_ns()
        self._opened = self._held = False
        try:
            async with connect(
                self.url,
                compression=None,
                max_queue=1024,
                max_size=1 << 24,
                open_timeout=10.0,
                close_timeout=1.0,
            ) as ws:
                self._ws = ws
                if self._stopping:
                    return 0.0
                started = self._last_frame_ns = self._clock.monotonic_ns()
                self._opened = True
                if self._ever_connected:
                    self.stats.reconnects += 1
                self._set_link(LinkState.SUBSCRIBING)
                self._connected = True
                await self._on_open(ws, reconnect=self._ever_connected)
                self._ever_connected = True
                helpers = [
                    asyncio.create_task(self._watch(ws), name=f"{self.venue}-liveness"),
                    asyncio.create_task(self._keepalive(ws), name=f"{self.venue}-keepalive"),
                ]
                try:
                    await self._read(ws)
                finally:
                    for task in helpers:
                        task.cancel()
                    await asyncio.gather(*helpers, return_exceptions=True)
        except (OSError, TimeoutError, WebSocketException) as exc:
            if not self._stopping:
                log.warning(
                    "venue connection lost",
                    extra={"venue": self.venue, "error": repr(exc)},
                )
        finally:
            self._ws = None
            self._connected = False
            await self._on_closed()
            self._mark_stale()
            self._set_link(LinkState.DISCONNECTED)
        return (self._clock.monotonic_ns() - started) / _NS

    async def _read(self, ws: ClientConnection) -> None:
        """Read and apply frames until the socket closes or the venue asks us to reconnect."""
        clock = self._clock
        stats = self.stats
        parse = self._parse
        dispatch = self._dispatch
        while True:
            raw = await ws.recv(decode=False)
            recv_ts = clock.time_ns()
            self._last_frame_ns = clock.monotonic_ns()
            stats.frames += 1
            if self.on_raw is not None:
                self.on_raw(recv_ts, raw)
            try:
                event = parse(raw, recv_ts)
            except MalformedMessage as exc:
                self._on_malformed(exc)
                continue
            except Exception as exc:  # a parser bug must not take the engine down
                log.exception("frame parser failed", extra={"venue": self.venue})
                self._on_malformed(MalformedMessage(self.venue, "unknown", repr(exc), raw))
                continue
            if event is None:
                self._on_unknown()
            elif dispatch(event):
                self._reconnect_now = True
                return

    async def _watch(self, ws: ClientConnection) -> None:
        """Close a link that has been silent for ``stale_after_s`` (venues.md §9.3)."""
        limit_ns = int(self.stale_after_s * _NS)
        opened_ns = self._clock.monotonic_ns()
        healthy_ns = int(self.reconnect.healthy_after_s * _NS)
        while True:
            await asyncio.sleep(min(1.0, self.stale_after_s / 4, self.reconnect.healthy_after_s))
            now_ns = self._clock.monotonic_ns()
            if not self._held and now_ns - opened_ns >= healthy_ns:
                self._held = True
                self._report(self.reconnect.held())
                self.stats.failures_in_row = 0
            idle_ns = now_ns - self._last_frame_ns
            if idle_ns >= limit_ns:
                log.warning(
                    "venue link stale; reconnecting",
                    extra={"venue": self.venue, "idle_s": round(idle_ns / _NS, 1)},
                )
                await ws.close()
                return

    # ---- shared reporting ------------------------------------------------------------------------

    def _report(self, alert: LinkAlert) -> None:
        """Log and pass on what the reconnect policy says about the link."""
        if alert is LinkAlert.NONE:
            return
        failing = alert is LinkAlert.FAILING
        if failing:
            text = (
                f"{self.venue} market data: {self.reconnect.failures_in_row} connection"
                " failures in a row; still retrying"
            )
            log.error(
                "link failing",
                extra={"venue": self.venue, "failures": self.reconnect.failures_in_row},
            )
        else:
            text = f"{self.venue} market data: connection holds again"
            log.info("link recovered", extra={"venue": self.venue})
        if self.on_alert is not None:
            self.on_alert(text, failing)

    def _on_malformed(self, error: MalformedMessage) -> None:
        """Count and log a frame that did not parse, tell the engine, resync what it broke."""
        self.stats.malformed += 1
        raw = error.raw if isinstance(error.raw, str) else error.raw.decode("utf-8", "replace")
        log.warning(
            "malformed frame",
            extra={
                "venue": self.venue,
                "stream": error.stream,
                "error": str(error),
                "frame": raw[:_EXCERPT],
            },
        )
        self.listener.on_malformed(error.stream, error)
        self._on_malformed_stream(error.stream)

    def _where(self, instrument: int) -> dict[str, Any]:
        symbol = next(i.symbol for i in self.instruments if i.instrument_id == instrument)
        return {"venue": self.venue, "symbol": symbol}

    def _set_link(self, state: LinkState) -> None:
        if state is self.stats.link:
            return
        self.stats.link = state
        log.info("link", extra={"venue": self.venue, "state": state.name.lower()})
        self.listener.on_link(state)

    def _book_live(self, instrument: int) -> bool:
        """Whether ``instrument``'s book is live now (subclasses know their sync units)."""
        raise NotImplementedError

    def _mark_stale(self) -> None:
        """The socket dropped: every live book may be missing updates from now on."""
        for inst in self.instruments:
            if self._book_live(inst.instrument_id):
                self.listener.on_book_state(inst.instrument_id, "stale", None)

    def _went_live(self, instrument: int, exch_ts: int, recv_ts: int) -> None:
        self.listener.on_book_state(instrument, "live", None)
        self.listener.on_book(instrument, self.books[instrument], exch_ts, recv_ts)
        if all(self._book_live(i.instrument_id) for i in self.instruments):
            self._set_link(LinkState.LIVE)
