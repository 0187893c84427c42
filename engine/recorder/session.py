"""``hft-tui record``: connect the configured venue's market-data feed and record it, nothing else.

No engine, no orders: the configured instruments' feed (the built-in local venue by default,
started as a child process like the engine starts it) keeps its books, and a
:class:`~engine.recorder.recorder.Recorder` writes its raw frames, a snapshot each time a book
goes live, every applied diff and every trade into the catalog until ``duration_s`` has passed or
the process is told to stop (SIGINT, SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from engine.book.order_book import OrderBook
from engine.core.clock import Clock, LiveClock
from engine.core.events import AlertLevel, BookDelta, Trade
from engine.errors import EngineError
from engine.recorder.recorder import Recorder, RecorderStats, recorder_for
from engine.recorder.tap import tap_feed
from engine.sim.process import SimVenueProcess
from engine.venues.binance.feed import BinanceSpotFeed
from engine.venues.binance.protocol import warm_up

if TYPE_CHECKING:
    from engine.core.config import EngineConfig
    from engine.core.instruments import Instrument
    from engine.errors import MalformedMessage
    from engine.ipc.protocol import BookState, LinkState, ResyncReason
    from engine.venues.base import Feed

log = logging.getLogger("engine.recorder")


class RecordError(EngineError):
    """Recording cannot start (a venue with no feed here, a venue that did not start)."""


class RecordingListener:
    """A feed listener that hands everything worth keeping to the recorder."""

    def __init__(self, recorder: Recorder, books: dict[int, OrderBook], clock: Clock) -> None:
        self.recorder = recorder
        self.books = books
        self.clock = clock
        self.updates = 0
        self.states: dict[int, str] = {}

    def on_book(self, instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> None:
        """A book changed (counted)."""
        self.updates += 1

    def on_book_delta(self, delta: BookDelta) -> None:
        """A diff applied to a live book: recorded."""
        self.recorder.book_delta(delta)

    def on_trade(self, trade: Trade) -> None:
        """A trade: recorded."""
        self.recorder.trade(trade)

    def on_link(self, state: LinkState) -> None:
        """Link changes are logged by the feed."""

    def on_book_state(self, instrument: int, state: BookState, reason: ResyncReason | None) -> None:
        """A book that goes live is recorded whole, as a snapshot row."""
        self.states[instrument] = state
        if state == "live":
            self.recorder.book_live(instrument, self.books[instrument], 0, self.clock.time_ns())

    def on_malformed(self, stream: str, error: MalformedMessage) -> None:
        """Malformed frames are counted and logged by the feed (and recorded raw)."""


def feed_for(
    config: EngineConfig,
    instruments: list[Instrument],
    books: dict[int, OrderBook],
    listener: RecordingListener,
    ws_url: str,
    rest_url: str,
    clock: Clock,
) -> Feed:
    """The market-data feed of the configured venue.

    Raises:
        RecordError: the venue has no market-data feed here.
    """
    venue = config.venue
    if venue.name in ("sim", "binance"):
        return BinanceSpotFeed(
            instruments,
            books,
            listener,
            ws_url=ws_url,
            rest_url=rest_url,
            depth_limit=venue.depth_limit,
            depth_interval_ms=config.sim.depth_interval_ms if venue.name == "sim" else 100,
            venue=venue.name,
            clock=clock,
        )
    if venue.name == "binance-usdm":
        from engine.venues.binance_usdm.feed import BinanceUsdmFeed

        return BinanceUsdmFeed(
            instruments,
            books,
            listener,
            ws_url=ws_url,
            rest_url=rest_url,
            depth_limit=venue.depth_limit,
            depth_interval_ms=100,
            venue=venue.name,
            clock=clock,
        )
    if venue.name == "bybit-linear":
        from engine.feeds import BYBIT_DEPTH, MARKET_WS
        from engine.venues.bybit.feed import BybitPublicFeed

        return BybitPublicFeed(
            instruments,
            books,
            listener,
            ws_url=ws_url or MARKET_WS[venue.name],
            category="linear",
            depth=BYBIT_DEPTH,
            venue=venue.name,
            clock=clock,
        )
    market_only = _market_only_feed(
        venue.name, instruments, books, listener, ws_url, rest_url, clock
    )
    if market_only is not None:
        return market_only
    raise RecordError(f"no market-data feed to record venue {venue.name!r} from yet")


def _market_only_feed(
    name: str,
    instruments: list[Instrument],
    books: dict[int, OrderBook],
    listener: RecordingListener,
    ws_url: str,
    rest_url: str,
    clock: Clock,
) -> Feed | None:
    """OKX, Kraken, Coinbase or Hyperliquid on ``<ws host><path>``, as the engine builds them."""
    from engine.market_feeds import MARKET_REST, MARKET_WS, WS_PATH

    if name not in WS_PATH:
        return None
    url = (ws_url or MARKET_WS[name]).rstrip("/") + WS_PATH[name]
    if name == "okx":
        from engine.venues.okx.feed import OkxFeed

        rest = rest_url or MARKET_REST["okx"]
        return OkxFeed(
            instruments, books, listener, ws_url=url, rest_url=rest, venue=name, clock=clock
        )
    if name == "kraken":
        from engine.venues.kraken.feed import KrakenFeed

        return KrakenFeed(instruments, books, listener, ws_url=url, venue=name, clock=clock)
    if name == "coinbase":
        from engine.venues.coinbase.feed import CoinbaseFeed

        return CoinbaseFeed(instruments, books, listener, ws_url=url, venue=name, clock=clock)
    from engine.venues.hyperliquid.feed import HyperliquidFeed

    return HyperliquidFeed(instruments, books, listener, ws_url=url, venue=name, clock=clock)


async def record(
    config: EngineConfig,
    *,
    config_path: str | None = None,
    root: str | Path | None = None,
    duration_s: float | None = None,
    clock: Clock | None = None,
    venue_urls: tuple[str, str] | None = None,
) -> RecorderStats:
    """Record the configured venue into the catalog until stopped; the recorder's final stats.

    Raises:
        RecordError: the venue cannot be recorded from.
        engine.instrument_resolve.InstrumentsUnresolved: grids left to the venue it cannot give.
        engine.sim.process.SimVenueError: the local venue did not start.
    """
    clock = clock or LiveClock()
    if any(i.from_venue for i in config.instruments):
        from engine.instrument_resolve import resolve_instruments

        config = await resolve_instruments(config)
    instruments = config.instrument_list()
    books = {i.instrument_id: OrderBook(i.symbol) for i in instruments}
    sim: SimVenueProcess | None = None
    if venue_urls is not None:
        ws_url, rest_url = venue_urls
    elif config.venue.name == "sim" and not config.venue.ws_url:
        sim = SimVenueProcess(config_path)
        await sim.start()
        ws_url, rest_url = sim.ws_url, sim.rest_url
    else:
        ws_url, rest_url = config.venue.ws_url, config.venue.rest_url
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    recorder = recorder_for(config, instruments, root=root, on_alert=_log_alert, loop=loop)
    # the compiled readers load (or compile) before the clock starts, not inside the duration
    await asyncio.to_thread(warm_up)
    try:
        listener = RecordingListener(recorder, books, clock)
        feed = feed_for(config, instruments, books, listener, ws_url, rest_url, clock)
        tap_feed(feed, recorder.raw)
        recorder.start()
        log.info(
            "recording",
            extra={"venue": config.venue.name, "root": str(recorder.root), "ws": ws_url},
        )
        task = asyncio.create_task(feed.run(), name="record-feed")
        waiter = asyncio.ensure_future(stop.wait())
        timeout = duration_s if duration_s and duration_s > 0 else None
        await asyncio.wait([task, waiter], timeout=timeout, return_when="FIRST_COMPLETED")
        waiter.cancel()
        await feed.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        stats = await asyncio.to_thread(recorder.stop)
        if sim is not None:
            await sim.stop()
    return stats


def _log_alert(level: AlertLevel, message: str) -> None:
    log.warning(message, extra={"level": str(level)})
