"""The seams between venues and the engine: market-data feeds and order-entry gateways.

A feed owns one venue connection and keeps a set of :class:`~engine.book.order_book.OrderBook`
objects in sync with the venue. It reports through a :class:`FeedListener` (the engine) and counts
what happened in :class:`FeedStats`. Every venue's feed implements :class:`Feed`.

A gateway sends our orders to one venue (or to the simulated matching core in paper mode and
backtests) and reports acks, rejects, cancels and fills to a :class:`GatewayListener` (the OMS).
Every venue's gateway implements :class:`Gateway`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import msgspec

from engine.core.commands import (
    CancelOrder,
    OrderType,
    ReplaceOrder,
    SubmitOrder,
    TimeInForce,
)
from engine.core.events import BookDelta, Fill, OrderUpdate, Side
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

    def on_book_delta(self, delta: BookDelta) -> None:
        """A diff was applied to a live book; called just before :meth:`on_book` for it.

        Diffs replayed while a book syncs are not passed: the book going live is reported by
        :meth:`on_book_state` and the whole book can be read then.
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
    unknown: int = 0
    """Frames of kinds or streams the feed does not consume: counted and ignored."""
    gaps: int = 0
    """Sequence gaps detected on any book."""
    resyncs: int = 0
    """Times a book was thrown away and synced again (gap, crossed, malformed, reconnect)."""
    reconnects: int = 0
    """Connections opened after the first one."""
    snapshots: int = 0
    """REST book snapshots received and parsed."""
    top_checks: int = 0
    """Times the venue's own top of book (bookTicker) at the book's update id was compared."""
    failures_in_row: int = 0
    """Connections in a row that failed or did not stay up long enough to count as healthy."""
    reconnects_throttled: int = 0
    """Reconnect waits lengthened by the cap on attempts per minute."""
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


# ---- order entry ---------------------------------------------------------------------------------


class GatewayListener(Protocol):
    """What a gateway tells the OMS. Callbacks run on the engine's loop and must not block.

    The gateway reports a venue's ack before any fill of the same order; fills may still arrive
    after a cancel was requested. Unknown ids, duplicates and out-of-order reports are passed on
    as they came: the OMS decides (reconcile, alert), the gateway never drops them silently.
    """

    def on_order_update(self, update: OrderUpdate) -> None:
        """An order was accepted, rejected, canceled, replaced or expired."""
        ...

    def on_fill(self, fill: Fill) -> None:
        """One execution of one of our orders."""
        ...

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """The order link became usable, or bad (garbage answers, user stream lost, banned).

        While a link is bad no new order is sent on it; it turns healthy again only after a
        reconciliation succeeded.
        """
        ...


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One open order as the venue reports it, for reconciliation (the venue is the truth)."""

    instrument: int
    client_order_id: str
    venue_order_id: str
    side: Side
    price_ticks: int
    size_lots: int
    filled_lots: int
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    open: bool = True
    """False for an order the venue has finished (filled, canceled, expired, rejected); only
    :meth:`Gateway.order_status` reports such orders."""


class VenuePosition(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's view of our net position in one instrument, in lots (spot: base balance)."""

    instrument: int
    net_lots: int
    inventory: bool = False
    """True when ``net_lots`` is a balance held (spot), which includes what was there before this
    engine ever traded; reconciliation then compares changes from its first look, not totals."""


class RateUsage(msgspec.Struct, frozen=True, kw_only=True):
    """One rate limiter's use: ``used`` of ``limit`` in the current window of ``window_s``."""

    name: str
    used: int
    limit: int
    window_s: float
    queued: int = 0
    """Requests waiting for budget right now."""


class GatewayStats(msgspec.Struct, kw_only=True):
    """Running counters of one gateway, read by ``/status``, metrics and the TUI."""

    requests: int = 0
    """Requests sent to the venue."""
    rejects: int = 0
    """Orders, cancels and replaces the venue refused."""
    errors: int = 0
    """Requests that failed otherwise (rate limit, unknown status, garbage, network)."""
    healthy: bool = False
    """True while orders may be sent on this link."""
    reason: str = ""
    """Why the link is not healthy."""
    rate: list[RateUsage] = msgspec.field(default_factory=list)
    """Every rate limiter's current use."""


class Gateway(Protocol):
    """Order entry on one venue: the same calls for a real venue and the simulated matching core.

    ``submit``, ``cancel`` and ``replace`` never block: they start the request and return; the
    outcome comes back through the :class:`GatewayListener`. ``cancel_all`` and the queries
    return when the venue has answered.
    """

    venue: str
    stats: GatewayStats

    async def start(self) -> None:
        """Connect (user stream, clock sync) and become healthy."""
        ...

    async def stop(self) -> None:
        """Close connections; pending requests are abandoned (reconciliation finds them)."""
        ...

    def submit(self, order: SubmitOrder) -> None:
        """Send a new order that has passed every risk check."""
        ...

    def cancel(self, cancel: CancelOrder) -> None:
        """Ask the venue to cancel one order."""
        ...

    def replace(self, replace: ReplaceOrder) -> None:
        """Ask the venue to change one order's price and/or size."""
        ...

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order of ours on one instrument (-1: all) and wait for the answer."""
        ...

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us."""
        ...

    async def positions(self) -> list[VenuePosition]:
        """The venue's net position per instrument we trade."""
        ...

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """The venue's record of one of our orders, open or finished; None when it has none.

        Reconciliation asks this for orders sent but never acknowledged (the engine died or the
        answer was lost): the venue either took them (and may have filled them) or never saw them.
        """
        ...

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our executions since ``since_ns``, oldest first, with the same trade ids as reports.

        Reconciliation books them (duplicates change nothing), so fills that happened while the
        engine was down or the user stream was lost are not missed. ``client_of`` maps venue
        order ids to our client order ids for venues whose trade records carry only theirs.
        """
        ...
