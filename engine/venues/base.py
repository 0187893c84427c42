"""The seam between venue feeds and the engine: what a feed reports and how it is driven.

A feed owns one venue connection and keeps a set of :class:`~engine.book.order_book.OrderBook`
objects in sync with the venue. It reports through a :class:`FeedListener` (the engine) and counts
what happened in :class:`FeedStats`. Every venue's feed implements :class:`Feed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import msgspec

from engine.ipc.protocol import BookState, LinkState, ResyncReason

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.events import Trade
    from engine.errors import MalformedMessage


class FeedListener(Protocol):
    """What a feed tells the engine. Callbacks run on the feed's event loop and must not block."""

    def on_book(self, instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> None:
        """A book changed: after a snapshot plus replay, or after each applied diff.

        ``exch_ts`` is the venue time of the last diff applied, 0 when unknown (a REST snapshot
        carries none); ``recv_ts`` is when its frame arrived.

        Called only while the book is live and uncrossed.
        """
        ...

    def on_trade(self, trade: Trade) -> None:
        """A public trade printed."""
        ...

    def on_link(self, state: LinkState) -> None:
        """The connection to the venue changed state."""
        ...

    def on_book_state(self, instrument: int, state: BookState, reason: ResyncReason | None) -> None:
        """A book started syncing (with the reason it was thrown away), went live, or went stale."""
        ...

    def on_malformed(self, stream: str, error: MalformedMessage) -> None:
        """A frame on ``stream`` could not be parsed; the feed has counted and logged it."""
        ...


class FeedStats(msgspec.Struct, kw_only=True):
    """Running counters of one feed, read by the engine's status page and metrics."""

    frames: int = 0
    """WebSocket frames received."""
    malformed: int = 0
    """Frames or snapshots that could not be parsed."""
    gaps: int = 0
    """Sequence gaps detected on any book."""
    resyncs: int = 0
    """Times a book was thrown away and synced again (gap, crossed, malformed, reconnect)."""
    reconnects: int = 0
    """Connections opened after the first one."""
    snapshots: int = 0
    """REST book snapshots received and parsed."""
    link: LinkState = LinkState.DISCONNECTED
    """The connection's current state."""


class Feed(Protocol):
    """A venue market-data feed."""

    stats: FeedStats

    async def run(self) -> None:
        """Connect, sync and keep syncing until cancelled or stopped."""
        ...

    async def stop(self) -> None:
        """Close the connection and release resources; ``run`` returns soon after."""
        ...
