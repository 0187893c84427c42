"""Coinbase Advanced Trade public market data over one socket: ``level2``, trades and heartbeats.

:class:`CoinbaseFeed` fills in the shared connection loop
(:class:`~engine.venues.stream_feed.StreamFeed`, books syncing and paced resubscriptions by
:class:`~engine.venues.book_feed.BookFeed`) with the Coinbase way (venues.md §5.1):

- once open it subscribes ``level2``, ``market_trades`` and ``heartbeats`` for every product,
  one channel a message (the venue's rule), within the 5 s the venue allows;
- every frame, of any channel, goes through the connection's
  :class:`~engine.venues.coinbase.sync.CoinbaseConnectionSync`: ``sequence_num`` must rise by 1.
  A jump (lost or reordered frames, or a frame that did not parse, whose number is then
  missing) throws every book of the connection away and **resubscribes** ``level2`` for all
  products on the same socket: each product gets a new full snapshot, and the link is not
  dropped (the venue allows 8 connections a second; a flapping resync must not use them).
  A crossed book resubscribes only its product. Resubscriptions are paced
  (:class:`~engine.venues.resubscribe.ResubscribePacer`) so books that keep failing do not
  spend the venue's 8 messages a second;
- ``heartbeats`` arrive once a second, so a link silent for ``stale_after_s`` is dead and is
  reconnected (Coinbase documents no application ping).

The deltas passed on carry the envelope's ``sequence_num`` as their id; ``exch_ts`` is the
venue's ``event_time``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

from engine.core.events import BookDelta, Trade
from engine.errors import CrossedBook, SequenceGap
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.book_feed import BookFeed
from engine.venues.book_sync import BookPhase
from engine.venues.coinbase.protocol import CoinbaseBook, CoinbaseFrame, CoinbaseParser
from engine.venues.coinbase.sync import CoinbaseBookSync, CoinbaseConnectionSync, CoinbaseOutcome
from engine.venues.resubscribe import ResubscribePacer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.coinbase")

PUBLIC_WS = "wss://advanced-trade-ws.coinbase.com"
"""Coinbase Advanced Trade's market-data stream."""
CHANNELS = ("level2", "market_trades", "heartbeats")


class CoinbaseFeed(BookFeed[CoinbaseBook]):
    """Keeps ``books`` in sync with the Coinbase Advanced Trade market-data stream.

    Args:
        instruments: what to subscribe to, ``symbol`` the ``product_id`` (``BTC-USD``).
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the stream, e.g. ``wss://advanced-trade-ws.coinbase.com``.
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long (heartbeats come every second) is
            declared stale and reconnected.
    """

    log = log

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str = PUBLIC_WS,
        venue: str = "coinbase",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 10.0,
    ) -> None:
        super().__init__(
            instruments,
            books,
            listener,
            url=ws_url,
            venue=venue,
            clock=clock,
            backoff=backoff,
            stale_after_s=stale_after_s,
            pacer=ResubscribePacer(),
        )
        self._parser = CoinbaseParser(self.instruments)
        self._books = {
            inst.symbol: CoinbaseBookSync(inst, books[inst.instrument_id], venue=venue)
            for inst in self.instruments
        }
        self._conn = CoinbaseConnectionSync(self._books, venue=venue)

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data, by channel (``subscriptions``, ``heartbeats``, ...)."""
        return self._parser.ignored

    @property
    def connection(self) -> CoinbaseConnectionSync:
        """The connection's ``sequence_num`` check (its last number and gap count)."""
        return self._conn

    def sync_of(self, instrument: int) -> CoinbaseBookSync:
        """The sync unit of one product."""
        return self._books[self._symbols[instrument]]

    # ---- the connection's hooks ----------------------------------------------------------------

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        self._conn.reset()
        self._books_syncing(reconnect=reconnect)
        products = [i.symbol for i in self.instruments]
        for channel in CHANNELS:
            await ws.send(_request("subscribe", channel, products))
        self._set_link(LinkState.SYNCING)

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        return self._parser.parse(raw, recv_ts)

    def _dispatch(self, event: object) -> bool:
        assert isinstance(event, CoinbaseFrame)
        items = event.items
        numbering = event
        if any(type(item) is CoinbaseBook for item in items):
            numbering = CoinbaseFrame(
                channel=event.channel, sequence_num=event.sequence_num, items=[]
            )
        try:
            self._conn.on_frame(numbering)  # the number only: books are applied below
        except SequenceGap as exc:
            self.stats.gaps += 1
            log.warning(
                "sequence gap; resubscribing every book",
                extra={"venue": self.venue, "expected": exc.expected, "received": exc.received},
            )
            self._resync_all(ResyncReason.GAP)
            return False
        if not items:
            self.stats.unknown = sum(self._parser.ignored.values())
        for item in items:
            if type(item) is CoinbaseBook:
                self._on_book(item)
            elif type(item) is Trade:
                self.listener.on_trade(item)
        return False

    def _book_live(self, instrument: int) -> bool:
        return self.sync_of(instrument).phase is BookPhase.LIVE

    # ---- books -------------------------------------------------------------------------------

    def _on_book(self, msg: CoinbaseBook) -> None:
        sync = self._books[msg.symbol]
        iid = sync.instrument.instrument_id
        was_live = sync.phase is BookPhase.LIVE
        try:
            outcome = sync.on_book(msg)
        except CrossedBook as exc:
            self._on_crossed(iid, exc)
            return
        event = msg.event
        if outcome is CoinbaseOutcome.APPLIED and isinstance(event, BookDelta):
            self._delta_applied(iid, event)
        elif outcome is CoinbaseOutcome.SNAPSHOT:
            if not was_live and self.pacer is not None:
                self.pacer.went_live("", self._now_s())  # the every-book resubscription too
            self._snapshot_applied(iid, event.exch_ts, event.recv_ts, was_live=was_live)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: resubscribe its ``level2`` (one product: the only unit)."""
        self._book_resyncing(instrument, reason)
        symbol = self._symbols[instrument]
        self._resubscribe_later("" if len(self._books) == 1 else symbol, [symbol])

    def _resync_all(self, reason: ResyncReason) -> None:
        """The connection's numbering broke: every book resubscribes its ``level2`` at once."""
        for iid in self._symbols:
            self._book_resyncing(iid, reason)
        self._resubscribe_later("", list(self._books))

    def _resubscribe_frames(self, topics: list[str]) -> list[str]:
        return [_request("unsubscribe", "level2", topics), _request("subscribe", "level2", topics)]


def _request(kind: str, channel: str, products: list[str]) -> str:
    return json.dumps({"type": kind, "product_ids": products, "channel": channel})
