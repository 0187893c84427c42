"""The Binance USD-M futures market-data feed: diff depth with ``pu``, trades, ``/fapi/v1/depth``.

The Binance feed (:class:`~engine.venues.binance.feed.BinanceDepthFeed`) with the futures
parts: :class:`~engine.venues.binance_usdm.protocol.BinanceUsdmParser`,
:class:`~engine.venues.binance_usdm.sync.FuturesBookSync` (venues.md §2.4) and the futures
snapshot path and limits. Since 2026-04-23 USD-M streams are routed (§2.1): depth and the
undocumented ``@trade`` ride on ``/public``, so one connection to
``<ws_url>/public/stream?streams=...`` carries both, as the local venue serves them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.venues.binance.feed import BinanceDepthFeed
from engine.venues.binance_usdm import protocol
from engine.venues.binance_usdm.protocol import BinanceUsdmParser, stream_names
from engine.venues.binance_usdm.sync import FuturesBookSync

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.clock import Clock
    from engine.core.instruments import Instrument
    from engine.venues.backoff import Backoff
    from engine.venues.base import FeedListener

PUBLIC_ROUTE = "/public"
"""The routed base of depth (and ``@trade``) streams under the venue's WebSocket host."""


class BinanceUsdmFeed(BinanceDepthFeed):
    """Keeps ``books`` in sync with Binance USD-M (or the local venue's USD-M streams).

    Args:
        instruments: what to subscribe to; ids key ``books``.
        books: one book per instrument id, owned by the engine and updated in place.
        listener: told about books, trades, link and book states, malformed frames.
        ws_url: the WebSocket host, e.g. ``wss://fstream.binance.com``; ``/public`` is added.
        rest_url: REST base, e.g. ``https://fapi.binance.com``.
        depth_limit: levels per side wanted in snapshots (rounded up to a limit the venue
            takes, at most 1000).
        depth_interval_ms: diff cadence: 0, 100, 250 or 500.
        venue: venue name for logs and errors.
        clock: receive timestamps and liveness; the machine's clocks by default.
        backoff: reconnect delays; 100 ms doubling to 30 s with jitter by default.
        stale_after_s: a link silent this long is reconnected (the venue pings every 3 min).
        book_ticker: also read ``@bookTicker`` (on ``/public`` too) and rebuild a book whose
            top disagrees with it at the same ``u`` (venues.md §9.5).
    """

    depth_path = "/fapi/v1/depth"
    parser_class = BinanceUsdmParser
    sync_class = FuturesBookSync

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
        venue: str = "binance-usdm",
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        stale_after_s: float = 60.0,
        book_ticker: bool = True,
    ) -> None:
        super().__init__(
            instruments,
            books,
            listener,
            ws_url=_public(ws_url),
            rest_url=rest_url,
            depth_limit=protocol.depth_limit(depth_limit),
            depth_interval_ms=depth_interval_ms,
            venue=venue,
            clock=clock,
            backoff=backoff,
            stale_after_s=stale_after_s,
            book_ticker=book_ticker,
        )

    def _stream_names(self, depth_interval_ms: int) -> list[str]:
        return stream_names(self.instruments, depth_interval_ms)


def _public(ws_url: str) -> str:
    """The ``/public`` route of a USD-M WebSocket host (kept when already given)."""
    base = ws_url.rstrip("/")
    return base if base.endswith(PUBLIC_ROUTE) else base + PUBLIC_ROUTE
