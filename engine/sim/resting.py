"""Our own orders inside the matching core: the working order record and the resting book.

Only our orders are individual orders in the simulation; the public book is levels
(:mod:`engine.sim.mirror`). A :class:`SimOrder` carries its queue estimate ``ahead`` (public lots in
front of it at its price) and :class:`OrderView` is its read-only copy for callers.
:class:`RestingSide` keeps one side's resting orders by price, each
price level first in, first out, with the prices sorted for best-first walks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

import msgspec

from engine.core.commands import OrderType, TimeInForce
from engine.core.events import Side
from engine.oms.order import OrderStatus

LIVE = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
"""States of an order still working."""


class SimOrder:
    """One of our orders as the matching core works it (mutable; the core owns it)."""

    __slots__ = (
        "ahead",
        "client_order_id",
        "filled",
        "order_type",
        "price",
        "reduce_only",
        "resting",
        "side",
        "size",
        "status",
        "time_in_force",
        "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        venue_order_id: str,
        side: Side,
        price: int,
        size: int,
        order_type: OrderType,
        time_in_force: TimeInForce,
        reduce_only: bool,
    ) -> None:
        self.client_order_id = client_order_id
        self.venue_order_id = venue_order_id
        self.side = side
        self.price = price
        """Limit price in ticks; 0 for a market order."""
        self.size = size
        self.filled = 0
        self.ahead = 0
        """Public lots ahead of the order in its level's queue (resting orders only)."""
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.reduce_only = reduce_only
        self.status = OrderStatus.ACCEPTED
        self.resting = False
        """On the resting book (kept by :class:`RestingSide`)."""

    @property
    def leaves(self) -> int:
        """Lots still to fill."""
        return self.size - self.filled

    def __repr__(self) -> str:
        return (
            f"SimOrder({self.client_order_id} {self.side.name} {self.filled}/{self.size}"
            f" @ {self.price} ahead={self.ahead} {self.status})"
        )


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """A read-only look at one of our orders inside the core."""

    client_order_id: str
    venue_order_id: str
    side: Side
    price: int
    """Limit price in ticks; 0 for a market order."""
    size: int
    filled: int
    leaves: int
    """Lots still working; 0 once the order is done."""
    ahead: int
    """Public lots ahead of the order in its level's queue (resting orders)."""
    status: OrderStatus
    order_type: OrderType
    time_in_force: TimeInForce
    reduce_only: bool


def view(order: SimOrder) -> OrderView:
    """A read-only copy of one order's state."""
    live = order.status in LIVE
    return OrderView(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        side=order.side,
        price=order.price,
        size=order.size,
        filled=order.filled,
        leaves=order.leaves if live else 0,
        ahead=order.ahead if live else 0,
        status=order.status,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        reduce_only=order.reduce_only,
    )


class RestingSide:
    """Our resting orders on one side, by price; each level is a first-in, first-out list."""

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, side: Side) -> None:
        self.is_bid = side is Side.BUY
        self.levels: dict[int, list[SimOrder]] = {}
        self.prices: list[int] = []
        """Prices with resting orders, ascending."""

    def __bool__(self) -> bool:
        return bool(self.prices)

    def add(self, order: SimOrder) -> None:
        """Put ``order`` at the back of its price level."""
        order.resting = True
        level = self.levels.get(order.price)
        if level is None:
            self.levels[order.price] = [order]
            insort(self.prices, order.price)
        else:
            level.append(order)

    def remove(self, order: SimOrder) -> None:
        """Take ``order`` off the book (it must be resting)."""
        order.resting = False
        level = self.levels[order.price]
        level.remove(order)
        if not level:
            del self.levels[order.price]
            del self.prices[bisect_left(self.prices, order.price)]

    def at(self, price: int) -> list[SimOrder] | None:
        """The orders resting at ``price``, front of the queue first, or None."""
        return self.levels.get(price)

    def best(self) -> int | None:
        """Our best resting price on this side, or None."""
        prices = self.prices
        if not prices:
            return None
        return prices[-1] if self.is_bid else prices[0]

    def reaching(self, price: int, *, strict: bool = False) -> list[int]:
        """Our prices at ``price`` or better (strictly better with ``strict``), best first.

        Better is higher for bids and lower for asks.
        """
        prices = self.prices
        if self.is_bid:
            start = bisect_right(prices, price) if strict else bisect_left(prices, price)
            return prices[start:][::-1]
        stop = bisect_left(prices, price) if strict else bisect_right(prices, price)
        return prices[:stop]

    def best_first(self) -> list[int]:
        """Every price with resting orders, best first."""
        return self.prices[::-1] if self.is_bid else list(self.prices)
