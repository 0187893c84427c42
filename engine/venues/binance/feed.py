"""Binance market-data feeds: one combined-stream WebSocket plus REST depth snapshots.

:class:`BinanceDepthFeed` is the Binance way of keeping books on top of the shared connection
loop (:class:`~engine.venues.stream_feed.StreamFeed`, books syncing and resync bookkeeping by
:class:`~engine.venues.book_feed.BookFeed`): one connection carries diff depth and
trades of every instrument, subscribed in the URL from the feed's own stream registry. Each
instrument is its own sync unit: a gap, a crossed book or a malformed depth frame resnapshots only
that symbol, while the socket dropping resyncs them all. Snapshots are fetched by one task per
symbol while diffs keep buffering; HTTP 429/418 answers are respected through their
``Retry-After`` for every REST request. The venue's own parts are class attributes: the parser,
the book procedure, the snapshot path and the stream names. :class:`BinanceSpotFeed` is spot
(§1.4, ``/api/v3/depth``, also the local venue); the USD-M feed
(:class:`~engine.venues.binance_usdm.feed.BinanceUsdmFeed`) is futures (§2.4).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp

from engine.core.events import BookDelta, Trade
from engine.errors import CrossedBook, SequenceGap, SnapshotError
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.backoff import Backoff
from engine.venues.binance.protocol import (
    BinanceSpotParser,
    BookTop,
    ServerShutdown,
    stream_names,
    warm_up,
)
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SpotBookSync, SyncPhase
from engine.venues.book_feed import BookFeed

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.base import FeedListener

log = logging.getLogger("engine.venues.binance")

_RATE_LIMITED = (429, 418)
_DEFAULT_RETRY_AFTER_S = 60.0  # when a 429/418 comes without a readable Retry-After
_CONCURRENT_SNAPSHOTS = 4  # snapshots cost request weight: many books resyncing take turns


class BinanceDepthFeed(BookFeed[BookDelta]):
    """Keeps ``books`` in sync with a Binance diff-depth stream and REST snapshots.

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: WebSocket base the combined-stream path is added to.
        rest_url: REST base the snapshot path is added to.
        depth_limit: levels per side requested in snapshots.
        depth_interval_ms: diff depth cadence (``@depth@100ms``).
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
        book_ticker: also subscribe ``<symbol>@bookTicker`` and rebuild a book whose top
            disagrees with the venue's at the same update id (futures: their ids coincide).
    """

    log = log
    depth_path = "/api/v3/depth"
    """The REST snapshot path."""
    parser_class: type[BinanceSpotParser] = BinanceSpotParser
    """The frame parser."""
    sync_class: type[SpotBookSync] = SpotBookSync
    """The book procedure of one instrument."""

    def __init__(
        self,
        instruments: list[Instrument],
        books: dict[int, OrderBook],
        listener: FeedListener,
        *,
        ws_url: str,
        rest_url: str,
        depth_limit: int = 1000,
        depth_interval_ms: int = 100,
        venue: str = "binance",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 60.0,
        book_ticker: bool = False,
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
        self.depth_limit = depth_limit
        self._ws_base = ws_url.rstrip("/")
        self._rest_base = rest_url.rstrip("/")
        self._parser = self.parser_class(self.instruments, venue)
        self._syncs = {
            i.instrument_id: self.sync_class(i, books[i.instrument_id], venue=venue)
            for i in self.instruments
        }
        #: the subscription registry: every (re)connect subscribes to exactly these
        pairs = self._stream_names(depth_interval_ms)
        self._depth_stream_of = {
            name: inst.instrument_id
            for inst, name in zip(self.instruments, pairs[::2], strict=True)
        }
        tickers = [f"{i.symbol.lower()}@bookTicker" for i in self.instruments]
        self.streams = pairs + tickers if book_ticker else pairs
        self._snapshot_tasks: dict[int, asyncio.Task[None]] = {}
        self._rest_open_at = 0.0  # loop time before which no REST request may go out
        self._session: aiohttp.ClientSession | None = None
        self._rest_slots = asyncio.Semaphore(_CONCURRENT_SNAPSHOTS)

    def _stream_names(self, depth_interval_ms: int) -> list[str]:
        """Depth then trade stream of each instrument, in instrument order."""
        return stream_names(self.instruments, depth_interval_ms)

    @property
    def url(self) -> str:
        """The combined-stream URL every connection opens."""
        return f"{self._ws_base}/stream?streams={'/'.join(self.streams)}"

    def sync_of(self, instrument: int) -> SpotBookSync:
        """The sync unit of one instrument (its phase, update id and buffer)."""
        return self._syncs[instrument]

    # ---- the connection's hooks ----------------------------------------------------------------

    def _warm_up(self) -> None:
        warm_up()

    async def _start_session(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))

    async def _teardown(self) -> None:
        await super()._teardown()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _on_open(self, ws: ClientConnection, *, reconnect: bool) -> None:
        # the streams ride in the URL, from our registry: the socket opens subscribed
        self._resync_all(reconnect=reconnect)

    async def _on_closed(self) -> None:
        await super()._on_closed()
        await self._cancel_snapshots()

    def _parse(self, raw: bytes, recv_ts: int) -> object:
        return self._parser.parse_frame(raw, recv_ts)

    def _dispatch(self, event: object) -> bool:
        if type(event) is BookDelta:
            self._on_delta(event)
        elif type(event) is Trade:
            self.listener.on_trade(event)
        elif type(event) is BookTop:
            self._on_top(event)
        elif type(event) is ServerShutdown:
            log.info("venue announced shutdown; reconnecting", extra={"venue": self.venue})
            return True
        return False

    def _on_unknown(self) -> None:
        self.stats.unknown = self._parser.unknown

    def _book_live(self, instrument: int) -> bool:
        return self._syncs[instrument].phase is SyncPhase.LIVE

    # ---- books -------------------------------------------------------------------------------

    def _resync_all(self, *, reconnect: bool) -> None:
        """After (re)connecting: every book starts over and fetches a snapshot."""
        for sync in self._syncs.values():
            sync.reset()
        self._books_syncing(reconnect=reconnect)
        for iid in self._syncs:
            self._want_snapshot(iid)
        self._set_link(LinkState.SYNCING)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: tell the engine and fetch a new snapshot."""
        self._book_resyncing(instrument, reason)
        self._want_snapshot(instrument)

    def _on_delta(self, delta: BookDelta) -> None:
        iid = delta.instrument
        sync = self._syncs[iid]
        try:
            outcome = sync.on_delta(delta)
        except SequenceGap as exc:
            self._on_gap(iid, exc, "sequence gap; resyncing")
            return
        except CrossedBook as exc:
            self._on_crossed(iid, exc, "crossed book; resyncing")
            return
        except SnapshotError as exc:
            self._snapshot_too_old(iid, exc)
            self._want_snapshot(iid)
            return
        except Exception:  # a book bug must not take the engine down: throw that book away
            log.exception("applying a diff failed; resyncing", extra=self._where(iid))
            sync.reset()
            self._resync(iid, ResyncReason.MALFORMED)
            return
        if outcome is DeltaOutcome.APPLIED:
            self._delta_applied(iid, delta)
        elif outcome is DeltaOutcome.WENT_LIVE:
            self._went_live(iid, delta.exch_ts, delta.recv_ts)

    def _on_top(self, top: BookTop) -> None:
        """A bookTicker: at the book's own update id its top must be the book's."""
        iid = top.instrument
        sync = self._syncs[iid]
        agrees = sync.top_agrees(top)
        if agrees is None:
            return
        self.stats.top_checks += 1
        if agrees:
            return
        self.stats.gaps += 1
        log.warning(
            "book ticker disagrees with the book; resyncing",
            extra={**self._where(iid), "update_id": top.update_id},
        )
        sync.reset()
        self._resync(iid, ResyncReason.GAP)

    def _on_malformed_stream(self, stream: str) -> None:
        iid = self._depth_stream_of.get(stream)
        if iid is None:
            return  # not a depth frame we know of: a lost diff still shows up as a gap
        sync = self._syncs[iid]
        if sync.phase is SyncPhase.SYNCING:
            return  # still buffering: the buffer restarts at the next diff that does not follow
        sync.reset()  # the lost diff may have changed the book: do not wait for the gap
        self._resync(iid, ResyncReason.MALFORMED)

    # ---- snapshots ---------------------------------------------------------------------------

    def _want_snapshot(self, instrument: int) -> None:
        """Start a snapshot fetch for a syncing book unless one is already on its way."""
        task = self._snapshot_tasks.get(instrument)
        if not self._connected or (task is not None and not task.done()):
            return
        if self._syncs[instrument].snapshot_wanted:
            self._snapshot_tasks[instrument] = asyncio.create_task(
                self._fetch_snapshots(instrument),
                name=f"{self.venue}-snapshot-{instrument}",
            )

    async def _cancel_snapshots(self) -> None:
        tasks = list(self._snapshot_tasks.values())
        self._snapshot_tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch_snapshots(self, instrument: int) -> None:
        """Fetch snapshots for one book until one is usable (or the book stops wanting one)."""
        sync = self._syncs[instrument]
        retry = Backoff(base_s=0.1, cap_s=10.0)
        while sync.snapshot_wanted and self._connected:
            body = await self._get_depth(sync.instrument, retry)
            if body is None:
                continue
            recv_ts = self._clock.time_ns()
            parse = self._parser.parse_snapshot
            snapshot = self._snapshot_read(parse, body, sync.instrument, recv_ts)
            if snapshot is None:
                await asyncio.sleep(retry.next_delay())
                continue
            try:
                outcome = sync.on_snapshot(snapshot)
            except SnapshotError as exc:
                self._snapshot_too_old(instrument, exc)
                await asyncio.sleep(retry.next_delay())
                continue
            except CrossedBook as exc:
                log.warning(
                    "crossed snapshot; resyncing",
                    extra={**self._where(instrument), "error": str(exc)},
                )
                self.stats.resyncs += 1
                self.listener.on_book_state(instrument, "syncing", ResyncReason.CROSSED)
                await asyncio.sleep(retry.next_delay())
                continue
            if outcome is SnapshotOutcome.LIVE:
                self._went_live(instrument, 0, recv_ts)
            return

    async def _get_depth(self, instrument: Instrument, retry: Backoff) -> bytes | None:
        """One snapshot ``GET``; None (after waiting as told) when it must be retried."""
        loop = asyncio.get_running_loop()
        wait = self._rest_open_at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        session = self._session
        assert session is not None
        url = f"{self._rest_base}{self.depth_path}"
        params = {"symbol": instrument.symbol, "limit": str(self.depth_limit)}
        try:
            async with self._rest_slots, session.get(url, params=params) as resp:
                body = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "snapshot request failed",
                extra={"venue": self.venue, "symbol": instrument.symbol, "error": repr(exc)},
            )
            await asyncio.sleep(retry.next_delay())
            return None
        if status in _RATE_LIMITED:
            wait_s = _retry_after_s(retry_after)
            self._rest_open_at = max(self._rest_open_at, loop.time() + wait_s)
            log.warning(
                "snapshot rate limited; waiting",
                extra={
                    "venue": self.venue,
                    "symbol": instrument.symbol,
                    "status": status,
                    "retry_after_s": wait_s,
                },
            )
            return None
        if status != 200:
            log.warning(
                "snapshot request refused",
                extra={
                    "venue": self.venue,
                    "symbol": instrument.symbol,
                    "status": status,
                    "body": body[:200].decode("utf-8", "replace"),
                },
            )
            await asyncio.sleep(retry.next_delay())
            return None
        return body


class BinanceSpotFeed(BinanceDepthFeed):
    """Keeps ``books`` in sync with Binance spot (or the local venue, which speaks the same).

    ``ws_url`` is e.g. ``wss://stream.binance.com:9443`` and ``rest_url``
    ``https://api.binance.com``; the rest as :class:`BinanceDepthFeed`.
    """


def _retry_after_s(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (Binance sends whole seconds)."""
    if value is None:
        return _DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(value)
    except ValueError:
        return _DEFAULT_RETRY_AFTER_S
    return max(0.0, seconds)
