"""Commands: what a strategy or an operator asks the engine to do, as frozen records.

Commands are named in the imperative (``SubmitOrder``, ``CancelOrder``); what the venue answers
comes back as events. Prices are integer ticks and sizes integer lots of the order's instrument;
text from an operator is converted (and refused when off the grid) by
:func:`engine.oms.order.validate_order` before a command is built.
"""

from __future__ import annotations

import enum

import msgspec

from engine.core.events import Side


class OrderType(enum.StrEnum):
    """How the order prices itself."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.StrEnum):
    """How long the order rests."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class SubmitOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Send a new order; it passes every pre-trade risk check before it leaves the engine."""

    client_order_id: str
    """Our id, ``<instance>-<counter>``."""
    instrument: int
    """Dense instrument id."""
    side: Side
    """BUY or SELL."""
    size_lots: int
    """Order size in lots; must be positive."""
    price_ticks: int = 0
    """Limit price in ticks; 0 for a market order."""
    order_type: OrderType = OrderType.LIMIT
    """LIMIT or MARKET."""
    time_in_force: TimeInForce = TimeInForce.GTC
    """GTC, IOC, FOK or POST_ONLY."""
    reduce_only: bool = False
    """Only ever shrink the position: refused (or cut) when it would grow or flip it."""
    strategy: str = ""
    """The strategy that sent it, or empty for an operator's manual order."""


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel one of our open orders."""

    client_order_id: str
    """The order to cancel."""
    instrument: int
    """Dense instrument id of the order."""


class ReplaceOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Change the price and/or size of one of our open orders.

    Keeping the price and lowering the size keeps the order's queue position where the venue
    supports it; any other change is a cancel and a new order at the back of the queue.
    """

    client_order_id: str
    """The order to change."""
    instrument: int
    """Dense instrument id of the order."""
    price_ticks: int
    """The new limit price in ticks."""
    size_lots: int
    """The new total size in lots (filled lots included); must exceed the lots already filled."""


class CancelAll(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel every open order of ours, on one instrument or (``instrument`` = -1) on all."""

    instrument: int = -1
    """Dense instrument id, or -1 for every instrument."""
    reason: str = ""
    """Why, for the log and the journal (``kill switch (ui)``, ``strategy stopped``)."""
