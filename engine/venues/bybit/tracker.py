"""What the Bybit gateway remembers of each order it sent, so its reports reach the OMS in order.

Bybit reports an order in three places that race each other: the REST ack (``orderId`` only),
the ``order`` topic (states) and the ``execution`` topic (fills). The OMS wants the ack before
any fill or ending of the same order (:class:`~engine.venues.base.GatewayListener`), so when a
fill or an ending arrives for an order not yet acknowledged, an ACCEPTED is put before it, made
from what we sent and the venue's order id. Everything else passes as it came, duplicates
included (a second ACCEPTED, a late REST ack after the stream's ending): the OMS deduplicates
by venue order id and fill id.

Finished orders are kept for ``keep_done`` more finished orders, for late and duplicate reports.
"""

from __future__ import annotations

from collections import deque

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.venues.bybit.orders import VENUE

_K = OrderUpdateKind
_FINAL = frozenset({_K.CANCELED, _K.EXPIRED, _K.REJECTED})


class TrackedOrder:
    """One client order id as far as the gateway knows it."""

    __slots__ = (
        "acked",
        "client_order_id",
        "done",
        "fill_ids",
        "filled",
        "instrument",
        "order_type",
        "price_ticks",
        "reduce_only",
        "side",
        "size_lots",
        "time_in_force",
        "venue",
        "venue_order_id",
    )

    def __init__(self, order: SubmitOrder, venue: str = VENUE) -> None:
        self.venue = venue
        self.client_order_id = order.client_order_id
        self.instrument = order.instrument
        self.side: Side = order.side
        self.price_ticks = order.price_ticks
        self.size_lots = order.size_lots
        self.order_type: OrderType = order.order_type
        self.time_in_force: TimeInForce = order.time_in_force
        self.reduce_only = order.reduce_only
        self.venue_order_id = ""
        self.acked = False
        """An ACCEPTED was passed on."""
        self.filled = 0
        """Lots filled, each fill id counted once."""
        self.fill_ids: set[str] = set()
        self.done = False

    def update(
        self, kind: OrderUpdateKind, recv_ts: int, *, reason: str = "", code: int = 0
    ) -> OrderUpdate:
        """An update of this order as we know it."""
        return OrderUpdate(
            venue=self.venue,
            instrument=self.instrument,
            client_order_id=self.client_order_id,
            kind=kind,
            venue_order_id=self.venue_order_id,
            reason=reason,
            code=code,
            price_ticks=self.price_ticks,
            size_lots=self.size_lots,
            filled_lots=self.filled,
            recv_ts=recv_ts,
        )


class OrderTracker:
    """Every order the gateway is tracking, by client order id.

    Args:
        keep_done: how many finished orders to remember for late reports.
        venue: the venue name the updates carry (the gateway's).
    """

    def __init__(self, keep_done: int = 10_000, venue: str = VENUE) -> None:
        self.venue = venue
        self._orders: dict[str, TrackedOrder] = {}
        self._done: deque[str] = deque()
        self.keep_done = keep_done

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, client_order_id: str) -> TrackedOrder | None:
        """The order, if tracked."""
        return self._orders.get(client_order_id)

    def add(self, order: SubmitOrder) -> TrackedOrder:
        """Start tracking a new order (a client id reused for a new order starts afresh)."""
        tracked = self._orders[order.client_order_id] = TrackedOrder(order, self.venue)
        return tracked

    def finish(self, tracked: TrackedOrder) -> None:
        """The order is over; forget it after ``keep_done`` more orders finished."""
        if tracked.done:
            return
        tracked.done = True
        self._done.append(tracked.client_order_id)
        while len(self._done) > self.keep_done:
            old = self._done.popleft()
            gone = self._orders.get(old)
            if gone is not None and gone.done:
                del self._orders[old]

    # ---- reports ---------------------------------------------------------------------------------

    def acked(self, tracked: TrackedOrder, venue_order_id: str, recv_ts: int) -> OrderUpdate:
        """The REST ack of a new order, as ACCEPTED."""
        tracked.venue_order_id = tracked.venue_order_id or venue_order_id
        tracked.acked = True
        return tracked.update(_K.ACCEPTED, recv_ts)

    def on_update(self, update: OrderUpdate) -> list[OrderUpdate]:
        """A stream update; returns what to pass on (an ACCEPTED first when one is due)."""
        tracked = self._orders.get(update.client_order_id)
        if tracked is None:
            return [update]
        out: list[OrderUpdate] = []
        kind = update.kind
        if update.venue_order_id and not tracked.venue_order_id:
            tracked.venue_order_id = update.venue_order_id
        if kind is _K.ACCEPTED:
            tracked.acked = True
        elif kind in _FINAL:
            if not tracked.acked and kind is not _K.REJECTED:
                tracked.acked = True
                out.append(tracked.update(_K.ACCEPTED, update.recv_ts))
            self.finish(tracked)
        elif kind is _K.REPLACED:
            tracked.price_ticks = update.price_ticks or tracked.price_ticks
            tracked.size_lots = update.size_lots or tracked.size_lots
        out.append(update)
        return out

    def on_fill(self, fill: Fill) -> list[OrderUpdate | Fill]:
        """A stream fill; returns what to pass on (an ACCEPTED first when one is due)."""
        tracked = self._orders.get(fill.client_order_id)
        if tracked is None:
            return [fill]
        out: list[OrderUpdate | Fill] = []
        if not tracked.venue_order_id:
            tracked.venue_order_id = fill.venue_order_id
        if not tracked.acked:
            tracked.acked = True
            out.append(tracked.update(_K.ACCEPTED, fill.recv_ts))
        if fill.trade_id not in tracked.fill_ids:
            tracked.fill_ids.add(fill.trade_id)
            tracked.filled += fill.size
            if tracked.filled >= tracked.size_lots:
                self.finish(tracked)
        out.append(fill)
        return out

    def replaced(
        self, tracked: TrackedOrder, price_ticks: int, size_lots: int, recv_ts: int
    ) -> OrderUpdate:
        """An amend the venue took: the order works on at the new price and size."""
        tracked.price_ticks = price_ticks
        tracked.size_lots = size_lots
        return tracked.update(_K.REPLACED, recv_ts)
