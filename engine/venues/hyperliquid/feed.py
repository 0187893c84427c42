"""Hyperliquid public market data over one socket: ``l2Book`` (full snapshots) and ``trades``.

:class:`HyperliquidFeed` fills in the shared connection loop
(:class:`~engine.venues.stream_feed.StreamFeed`, books syncing and pings by
:class:`~engine.venues.book_feed.BookFeed`) with the Hyperliquid way (venues.md §7.1):

- once open it subscribes ``l2Book`` and ``trades`` for every coin, one subscription a message
  (the venue takes one coin each);
- every ``l2Book`` message is the whole book (20 levels a side): it replaces the coin's book
  through :class:`~engine.venues.hyperliquid.sync.HyperliquidBookSync`. There is no sequence
  and no checksum, so nothing to resubscribe: an older book than the one held (reordered
  frames) is skipped and counted, a crossed one throws the book away until the next message,
  which rebuilds it;
- the venue wants activity within about 60 s: ``{"method":"ping"}`` goes out every
  ``ping_every_s`` (the official SDK: 50 s) and the ``pong`` is counted as ignored.

Books change only by whole snapshots, but the engine's paper matching and recorder take
deltas: each replacement is passed on as the :class:`~engine.core.events.BookDelta` between the
two books (changed levels, 0 for levels gone), its ids the venue ``time`` in ms.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from engine.core.events import BookDelta, Int64Array
from engine.errors import CrossedBook
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.book_feed import BookFeed
from engine.venues.book_sync import BookPhase, ResyncCause
from engine.venues.hyperliquid.protocol import HyperliquidBook, HyperliquidParser
from engine.venues.hyperliquid.sync import HyperliquidBookSync, HyperliquidOutcome

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import Level, OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.hyperliquid")

PUBLIC_WS = "wss://api.hyperliquid.xyz/ws"
"""Hyperliquid mainnet's WebSocket."""


class HyperliquidFeed(BookFeed[HyperliquidBook]):
    """Keeps ``books`` equal to Hyperliquid's ``l2Book`` snapshots.

    Args:
        instruments: what to subscribe to, ``symbol`` the coin (``BTC``).
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the stream, e.g. ``wss://api.hyperliquid.xyz/ws``.
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        ping_every_s: how often a ping goes out.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str = PUBLIC_WS,
        venue: str = "hyperliquid",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 30.0,
        ping_every_s: float = 50.0,
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
        )
        self.ping_every_s = ping_every_s
        self._parser = HyperliquidParser(self.instruments)
        self._syncs = {
            inst.symbol: HyperliquidBookSync(inst, books[inst.instrument_id])
            for inst in self.instruments
        }
        self.stale_books = 0
        """``l2Book`` messages older than the book held (reordered), skipped."""
        self.crossed_books = 0
        """``l2Book`` messages that were crossed, thrown away."""
        self.refused = 0
        """Requests the venue answered on its ``error`` channel (an unknown coin)."""

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data (banner, acks, pongs, other channels)."""
        return self._parser.ignored

    def sync_of(self, instrument: int) -> HyperliquidBookSync:
        """The book keeping of one coin."""
        return self._syncs[self._symbols[instrument]]

    # ---- the connection's hooks ----------------------------------------------------------------

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        for sync in self._syncs.values():
            sync.reset(ResyncCause.RECONNECT)
        self._books_syncing(reconnect=reconnect)
        for inst in self.instruments:
            for kind in ("l2Book", "trades"):
                sub = {"type": kind, "coin": inst.symbol}
                await ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        self._set_link(LinkState.SYNCING)

    async def _keepalive(self, ws: ClientConnection) -> None:
        await self._ping_every(ws, self.ping_every_s, lambda: '{"method":"ping"}')

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        errors = self._parser.ignored["error"]
        items = self._parser.parse(raw, recv_ts)
        if not items and self._parser.ignored["error"] != errors:
            self.refused += 1
            log.warning(
                "request refused by the venue",
                extra={"venue": self.venue, "frame": raw[:200].decode("utf-8", "replace")},
            )
        return items or None

    def _book_live(self, instrument: int) -> bool:
        return self.sync_of(instrument).phase is BookPhase.LIVE

    def _on_malformed_stream(self, stream: str) -> None:
        """A lost book message changes nothing: the next one replaces the book anyway."""

    # ---- books -------------------------------------------------------------------------------

    def _on_book(self, msg: HyperliquidBook) -> None:
        sync = self._syncs[msg.symbol]
        iid = sync.instrument.instrument_id
        was_live = sync.phase is BookPhase.LIVE
        before = sync.book.levels() if was_live else None
        previous_ms = sync.time_ms
        try:
            outcome = sync.on_book(msg)
        except CrossedBook as exc:
            self.crossed_books += 1
            log.warning(
                "crossed book; waiting for the next", extra={**self._where(iid), "error": str(exc)}
            )
            self._book_resyncing(iid, ResyncReason.CROSSED)  # the next message rebuilds it
            return
        snap = msg.event
        if outcome is HyperliquidOutcome.STALE:
            self.stale_books += 1
            return
        if before is None:
            self._went_live(iid, snap.exch_ts, snap.recv_ts)
            return
        after = sync.book.levels()
        bid_px, bid_sz = _side_changes(before[0], after[0])
        ask_px, ask_sz = _side_changes(before[1], after[1])
        delta = BookDelta(
            instrument=iid,
            first_id=snap.update_id,
            last_id=snap.update_id,
            prev_id=previous_ms,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            exch_ts=snap.exch_ts,
            recv_ts=snap.recv_ts,
        )
        self._delta_applied(iid, delta)


def _side_changes(old: list[Level], new: list[Level]) -> tuple[Int64Array, Int64Array]:
    """Levels of ``new`` whose size differs from ``old``, and 0 for prices gone."""
    was = dict(old)
    now = dict(new)
    prices = [p for p, s in new if was.get(p) != s] + [p for p in was if p not in now]
    px = np.array(prices, dtype=np.int64)
    sz = np.array([now.get(p, 0) for p in prices], dtype=np.int64)
    return px, sz
