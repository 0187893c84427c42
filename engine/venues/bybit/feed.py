"""The Bybit v5 public market-data feed: ``orderbook.{depth}`` and ``publicTrade`` on one socket.

The shared connection loop (:class:`~engine.venues.stream_feed.StreamFeed`, books syncing and
resubscriptions by :class:`~engine.venues.book_feed.BookFeed`) with Bybit's parts:
once open, the feed subscribes from its own topic registry (at most 10 args a request, Bybit
spot's limit, used for every category), sends the venue's ``{"op":"ping"}`` heartbeat every
``ping_interval_s`` (Bybit cuts a silent client; every frame, pongs included, keeps the link
fresh), and keeps each book by :class:`~engine.venues.bybit.sync.BybitBookSync`. A gap in ``u``,
a crossed book or a malformed book frame throws that book away and resubscribes its topic
(unsubscribe, subscribe: the venue answers with a fresh snapshot), without reconnecting; the
socket dropping resyncs every book. Refused subscriptions are logged with the venue's message.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING

import msgspec

from engine.core.events import BookDelta, BookSnapshot
from engine.errors import CrossedBook, SequenceGap
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.binance.protocol import warm_up
from engine.venues.binance.sync import DeltaOutcome, SyncPhase
from engine.venues.book_feed import BookFeed
from engine.venues.bybit.protocol import (
    BybitPublicParser,
    OpAnswer,
    book_topic,
    ping_frame,
    trade_topic,
)
from engine.venues.bybit.sync import BybitBookSync

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.bybit")

ARGS_PER_REQUEST = 10
"""Topics in one subscribe request (Bybit spot's limit)."""
PUBLIC_PATH = "/v5/public/"
_encode = msgspec.json.Encoder().encode


class BybitPublicFeed(BookFeed[BookDelta | BookSnapshot]):
    """Keeps ``books`` in sync with one Bybit v5 public socket (or the local venue's).

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the WebSocket host, e.g. ``wss://stream.bybit.com``; ``/v5/public/<category>``
            is added unless the URL already ends with it.
        category: ``linear`` or ``spot`` (``inverse`` too).
        depth: the ``orderbook.{depth}`` level (1, 50, 200, 1000; older captures 500).
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame (pongs included) this long is reconnected.
        ping_interval_s: seconds between our ``ping`` heartbeats.
    """

    log = log

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str,
        category: str = "linear",
        depth: int = 50,
        venue: str = "bybit-linear",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 30.0,
        ping_interval_s: float = 20.0,
    ) -> None:
        base = ws_url.rstrip("/")
        path = f"{PUBLIC_PATH}{category}"
        super().__init__(
            instruments,
            books,
            listener,
            url=base if base.endswith(path) else base + path,
            venue=venue,
            clock=clock,
            backoff=backoff,
            stale_after_s=stale_after_s,
        )
        self.category = category
        self.ping_interval_s = ping_interval_s
        self._parser = BybitPublicParser(self.instruments, venue)
        self._syncs = {
            i.instrument_id: BybitBookSync(i, books[i.instrument_id], venue=venue)
            for i in self.instruments
        }
        self._book_topic = {i.instrument_id: book_topic(depth, i.symbol) for i in self.instruments}
        self._instrument_of = {topic: iid for iid, topic in self._book_topic.items()}
        #: the subscription registry: every (re)connect subscribes to exactly these
        self.topics = [
            topic
            for i in self.instruments
            for topic in (self._book_topic[i.instrument_id], trade_topic(i.symbol))
        ]
        self._req_ids = itertools.count(1)

    def sync_of(self, instrument: int) -> BybitBookSync:
        """The sync unit of one instrument."""
        return self._syncs[instrument]

    # ---- the connection's hooks ----------------------------------------------------------------

    def _warm_up(self) -> None:
        warm_up()  # the compiled level reader

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        for sync in self._syncs.values():
            sync.reset()
        self._books_syncing(reconnect=reconnect)
        self._set_link(LinkState.SYNCING)
        for start in range(0, len(self.topics), ARGS_PER_REQUEST):
            await ws.send(self._op("subscribe", self.topics[start : start + ARGS_PER_REQUEST]))

    async def _keepalive(self, ws: ClientConnection) -> None:
        await self._ping_every(
            ws, self.ping_interval_s, lambda: ping_frame(str(next(self._req_ids)))
        )

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        return self._parser.parse_frame(raw, recv_ts)

    def _on_unknown(self) -> None:
        self.stats.unknown = self._parser.unknown

    def _book_live(self, instrument: int) -> bool:
        return self._syncs[instrument].phase is SyncPhase.LIVE

    def _dispatch(self, event: object) -> bool:
        if type(event) is BookDelta:
            self._on_delta(event)
        elif type(event) is BookSnapshot:
            self._on_snapshot(event)
        elif type(event) is list:
            for trade in event:
                self.listener.on_trade(trade)
        elif type(event) is OpAnswer and not event.success:
            log.warning(
                "venue refused a request",
                extra={"venue": self.venue, "op": event.op, "error": event.ret_msg},
            )
        return False

    def _on_malformed_stream(self, stream: str) -> None:
        iid = self._instrument_of.get(stream)
        if iid is None or self._syncs[iid].phase is not SyncPhase.LIVE:
            return  # a trade or another topic, or a book already waiting for its snapshot
        self._syncs[iid].reset()  # the lost delta may have changed the book
        self._resync(iid, ResyncReason.MALFORMED)

    # ---- books -------------------------------------------------------------------------------

    def _on_snapshot(self, snapshot: BookSnapshot) -> None:
        iid = snapshot.instrument
        try:
            went_live = self._syncs[iid].on_snapshot(snapshot)
        except CrossedBook as exc:
            self._on_crossed(iid, exc, "crossed snapshot; resyncing")
            return
        self.stats.snapshots += 1
        if went_live:
            self._went_live(iid, snapshot.exch_ts, snapshot.recv_ts)
        else:  # a snapshot mid-stream replaced the live book
            self.listener.on_book(iid, self.books[iid], snapshot.exch_ts, snapshot.recv_ts)

    def _on_delta(self, delta: BookDelta) -> None:
        iid = delta.instrument
        sync = self._syncs[iid]
        try:
            outcome = sync.on_delta(delta)
        except SequenceGap as exc:
            self._on_gap(iid, exc)
            return
        except CrossedBook as exc:
            self._on_crossed(iid, exc)
            return
        if outcome is DeltaOutcome.APPLIED:
            self._delta_applied(iid, delta)
        elif outcome is DeltaOutcome.WENT_LIVE:
            self._went_live(iid, delta.exch_ts, delta.recv_ts)

    def _book_topics(self, instrument: int) -> list[str]:
        return [self._book_topic[instrument]]

    def _resubscribe_frames(self, topics: list[str]) -> list[str]:
        """Unsubscribe, then subscribe: the venue answers with a fresh snapshot."""
        return [self._op("unsubscribe", topics), self._op("subscribe", topics)]

    def _op(self, op: str, args: list[str]) -> str:
        return _encode({"req_id": str(next(self._req_ids)), "op": op, "args": args}).decode()
