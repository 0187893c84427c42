"""What the per-book stream feeds share over the connection loop: syncing, resyncs, pings.

:class:`BookFeed` is the part of the OKX, Kraken, Coinbase, Hyperliquid and Bybit feeds that is
the same logic in each, over :class:`~engine.venues.stream_feed.StreamFeed`'s connection loop:

- every book goes *syncing* when a socket opens (with ``reconnect`` as its reason after the
  first), and :meth:`BookFeed._book_resyncing` throws one book away (counted, the engine told, the
  link back to *syncing*);
- :meth:`BookFeed._resync` resubscribes one book's channel on the open socket after the
  :class:`~engine.venues.resubscribe.ResubscribePacer`'s delay (none without a pacer), the frames
  being the venue's (:meth:`BookFeed._resubscribe_frames`); the per-connection tasks are
  cancelled when the socket goes;
- a frame's trades go to the listener and its book messages to the venue's
  :meth:`BookFeed._on_book`, in order;
- an update applied to a live book is passed on as a delta and a book change, a snapshot makes
  its book live (or replaces a live one);
- a gap, a checksum mismatch or a crossed book is logged on the venue's logger and resynced;
- keep-alive pings either after a quiet spell or at a fixed interval, counted in ``pings``.

What stays in each venue's module is its own rules: the subscription frames, which sync unit
holds a book, what its sequence and checksum checks are and which outcome means what.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Generic, ParamSpec, TypeVar

from websockets.exceptions import WebSocketException

from engine.core.events import Trade
from engine.errors import ChecksumMismatch, CrossedBook, MalformedMessage, SequenceGap
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.book_sync import ResyncCause
from engine.venues.stream_feed import StreamFeed

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.events import BookDelta
    from engine.core.instruments import Instrument
    from engine.errors import SnapshotError
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener
    from engine.venues.resubscribe import ResubscribePacer

_NS = 1_000_000_000

BookMessage = TypeVar("BookMessage")
"""What the venue's parser hands out for one book (``OkxBook``, ``KrakenBook``, ...)."""
Snapshot = TypeVar("Snapshot")
ParseArgs = ParamSpec("ParseArgs")


class BookFeed(StreamFeed, Generic[BookMessage]):
    """A stream feed whose books each resync on their own by resubscribing their channel.

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        url: the stream every connection opens (a venue that builds it overrides :attr:`url`).
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        pacer: delays between resubscriptions of a book that keeps failing; None resubscribes
            at once.
    """

    log: ClassVar[logging.Logger] = logging.getLogger("engine.venues")
    """The venue's logger (each venue module sets its own)."""
    book_channel: ClassVar[str] = ""
    """The channel of book frames whose streams read ``<channel>:<symbol>`` (OKX, Kraken)."""

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        url: str = "",
        venue: str,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 60.0,
        pacer: ResubscribePacer | None = None,
    ) -> None:
        super().__init__(
            instruments,
            books,
            listener,
            venue=venue,
            clock=clock,
            backoff=backoff,
            stale_after_s=stale_after_s,
        )
        self._url = url
        self._ids = {inst.symbol: inst.instrument_id for inst in self.instruments}
        self._symbols = {inst.instrument_id: inst.symbol for inst in self.instruments}
        self._tasks: set[asyncio.Task[None]] = set()
        self.pacer = pacer
        """Delays between resubscriptions of a book that keeps failing (None: at once)."""
        self.pings = 0
        """Keep-alive pings sent."""
        self.checksum_mismatches = 0
        """Books thrown away because the venue's checksum disagreed (venues that send one)."""

    @property
    def url(self) -> str:
        """The stream every connection opens."""
        return self._url

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data, by kind, as the venue's parser counts them."""
        raise NotImplementedError

    # ---- what a venue fills in ---------------------------------------------------------------

    def _on_book(self, msg: BookMessage) -> None:
        """One parsed book message of the venue's (its sync unit applies it)."""
        raise NotImplementedError

    def _book_topics(self, instrument: int) -> list[str]:
        """What to resubscribe for one book (its symbol by default)."""
        return [self._symbols[instrument]]

    def _resubscribe_frames(self, topics: list[str]) -> list[str]:
        """The frames that resubscribe ``topics`` (unsubscribe, then subscribe), in order."""
        raise NotImplementedError

    def _lose_book(self, instrument: int) -> bool:
        """Throw away a book one of whose frames was lost; False when it waits for one anyway."""
        return False

    # ---- frames ------------------------------------------------------------------------------

    def _dispatch(self, event: object) -> bool:
        """A frame the parser read as a list of trades and book messages, in order."""
        assert isinstance(event, list)
        for item in event:
            if type(item) is Trade:
                self.listener.on_trade(item)
            else:
                self._on_book(item)
        return False

    def _on_unknown(self) -> None:
        self.stats.unknown = sum(self.ignored.values())

    def _on_malformed_stream(self, stream: str) -> None:
        """A lost frame of ``<book_channel>:<symbol>``: that book resyncs now."""
        channel, _, symbol = stream.partition(":")
        iid = self._ids.get(symbol)
        if channel != self.book_channel or iid is None:
            return  # a lost trade, or a frame we cannot place: the book's checks find the loss
        if self._lose_book(iid):
            self._resync(iid, ResyncReason.MALFORMED)

    # ---- books syncing -----------------------------------------------------------------------

    def _books_syncing(self, *, reconnect: bool) -> None:
        """A socket opened: every book is syncing, for ``reconnect`` after the first socket."""
        for inst in self.instruments:
            if reconnect:
                self.stats.resyncs += 1
            self.listener.on_book_state(
                inst.instrument_id, "syncing", ResyncReason.RECONNECT if reconnect else None
            )

    def _book_resyncing(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: count it, tell the engine, the link is syncing again."""
        self.stats.resyncs += 1
        self.listener.on_book_state(instrument, "syncing", reason)
        if self.stats.link is LinkState.LIVE:
            self._set_link(LinkState.SYNCING)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: tell the engine and resubscribe its channel."""
        self._book_resyncing(instrument, reason)
        self._resubscribe_later(self._symbols[instrument], self._book_topics(instrument))

    def _resubscribe_later(self, key: str, topics: list[str]) -> bool:
        """Resubscribe ``topics`` on the open socket after the pacer's delay for ``key``.

        Returns:
            False when no socket is open (the next connection subscribes afresh).
        """
        ws = self._ws
        if ws is None:
            return False
        delay = 0.0 if self.pacer is None else self.pacer.delay(key, self._now_s())
        self._spawn(self._resubscribe(ws, topics, delay), f"{self.venue}-resubscribe-{key}")
        return True

    async def _resubscribe(self, ws: ClientConnection, topics: list[str], delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        with contextlib.suppress(WebSocketException, OSError):  # gone: the reconnect resyncs
            for frame in self._resubscribe_frames(topics):
                await ws.send(frame)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` for this connection only: :meth:`_on_closed` cancels it."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_closed(self) -> None:
        tasks = list(self._tasks)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- what a book's update did ------------------------------------------------------------

    def _delta_applied(self, instrument: int, delta: BookDelta) -> None:
        """An update was applied to a live book: pass it on, and the book."""
        self.listener.on_book_delta(delta)
        self.listener.on_book(instrument, self.books[instrument], delta.exch_ts, delta.recv_ts)

    def _snapshot_applied(
        self, instrument: int, exch_ts: int, recv_ts: int, *, was_live: bool
    ) -> None:
        """A snapshot rebuilt a book: it goes live (its pacing starts over) or stays live."""
        if was_live:
            self.listener.on_book(instrument, self.books[instrument], exch_ts, recv_ts)
            return
        if self.pacer is not None:
            self.pacer.went_live(self._symbols[instrument], self._now_s())
        self._went_live(instrument, exch_ts, recv_ts)

    def _on_gap(
        self, instrument: int, exc: SequenceGap, message: str = "sequence gap; resubscribing"
    ) -> None:
        self.stats.gaps += 1
        self.log.warning(
            message,
            extra={**self._where(instrument), "expected": exc.expected, "received": exc.received},
        )
        self._resync(instrument, ResyncReason.GAP)

    def _on_checksum(self, instrument: int, exc: ChecksumMismatch) -> None:
        self.checksum_mismatches += 1
        self.log.warning(
            "checksum mismatch; resubscribing",
            extra={**self._where(instrument), "venue_sent": exc.expected, "book": exc.computed},
        )
        self._resync(instrument, ResyncCause.CHECKSUM.ipc_reason())

    def _on_crossed(
        self, instrument: int, exc: CrossedBook, message: str = "crossed book; resubscribing"
    ) -> None:
        self.log.warning(message, extra={**self._where(instrument), "error": str(exc)})
        self._resync(instrument, ResyncReason.CROSSED)

    # ---- REST snapshots ----------------------------------------------------------------------

    def _snapshot_read(
        self,
        parse: Callable[ParseArgs, Snapshot],
        *args: ParseArgs.args,
        **kwargs: ParseArgs.kwargs,
    ) -> Snapshot | None:
        """A REST snapshot parsed and counted; None when it did not parse (reported malformed)."""
        try:
            snapshot = parse(*args, **kwargs)
        except MalformedMessage as exc:
            self._on_malformed(exc)
            return None
        self.stats.snapshots += 1
        return snapshot

    def _snapshot_too_old(self, instrument: int, exc: SnapshotError) -> None:
        self.log.info(
            "snapshot too old; fetching another",
            extra={**self._where(instrument), "error": str(exc)},
        )

    # ---- keep-alive --------------------------------------------------------------------------

    async def _ping_when_quiet(
        self, ws: ClientConnection, after_s: float, frame: Callable[[], str]
    ) -> None:
        """Send ``frame()`` once whenever nothing arrived for ``after_s``."""
        limit_ns = int(after_s * _NS)
        while True:
            await asyncio.sleep(min(1.0, after_s / 4))
            if self._clock.monotonic_ns() - self._last_frame_ns >= limit_ns:
                await ws.send(frame())
                self.pings += 1
                self._last_frame_ns = self._clock.monotonic_ns()  # one ping per quiet spell

    async def _ping_every(
        self, ws: ClientConnection, every_s: float, frame: Callable[[], str]
    ) -> None:
        """Send ``frame()`` every ``every_s``, whatever arrives."""
        while True:
            await asyncio.sleep(every_s)
            await ws.send(frame())
            self.pings += 1

    def _now_s(self) -> float:
        return self._clock.monotonic_ns() / _NS
