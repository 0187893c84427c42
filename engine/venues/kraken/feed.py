"""Kraken spot WebSocket v2 public market data over one socket: ``book`` and ``trade``.

:class:`KrakenFeed` fills in the shared connection loop
(:class:`~engine.venues.stream_feed.StreamFeed`) with the Kraken way (venues.md §4):

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

import asyncio
import itertools
import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

import msgspec

from engine.core.events import BookDelta, Trade
from engine.errors import ChecksumMismatch, CrossedBook
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.book_sync import BookPhase, ResyncCause
from engine.venues.kraken.protocol import KrakenBook, KrakenParser
from engine.venues.kraken.sync import KrakenBookSync, KrakenOutcome
from engine.venues.resubscribe import ResubscribePacer
from engine.venues.stream_feed import StreamFeed

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.kraken")

_NS = 1_000_000_000
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


class KrakenFeed(StreamFeed):
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
            venue=venue,
            clock=clock,
            backoff=backoff,
            stale_after_s=stale_after_s,
        )
        self.depth = depth
        self.ping_after_s = ping_after_s
        self._url = ws_url
        self._parser = KrakenParser(self.instruments)
        self._syncs: dict[int, KrakenBookSync] = {}
        for inst in self.instruments:
            price, size = self._parser.grids(inst.symbol)
            self._syncs[inst.instrument_id] = KrakenBookSync(
                inst, books[inst.instrument_id], price, size, depth=depth, venue=venue
            )
        self._ids = {inst.symbol: inst.instrument_id for inst in self.instruments}
        self._resubscribing: set[asyncio.Task[None]] = set()
        self.pacer = ResubscribePacer()
        """Delays between resubscriptions of a book that keeps failing."""
        self._req_ids = itertools.count(1)
        self.checksum_mismatches = 0
        """Books thrown away because the venue's checksum disagreed."""
        self.pings = 0
        """Pings sent."""
        self.refused = 0
        """Requests the venue answered with ``"success":false`` (an unknown pair, a bad depth)."""

    @property
    def url(self) -> str:
        """The public stream every connection opens."""
        return self._url

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data, by kind (acks, heartbeats, pongs, other channels)."""
        return self._parser.ignored

    def sync_of(self, instrument: int) -> KrakenBookSync:
        """The sync unit of one pair (its phase and checksum counts)."""
        return self._syncs[instrument]

    # ---- the connection's hooks ----------------------------------------------------------------

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        for inst in self.instruments:
            iid = inst.instrument_id
            self._syncs[iid].reset(ResyncCause.RECONNECT)
            if reconnect:
                self.stats.resyncs += 1
            self.listener.on_book_state(
                iid, "syncing", ResyncReason.RECONNECT if reconnect else None
            )
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

    async def _on_closed(self) -> None:
        tasks = list(self._resubscribing)
        self._resubscribing.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keepalive(self, ws: ClientConnection) -> None:
        limit_ns = int(self.ping_after_s * _NS)
        while True:
            await asyncio.sleep(min(1.0, self.ping_after_s / 4))
            if self._clock.monotonic_ns() - self._last_frame_ns >= limit_ns:
                await ws.send(json.dumps({"method": "ping", "req_id": next(self._req_ids)}))
                self.pings += 1
                self._last_frame_ns = self._clock.monotonic_ns()  # one ping per quiet spell

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        items = self._parser.parse(raw, recv_ts)
        if not items and b'"success"' in raw and _refused(raw):
            self.refused += 1
            log.warning(
                "request refused by the venue",
                extra={"venue": self.venue, "frame": raw[:200].decode("utf-8", "replace")},
            )
        return items or None

    def _on_unknown(self) -> None:
        self.stats.unknown = sum(self._parser.ignored.values())

    def _dispatch(self, event: object) -> bool:
        assert isinstance(event, list)
        for item in event:
            if type(item) is Trade:
                self.listener.on_trade(item)
            elif type(item) is KrakenBook:
                self._on_book(item)
        return False

    def _book_live(self, instrument: int) -> bool:
        return self._syncs[instrument].phase is BookPhase.LIVE

    def _on_malformed_stream(self, stream: str) -> None:
        channel, _, symbol = stream.partition(":")
        iid = self._ids.get(symbol)
        if channel != "book" or iid is None:
            return  # a lost trade, or a frame we cannot place: a lost update fails the checksum
        sync = self._syncs[iid]
        if sync.phase is BookPhase.SYNCING:
            return
        sync.reset(ResyncCause.MALFORMED)
        self._resync(iid, ResyncReason.MALFORMED)

    # ---- books -------------------------------------------------------------------------------

    def _on_book(self, msg: KrakenBook) -> None:
        iid = self._ids[msg.symbol]
        sync = self._syncs[iid]
        was_live = sync.phase is BookPhase.LIVE
        try:
            outcome = sync.on_message(msg)
        except ChecksumMismatch as exc:
            self.checksum_mismatches += 1
            log.warning(
                "checksum mismatch; resubscribing",
                extra={**self._where(iid), "venue_sent": exc.expected, "book": exc.computed},
            )
            self._resync(iid, ResyncCause.CHECKSUM.ipc_reason())
            return
        except CrossedBook as exc:
            log.warning(
                "crossed book; resubscribing", extra={**self._where(iid), "error": str(exc)}
            )
            self._resync(iid, ResyncReason.CROSSED)
            return
        event = msg.event
        if outcome is KrakenOutcome.APPLIED and isinstance(event, BookDelta):
            n = sync.messages
            delta = msgspec.structs.replace(event, first_id=n, last_id=n, prev_id=n - 1)
            self.listener.on_book_delta(delta)
            self.listener.on_book(iid, sync.book, event.exch_ts, event.recv_ts)
        elif outcome is KrakenOutcome.SNAPSHOT:
            if was_live:
                self.listener.on_book(iid, sync.book, event.exch_ts, event.recv_ts)
            else:
                self.pacer.went_live(msg.symbol, self._clock.monotonic_ns() / _NS)
                self._went_live(iid, event.exch_ts, event.recv_ts)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: tell the engine and resubscribe its ``book`` channel."""
        self.stats.resyncs += 1
        self.listener.on_book_state(instrument, "syncing", reason)
        if self.stats.link is LinkState.LIVE:
            self._set_link(LinkState.SYNCING)
        ws = self._ws
        if ws is None:
            return
        symbol = self._syncs[instrument].instrument.symbol
        delay = self.pacer.delay(symbol, self._clock.monotonic_ns() / _NS)
        task = asyncio.create_task(
            self._resubscribe(ws, symbol, delay), name=f"kraken-resub-{symbol}"
        )
        self._resubscribing.add(task)
        task.add_done_callback(self._resubscribing.discard)

    async def _resubscribe(self, ws: ClientConnection, symbol: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await ws.send(self._request("unsubscribe", "book", [symbol]))
        await ws.send(self._request("subscribe", "book", [symbol]))
