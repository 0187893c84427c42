"""OKX v5 public market data over one WebSocket: ``books`` and ``trades`` for many instruments.

:class:`OkxFeed` fills in the shared connection loop
(:class:`~engine.venues.stream_feed.StreamFeed`: connect, backoff with jitter, liveness,
malformed frames counted and logged; :class:`~engine.venues.book_feed.BookFeed`: books syncing,
paced resubscriptions, pings) with the OKX way:

- once open it subscribes ``books`` and ``trades`` of every instrument in one request; the venue
  answers each ``books`` subscription with a snapshot, which makes that book live;
- each ``books`` message goes through the instrument's
  :class:`~engine.venues.okx.sync.OkxBookSync` (``seqId``/``prevSeqId`` chain, checksum when
  non-zero, uncrossed). A gap, a checksum mismatch, a crossed book or a lost (malformed) book
  frame throws only that book away and **resubscribes** its ``books`` channel (unsubscribe, then
  subscribe) for a fresh snapshot, as venues.md §6.3 and §6.4 say, paced by a
  :class:`~engine.venues.resubscribe.ResubscribePacer` (a book that keeps failing waits longer);
  the other books go on;
- the venue drops a link silent for 30 s, so whenever nothing arrived for ``ping_after_s`` the
  feed sends the text ``ping`` (the answer ``pong`` is counted as unknown and ignored).

With ``rest_url`` set, a book that got no WebSocket snapshot ``snapshot_wait_s`` after
(re)subscribing is synced by the 2026 procedure (venues.md §6.5): its updates are buffered, REST
``/api/v5/market/books`` gives a snapshot with a ``seqId``, and
:meth:`~engine.venues.okx.sync.OkxBookSync.on_rest_snapshot` bridges it to the buffered chain
(a snapshot older than the stream is fetched again). A WebSocket snapshot that does arrive wins.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

import aiohttp

from engine.core.events import BookDelta
from engine.errors import (
    ChecksumMismatch,
    CrossedBook,
    FeedError,
    SequenceGap,
    SnapshotError,
)
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.backoff import Backoff
from engine.venues.book_feed import BookFeed
from engine.venues.book_sync import BookPhase, ResyncCause, lose_book
from engine.venues.okx.protocol import OkxBook, OkxParser
from engine.venues.okx.sync import OkxBookSync, OkxOutcome
from engine.venues.resubscribe import ResubscribePacer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.okx")


class OkxFeed(BookFeed[OkxBook]):
    """Keeps ``books`` in sync with the OKX public stream.

    Args:
        instruments: what to subscribe to, ``symbol`` being the OKX ``instId``; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the public stream, e.g. ``wss://ws.okx.com:8443/ws/v5/public``.
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        ping_after_s: send ``ping`` after this long without a frame (OKX drops a link at 30 s).
        allow_crossed: accept crossed books (pre-open auctions).
        rest_url: the REST base (``https://www.okx.com``) for snapshots when the stream sends
            none; None relies on WebSocket snapshots only.
        snapshot_wait_s: how long a (re)subscribed book waits for a WebSocket snapshot before
            fetching one over REST.
        rest_depth: levels a side asked of the REST snapshot (OKX allows up to 400).
    """

    log = log
    book_channel = "books"

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str,
        venue: str = "okx",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 40.0,
        ping_after_s: float = 20.0,
        allow_crossed: bool = False,
        rest_url: str | None = None,
        snapshot_wait_s: float = 2.0,
        rest_depth: int = 400,
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
        self.ping_after_s = ping_after_s
        self.snapshot_wait_s = snapshot_wait_s
        self.rest_depth = rest_depth
        self._rest_base = rest_url.rstrip("/") if rest_url else None
        self._session: aiohttp.ClientSession | None = None
        self._snapshot_tasks: dict[int, asyncio.Task[None]] = {}
        self._parser = OkxParser(self.instruments)
        self._syncs: dict[int, OkxBookSync] = {}
        for inst in self.instruments:
            price, size = self._parser.grids(inst.symbol)
            self._syncs[inst.instrument_id] = OkxBookSync(
                inst,
                books[inst.instrument_id],
                price,
                size,
                venue=venue,
                allow_crossed=allow_crossed,
            )

    @property
    def ignored(self) -> Counter[str]:
        """Frames with no market data, by kind (acks, ``pong``, other channels)."""
        return self._parser.ignored

    def sync_of(self, instrument: int) -> OkxBookSync:
        """The sync unit of one instrument (its phase, ``seqId`` and checksum counts)."""
        return self._syncs[instrument]

    # ---- the connection's hooks ----------------------------------------------------------------

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        for sync in self._syncs.values():
            sync.reset(ResyncCause.RECONNECT)
        self._books_syncing(reconnect=reconnect)
        for inst in self.instruments:
            self._want_rest_snapshot(inst.instrument_id)
        args = [
            {"channel": ch, "instId": i.symbol}
            for i in self.instruments
            for ch in ("books", "trades")
        ]
        await ws.send(json.dumps({"id": "1", "op": "subscribe", "args": args}))
        self._set_link(LinkState.SYNCING)

    async def _start_session(self) -> None:
        if self._rest_base is not None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))

    async def _teardown(self) -> None:
        await super()._teardown()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _on_closed(self) -> None:
        await super()._on_closed()
        tasks = list(self._snapshot_tasks.values())
        self._snapshot_tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keepalive(self, ws: ClientConnection) -> None:
        await self._ping_when_quiet(ws, self.ping_after_s, lambda: "ping")

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        items = self._parser.parse(raw, recv_ts)
        return items or None

    def _book_live(self, instrument: int) -> bool:
        return self._syncs[instrument].phase is BookPhase.LIVE

    def _lose_book(self, instrument: int) -> bool:
        return lose_book(self._syncs[instrument])

    # ---- books -------------------------------------------------------------------------------

    def _on_book(self, msg: OkxBook) -> None:
        iid = self._ids[msg.symbol]
        sync = self._syncs[iid]
        was_live = sync.phase is BookPhase.LIVE
        try:
            outcome = sync.on_message(msg)
        except SequenceGap as exc:
            self._on_gap(iid, exc)
            return
        except ChecksumMismatch as exc:
            self._on_checksum(iid, exc)
            return
        except CrossedBook as exc:
            self._on_crossed(iid, exc)
            return
        except FeedError as exc:  # SnapshotError: only on the REST path
            log.info("book resync", extra={**self._where(iid), "error": str(exc)})
            self._resync(iid, ResyncReason.GAP)
            return
        event = msg.event
        if outcome is OkxOutcome.APPLIED and isinstance(event, BookDelta):
            self._delta_applied(iid, event)
        elif outcome in (OkxOutcome.SNAPSHOT, OkxOutcome.WENT_LIVE):
            self._snapshot_applied(iid, event.exch_ts, event.recv_ts, was_live=was_live)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: resubscribe its ``books`` channel, and fetch over REST."""
        self._book_resyncing(instrument, reason)
        if self._resubscribe_later(self._symbols[instrument], self._book_topics(instrument)):
            self._want_rest_snapshot(instrument)

    def _resubscribe_frames(self, topics: list[str]) -> list[str]:
        arg = [{"channel": "books", "instId": symbol} for symbol in topics]
        return [
            json.dumps({"id": "2", "op": "unsubscribe", "args": arg}),
            json.dumps({"id": "3", "op": "subscribe", "args": arg}),
        ]

    # ---- REST snapshots (the 2026 procedure) ---------------------------------------------------

    def _want_rest_snapshot(self, instrument: int) -> None:
        """Fetch a REST snapshot for a syncing book if no WS snapshot comes in time."""
        if self._rest_base is None:
            return
        task = self._snapshot_tasks.get(instrument)
        if task is not None and not task.done():
            return
        self._snapshot_tasks[instrument] = asyncio.create_task(
            self._rest_snapshot(instrument), name=f"okx-snapshot-{instrument}"
        )

    async def _rest_snapshot(self, instrument: int) -> None:
        sync = self._syncs[instrument]
        retry = Backoff(base_s=0.2, cap_s=10.0)
        await asyncio.sleep(self.snapshot_wait_s)
        while sync.snapshot_wanted and self._connected:
            body = await self._get_books(sync.instrument.symbol)
            if body is None:
                await asyncio.sleep(retry.next_delay())
                continue
            recv_ts = self._clock.time_ns()
            parse = self._parser.parse_rest_snapshot
            snapshot = self._snapshot_read(parse, body, sync.instrument.symbol, recv_ts)
            if snapshot is None:
                await asyncio.sleep(retry.next_delay())
                continue
            try:
                outcome = sync.on_rest_snapshot(snapshot)
            except SnapshotError as exc:
                self._snapshot_too_old(instrument, exc)
                await asyncio.sleep(retry.next_delay())
                continue
            except FeedError as exc:  # a replayed update broke the chain, checksum or cross
                log.warning(
                    "buffered updates refused the snapshot",
                    extra={**self._where(instrument), "error": str(exc)},
                )
                await asyncio.sleep(retry.next_delay())
                continue
            if outcome is OkxOutcome.WENT_LIVE:
                self._went_live(instrument, 0, recv_ts)
            return

    async def _get_books(self, symbol: str) -> bytes | None:
        """One REST books ``GET``; None when it failed and must be retried."""
        session = self._session
        assert session is not None
        assert self._rest_base is not None
        url = f"{self._rest_base}/api/v5/market/books"
        params = {"instId": symbol, "sz": str(self.rest_depth)}
        try:
            async with session.get(url, params=params) as resp:
                body = await resp.read()
                if resp.status == 200:
                    return body
                log.warning(
                    "book snapshot refused",
                    extra={"venue": self.venue, "symbol": symbol, "status": resp.status},
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "book snapshot failed",
                extra={"venue": self.venue, "symbol": symbol, "error": repr(exc)},
            )
        return None
