"""The Binance spot market-data feed: one combined-stream WebSocket plus REST depth snapshots.

One connection carries diff depth and trades of every instrument. Frames are read in a loop and
applied at once (no task per message). Each instrument is its own sync unit
(:class:`~engine.venues.binance.sync.SpotBookSync`): a gap, a crossed book or a malformed depth
frame resnapshots only that symbol, while the socket dropping resyncs them all. Snapshots are
fetched by one task per symbol while diffs keep buffering; HTTP 429/418 answers are respected
through their ``Retry-After`` for every REST request. The connection follows venues.md §9:
DISCONNECTED -> CONNECTING -> SUBSCRIBING -> SYNCING -> LIVE, reconnects with exponential backoff
and jitter, resubscribes from its own stream registry, and declares the link stale after
``stale_after_s`` without a frame. A bad frame is counted, logged with venue and stream, and never
stops the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from engine.core.clock import Clock, LiveClock
from engine.core.events import BookDelta, Trade
from engine.errors import CrossedBook, MalformedMessage, SequenceGap, SnapshotError
from engine.ipc.protocol import LinkState, ResyncReason
from engine.venues.backoff import Backoff
from engine.venues.base import FeedListener, FeedStats
from engine.venues.binance.protocol import BinanceSpotParser, ServerShutdown, stream_names, warm_up
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SpotBookSync, SyncPhase

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument

log = logging.getLogger("engine.venues.binance")

_NS = 1_000_000_000
_RATE_LIMITED = (429, 418)
_DEFAULT_RETRY_AFTER_S = 60.0  # when a 429/418 comes without a readable Retry-After
_CONCURRENT_SNAPSHOTS = 4  # snapshots cost request weight: many books resyncing take turns


class BinanceSpotFeed:
    """Keeps ``books`` in sync with Binance spot (or the local venue, which speaks the same).

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: WebSocket base, e.g. ``wss://stream.binance.com:9443``.
        rest_url: REST base, e.g. ``https://api.binance.com``.
        depth_limit: levels per side requested in snapshots.
        depth_interval_ms: diff depth cadence (``@depth@100ms``).
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link with no frame for this long is declared stale and reconnected.
    """

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
    ) -> None:
        self.instruments = list(instruments)
        self.books = books
        self.listener = listener
        self.venue = venue
        self.stats = FeedStats()
        self.depth_limit = depth_limit
        self.stale_after_s = stale_after_s
        self._ws_base = ws_url.rstrip("/")
        self._rest_base = rest_url.rstrip("/")
        self._clock = clock or LiveClock()
        self._backoff = backoff or Backoff()
        self._parser = BinanceSpotParser(self.instruments, venue)
        self._syncs = {
            i.instrument_id: SpotBookSync(i, books[i.instrument_id], venue=venue)
            for i in self.instruments
        }
        #: the subscription registry: every (re)connect subscribes to exactly these
        self.streams = stream_names(self.instruments, depth_interval_ms)
        self._depth_stream_of = {
            name: inst.instrument_id
            for inst, name in zip(self.instruments, self.streams[::2], strict=True)
        }
        self._snapshot_tasks: dict[int, asyncio.Task[None]] = {}
        self._rest_open_at = 0.0  # loop time before which no REST request may go out
        self._session: aiohttp.ClientSession | None = None
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._connected = False
        self._ever_connected = False
        self._reconnect_now = False  # the venue asked us to move (serverShutdown): no backoff
        self._last_frame_ns = 0
        self._rest_slots = asyncio.Semaphore(_CONCURRENT_SNAPSHOTS)

    @property
    def url(self) -> str:
        """The combined-stream URL every connection opens."""
        return f"{self._ws_base}/stream?streams={'/'.join(self.streams)}"

    def sync_of(self, instrument: int) -> SpotBookSync:
        """The sync unit of one instrument (its phase, update id and buffer)."""
        return self._syncs[instrument]

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, sync and stay in sync until cancelled or :meth:`stop` is called."""
        warm_up()
        self._stopping = False
        self._stopped.clear()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))
        try:
            while not self._stopping:
                healthy_for_s = await self._connection()
                if self._stopping:
                    break
                if self._reconnect_now:
                    self._reconnect_now = False
                    continue
                delay = self._backoff.next_delay(healthy_for_s)
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

    async def _teardown(self) -> None:
        await self._cancel_snapshots()
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._set_link(LinkState.DISCONNECTED)

    # ---- the connection ----------------------------------------------------------------------

    async def _connection(self) -> float:
        """One connection from open to close; returns how long it was up, in seconds."""
        self._set_link(LinkState.CONNECTING)
        started = self._clock.monotonic_ns()
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
                if self._ever_connected:
                    self.stats.reconnects += 1
                # the streams ride in the URL, from our registry: the socket opens subscribed
                self._set_link(LinkState.SUBSCRIBING)
                self._connected = True
                self._resync_all(reconnect=self._ever_connected)
                self._ever_connected = True
                watchdog = asyncio.create_task(self._watch(ws), name=f"{self.venue}-liveness")
                try:
                    await self._read(ws)
                finally:
                    watchdog.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watchdog
        except (OSError, TimeoutError, WebSocketException) as exc:
            if not self._stopping:
                log.warning(
                    "venue connection lost",
                    extra={"venue": self.venue, "error": repr(exc)},
                )
        finally:
            self._ws = None
            self._connected = False
            await self._cancel_snapshots()
            self._mark_stale()
            self._set_link(LinkState.DISCONNECTED)
        return (self._clock.monotonic_ns() - started) / _NS

    async def _read(self, ws: ClientConnection) -> None:
        """Read and apply frames until the socket closes or the venue asks us to reconnect."""
        parser = self._parser
        clock = self._clock
        stats = self.stats
        listener = self.listener
        while True:
            raw = await ws.recv(decode=False)
            recv_ts = clock.time_ns()
            self._last_frame_ns = clock.monotonic_ns()
            stats.frames += 1
            try:
                event = parser.parse_frame(raw, recv_ts)
            except MalformedMessage as exc:
                self._on_malformed(exc)
                continue
            except Exception as exc:  # a parser bug must not take the engine down
                log.exception("frame parser failed", extra={"venue": self.venue})
                self._on_malformed(MalformedMessage(self.venue, "unknown", repr(exc), raw))
                continue
            if type(event) is BookDelta:
                self._on_delta(event)
            elif type(event) is Trade:
                listener.on_trade(event)
            elif type(event) is ServerShutdown:
                log.info("venue announced shutdown; reconnecting", extra={"venue": self.venue})
                self._reconnect_now = True
                return

    async def _watch(self, ws: ClientConnection) -> None:
        """Close a link that has been silent for ``stale_after_s`` (venues.md §9.3)."""
        limit_ns = int(self.stale_after_s * _NS)
        while True:
            await asyncio.sleep(min(1.0, self.stale_after_s / 4))
            idle_ns = self._clock.monotonic_ns() - self._last_frame_ns
            if idle_ns >= limit_ns:
                log.warning(
                    "venue link stale; reconnecting",
                    extra={"venue": self.venue, "idle_s": round(idle_ns / _NS, 1)},
                )
                await ws.close()
                return

    # ---- books -------------------------------------------------------------------------------

    def _resync_all(self, *, reconnect: bool) -> None:
        """After (re)connecting: every book starts over and fetches a snapshot."""
        for inst in self.instruments:
            iid = inst.instrument_id
            self._syncs[iid].reset()
            if reconnect:
                self.stats.resyncs += 1
            self.listener.on_book_state(
                iid, "syncing", ResyncReason.RECONNECT if reconnect else None
            )
            self._want_snapshot(iid)
        self._set_link(LinkState.SYNCING)

    def _resync(self, instrument: int, reason: ResyncReason) -> None:
        """One book was thrown away: tell the engine and fetch a new snapshot."""
        self.stats.resyncs += 1
        self.listener.on_book_state(instrument, "syncing", reason)
        if self.stats.link is LinkState.LIVE:
            self._set_link(LinkState.SYNCING)
        self._want_snapshot(instrument)

    def _mark_stale(self) -> None:
        for iid, sync in self._syncs.items():
            if sync.phase is SyncPhase.LIVE:
                self.listener.on_book_state(iid, "stale", None)

    def _went_live(self, instrument: int, exch_ts: int, recv_ts: int) -> None:
        self.listener.on_book_state(instrument, "live", None)
        self.listener.on_book(instrument, self.books[instrument], exch_ts, recv_ts)
        if all(s.phase is SyncPhase.LIVE for s in self._syncs.values()):
            self._set_link(LinkState.LIVE)

    def _on_delta(self, delta: BookDelta) -> None:
        iid = delta.instrument
        sync = self._syncs[iid]
        try:
            outcome = sync.on_delta(delta)
        except SequenceGap as exc:
            self.stats.gaps += 1
            log.warning(
                "sequence gap; resyncing",
                extra={**self._where(iid), "expected": exc.expected, "received": exc.received},
            )
            self._resync(iid, ResyncReason.GAP)
            return
        except CrossedBook as exc:
            log.warning("crossed book; resyncing", extra={**self._where(iid), "error": str(exc)})
            self._resync(iid, ResyncReason.CROSSED)
            return
        except SnapshotError as exc:
            log.info(
                "snapshot too old; fetching another", extra={**self._where(iid), "error": str(exc)}
            )
            self._want_snapshot(iid)
            return
        except Exception:  # a book bug must not take the engine down: throw that book away
            log.exception("applying a diff failed; resyncing", extra=self._where(iid))
            sync.reset()
            self._resync(iid, ResyncReason.MALFORMED)
            return
        if outcome is DeltaOutcome.APPLIED:
            self.listener.on_book_delta(delta)
            self.listener.on_book(iid, sync.book, delta.exch_ts, delta.recv_ts)
        elif outcome is DeltaOutcome.WENT_LIVE:
            self._went_live(iid, delta.exch_ts, delta.recv_ts)

    def _on_malformed(self, error: MalformedMessage) -> None:
        self.stats.malformed += 1
        raw = error.raw if isinstance(error.raw, str) else error.raw.decode("utf-8", "replace")
        log.warning(
            "malformed frame",
            extra={
                "venue": self.venue,
                "stream": error.stream,
                "error": str(error),
                "frame": raw[:120],
            },
        )
        self.listener.on_malformed(error.stream, error)
        iid = self._depth_stream_of.get(error.stream)
        if iid is None:
            return  # not a depth frame we know of: a lost diff still shows up as a gap
        sync = self._syncs[iid]
        if sync.phase is SyncPhase.SYNCING:
            return  # still buffering: the buffer restarts at the next diff that does not follow
        sync.reset()  # the lost diff may have changed the book: do not wait for the gap
        self._resync(iid, ResyncReason.MALFORMED)

    def _where(self, instrument: int) -> dict[str, str]:
        inst = self._syncs[instrument].instrument
        return {"venue": self.venue, "symbol": inst.symbol}

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
            try:
                snapshot = self._parser.parse_snapshot(body, sync.instrument, recv_ts)
            except MalformedMessage as exc:
                self._on_malformed(exc)
                await asyncio.sleep(retry.next_delay())
                continue
            self.stats.snapshots += 1
            try:
                outcome = sync.on_snapshot(snapshot)
            except SnapshotError as exc:
                log.info(
                    "snapshot too old; fetching another",
                    extra={**self._where(instrument), "error": str(exc)},
                )
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
        """One ``GET /api/v3/depth``; None (after waiting as told) when it must be retried."""
        loop = asyncio.get_running_loop()
        wait = self._rest_open_at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        session = self._session
        assert session is not None
        url = f"{self._rest_base}/api/v3/depth"
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

    # ---- link state ----------------------------------------------------------------------------

    def _set_link(self, state: LinkState) -> None:
        if state is self.stats.link:
            return
        self.stats.link = state
        log.info("link", extra={"venue": self.venue, "state": state.name.lower()})
        self.listener.on_link(state)


def _retry_after_s(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (Binance sends whole seconds)."""
    if value is None:
        return _DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(value)
    except ValueError:
        return _DEFAULT_RETRY_AFTER_S
    return max(0.0, seconds)
