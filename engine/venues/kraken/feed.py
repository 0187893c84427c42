"""Kraken spot WebSocket v2 public market data over one socket: ``book`` and ``trade``.

:class:`KrakenFeed` fills in the shared connection loop
(:class:`~engine.venues.stream_feed.StreamFeed`, books syncing and paced resubscriptions by
:class:`~engine.venues.book_feed.BookFeed`) with the Kraken way (venues.md §4):

- once open it subscribes ``book`` (at ``depth``, with a snapshot) and ``trade`` for every pair
  in one request each;
- each ``book`` message goes through the pair's :class:`~engine.venues.kraken.sync.KrakenBookSync`
  (apply, truncate to the depth, verify the CRC32 checksum every message carries, uncrossed).
  A checksum mismatch (Kraken has no sequence numbers: a lost update shows as one), a crossed
  book or a lost (malformed) book frame throws only that book away and **resubscribes** its
  ``book`` channel (unsubscribe, then subscribe) for a new snapshot, paced by a
  :class:`~engine.venues.resubscribe.ResubscribePacer` so a pair that keeps failing is not
  resubscribed at the frame rate; the other pairs go on;
- the venue sends ``heartbeat`` about once a second when quiet, so a link silent for
  ``stale_after_s`` is dead; after ``ping_after_s`` without a frame the feed sends
  ``{"method":"ping","req_id":n}`` (the ``pong`` is counted as ignored).

Kraken sends no sequence numbers, so the deltas passed on carry the book's own message count
(``first_id == last_id``, ``prev_id`` one less), counted from the snapshot that rebuilt it.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

import msgspec

from engine.core.events import BookDelta
from engine.errors import ChecksumMismatch, CrossedBook
from engine.ipc.protocol import LinkState
from engine.venues.book_feed import BookFeed
from engine.venues.book_sync import BookPhase, ResyncCause, lose_book
from engine.venues.kraken.protocol import KrakenBook, KrakenParser
from engine.venues.kraken.sync import KrakenBookSync, KrakenOutcome
from engine.venues.resubscribe import ResubscribePacer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.kraken")

PUBLIC_WS = "wss://ws.kraken.com/v2"
"""Kraken's public v2 stream."""


class _Answer(msgspec.Struct, frozen=True):
    success: bool = True


_ANSWER = msgspec.json.Decoder(_Answer)


def _refused(raw: bytes) -> bool:
    """Whether a control frame is an answer with ``"success": false``."""
    try:
        return not _ANSWER.decode(raw).success
    except msgspec.DecodeError:
        return False


class KrakenFeed(BookFeed[KrakenBook]):
    """Keeps ``books`` in sync with the Kraken v2 public stream.

    Args:
        instruments: what to subscribe to, ``symbol`` the v2 pair (``BTC/USD``); tick and lot
            must carry the pair's price and volume decimals (the checksum is written at them).
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the public stream, e.g. ``wss://ws.kraken.com/v2``.
        depth: levels a side subscribed (10, 25, 100, 500 or 1000).
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        ping_after_s: send a ping after this long without a frame.
    """

    log = log
    book_channel = "book"

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str = PUBLIC_WS,
        depth: int = 10,
        venue: str = "kraken",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 10.0,
        ping_after_s: float = 3.0,
    ) -> None:
        if depth not in (10, 25, 100, 500, 1000):
            raise ValueError(f"kraken book depth must be 10, 25, 100, 500 or 1000, got {depth}")
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
        self.depth = depth
        self.ping_after_s = ping_after_s
        self._parser = KrakenParser(self.instruments)
        self._syncs: dict[int, KrakenBookSync] = {}
        for inst in self.instruments:
            price, size = self._parser.grids(inst.symbol)
            self._syncs[inst.instrument_id] = KrakenBookSync(
                inst, books[inst.instrument_id], price, size, depth=depth, venue=venue
            )
        self._req_ids = itertools.count(1)
        self.refused = 0
        """Requests the venue answered with ``"success":false`` (an unknown pair, a bad depth)."""

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data, by kind (acks, heartbeats, pongs, other channels)."""
        return self._parser.ignored

    def sync_of(self, instrument: int) -> KrakenBookSync:
        """The sync unit of one pair (its phase and checksum counts)."""
        return self._syncs[instrument]

    # ---- the connection's hooks ----------------------------------------------------------------

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        for sync in self._syncs.values():
            sync.reset(ResyncCause.RECONNECT)
        self._books_syncing(reconnect=reconnect)
        symbols = [i.symbol for i in self.instruments]
        await ws.send(self._request("subscribe", "book", symbols))
        await ws.send(self._request("subscribe", "trade", symbols))
        self._set_link(LinkState.SYNCING)

    def _request(self, method: str, channel: str, symbols: list[str]) -> str:
        params: dict[str, object] = {"channel": channel, "symbol": symbols}
        if channel == "book":
            params["depth"] = self.depth
            if method == "subscribe":
                params["snapshot"] = True
        elif method == "subscribe":
            params["snapshot"] = False
        return json.dumps({"method": method, "params": params, "req_id": next(self._req_ids)})

    async def _keepalive(self, ws: ClientConnection) -> None:
        await self._ping_when_quiet(
            ws,
            self.ping_after_s,
            lambda: json.dumps({"method": "ping", "req_id": next(self._req_ids)}),
        )

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        items = self._parser.parse(raw, recv_ts)
        if not items and b'"success"' in raw and _refused(raw):
            self.refused += 1
            log.warning(
                "request refused by the venue",
                extra={"venue": self.venue, "frame": raw[:200].decode("utf-8", "replace")},
            )
        return items or None

    def _book_live(self, instrument: int) -> bool:
        return self._syncs[instrument].phase is BookPhase.LIVE

    def _lose_book(self, instrument: int) -> bool:
        return lose_book(self._syncs[instrument])

    # ---- books -------------------------------------------------------------------------------

    def _on_book(self, msg: KrakenBook) -> None:
        iid = self._ids[msg.symbol]
        sync = self._syncs[iid]
        was_live = sync.phase is BookPhase.LIVE
        try:
            outcome = sync.on_message(msg)
        except ChecksumMismatch as exc:
            self._on_checksum(iid, exc)
            return
        except CrossedBook as exc:
            self._on_crossed(iid, exc)
            return
        event = msg.event
        if outcome is KrakenOutcome.APPLIED and isinstance(event, BookDelta):
            n = sync.messages
            delta = msgspec.structs.replace(event, first_id=n, last_id=n, prev_id=n - 1)
            self._delta_applied(iid, delta)
        elif outcome is KrakenOutcome.SNAPSHOT:
            self._snapshot_applied(iid, event.exch_ts, event.recv_ts, was_live=was_live)

    def _resubscribe_frames(self, topics: list[str]) -> list[str]:
        """Unsubscribe, then subscribe the ``book`` channel of the pairs: a fresh snapshot."""
        return [
            self._request("unsubscribe", "book", topics),
            self._request("subscribe", "book", topics),
        ]
