"""What the Binance gateway remembers about each order it sent, to word the venue's reports right.

Binance reports every order twice (the REST answer and the user stream) and a cancel-replace as
two orders: the old one CANCELED and a new one NEW under the same client order id. The OMS knows
one order per client id, so this table keeps, per client id: side, type and time in force (a
replace needs them), the current venue order id, the lots filled (counted once per fill id),
the lots filled on the venue orders it replaced, and the replace in flight.

How reports are passed on (every one of them is, except the cancel half of our own replace):

- a fill, an ack, a cancel, an expiry: as they came; duplicates included, the OMS dedups;
  except the stream's NEW of a venue order a later replace already took away (the REST answers
  outran the stream): that one is dropped, since the OMS only knows the order's current venue id;
- the stream's NEW for the replacement order, while our replace is in flight: as REPLACED (the
  REST answer that follows is then passed as an ACCEPTED of the new venue order, a duplicate);
- the stream's CANCELED of the venue order our replace took away: held back, because it is the
  first half of the replace; should the replace fail after all, it is passed on then;
- stream reports of a replacement order count the lots filled before it into size and filled,
  so the OMS sees one order with one size throughout.

Finished orders are kept for ``keep_done`` more finished orders, for late and duplicate reports.
"""

from __future__ import annotations

import logging
from collections import deque

import msgspec

from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.venues.base import VenueOrder
from engine.venues.binance.orders import Events
from engine.venues.binance.replace import ReplaceOutcome

log = logging.getLogger("engine.venues.binance")

_FINAL = frozenset({OrderUpdateKind.CANCELED, OrderUpdateKind.EXPIRED, OrderUpdateKind.REJECTED})


class WorkingOrder:
    """One client order id's state as far as the gateway knows it."""

    __slots__ = (
        "client_order_id",
        "done",
        "fill_ids",
        "filled",
        "filled_before",
        "held_cancel",
        "instrument",
        "order_type",
        "price_ticks",
        "replace_reported",
        "replaced_ids",
        "replacing",
        "side",
        "size_lots",
        "time_in_force",
        "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        instrument: int,
        side: Side,
        price_ticks: int,
        size_lots: int,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> None:
        self.client_order_id = client_order_id
        self.instrument = instrument
        self.side = side
        self.price_ticks = price_ticks
        self.size_lots = size_lots
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.venue_order_id = ""
        self.filled = 0
        """Lots filled under this client id, each fill id counted once."""
        self.fill_ids: set[str] | None = None
        """Fill ids seen (made at the first fill)."""
        self.filled_before = 0
        """Lots filled on the venue orders the current one replaced."""
        self.replacing: ReplaceOrder | None = None
        self.replace_reported = False
        """The stream's NEW of the replacement was already passed on as REPLACED."""
        self.replaced_ids: set[str] = set()
        """Venue order ids our replaces took away."""
        self.held_cancel: OrderUpdate | None = None
        self.done = False

    def as_submit(self) -> SubmitOrder:
        """The order as it works now, for a replace's new half."""
        return SubmitOrder(
            client_order_id=self.client_order_id,
            instrument=self.instrument,
            side=self.side,
            size_lots=self.size_lots,
            price_ticks=self.price_ticks,
            order_type=self.order_type,
            time_in_force=self.time_in_force,
        )


class WorkingOrders:
    """Every order the gateway is tracking, by client order id.

    Args:
        keep_done: how many finished orders to remember for late reports.
    """

    def __init__(self, keep_done: int = 10_000) -> None:
        self._orders: dict[str, WorkingOrder] = {}
        self._done: deque[str] = deque()
        self.keep_done = keep_done

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, client_order_id: str) -> WorkingOrder | None:
        """The order, if tracked."""
        return self._orders.get(client_order_id)

    def live(self, instrument: int = -1) -> list[WorkingOrder]:
        """Orders not finished yet, on one instrument (-1: every one), oldest first."""
        return [
            w
            for w in self._orders.values()
            if not w.done and (instrument < 0 or w.instrument == instrument)
        ]

    def add(self, order: SubmitOrder) -> WorkingOrder:
        """Start tracking a new order (a client id reused for a new order starts afresh)."""
        working = WorkingOrder(
            order.client_order_id,
            order.instrument,
            order.side,
            order.price_ticks,
            order.size_lots,
            order.order_type,
            order.time_in_force,
        )
        self._orders[order.client_order_id] = working
        return working

    def adopt(self, order: VenueOrder) -> VenueOrder:
        """Track an open order the venue reported; returns it with replaced fills counted in."""
        working = self._orders.get(order.client_order_id)
        if working is None or working.done:
            working = WorkingOrder(
                order.client_order_id,
                order.instrument,
                order.side,
                order.price_ticks,
                order.size_lots,
                order.order_type,
                order.time_in_force,
            )
            working.venue_order_id = order.venue_order_id
            working.filled = order.filled_lots
            self._orders[order.client_order_id] = working
            return order
        before = working.filled_before if order.venue_order_id == working.venue_order_id else 0
        if not before:
            return order
        return msgspec.structs.replace(
            order, size_lots=order.size_lots + before, filled_lots=order.filled_lots + before
        )

    def finish(self, working: WorkingOrder) -> None:
        """The order is over; forget it after ``keep_done`` more orders finished."""
        if working.done:
            return
        working.done = True
        self._done.append(working.client_order_id)
        while len(self._done) > self.keep_done:
            old = self._done.popleft()
            gone = self._orders.get(old)
            if gone is not None and gone.done:
                del self._orders[old]

    # ---- reports ---------------------------------------------------------------------------------

    def on_events(self, events: Events, *, stream: bool) -> Events:
        """Book reports from REST (``stream=False``) or the user stream; returns what to pass on."""
        out: Events = []
        for event in events:
            if type(event) is Fill:
                self._on_fill(event)
                out.append(event)
                continue
            assert isinstance(event, OrderUpdate)
            update = self._on_update(event, stream=stream)
            if update is not None:
                out.append(update)
        return out

    def _on_fill(self, fill: Fill) -> None:
        working = self._orders.get(fill.client_order_id)
        if working is None:
            return
        seen = working.fill_ids
        if seen is None:
            seen = working.fill_ids = set()
        elif fill.trade_id in seen:
            return
        seen.add(fill.trade_id)
        working.filled += fill.size
        if working.filled >= working.size_lots and working.replacing is None:
            self.finish(working)

    def _on_update(self, update: OrderUpdate, *, stream: bool) -> OrderUpdate | None:
        working = self._orders.get(update.client_order_id)
        if working is None:
            return update
        venue_id = update.venue_order_id
        kind = update.kind
        if (
            stream
            and kind is OrderUpdateKind.CANCELED
            and self._is_replace_cancel(working, venue_id)
        ):
            log.debug(
                "cancel half of our replace held back",
                extra={"client_order_id": working.client_order_id, "venue_order_id": venue_id},
            )
            if working.replacing is not None:
                working.held_cancel = update
            return None
        if stream and working.filled_before and venue_id == working.venue_order_id:
            before = working.filled_before
            update = msgspec.structs.replace(
                update, size_lots=update.size_lots + before, filled_lots=update.filled_lots + before
            )
        if kind is OrderUpdateKind.ACCEPTED:
            return self._on_ack(working, update, stream=stream)
        if kind is OrderUpdateKind.REPLACED:
            working.price_ticks = update.price_ticks or working.price_ticks
            working.size_lots = update.size_lots or working.size_lots
        elif kind in _FINAL:
            self.finish(working)
        return update

    @staticmethod
    def _is_replace_cancel(working: WorkingOrder, venue_id: str) -> bool:
        if venue_id in working.replaced_ids:
            return True
        return working.replacing is not None and venue_id == working.venue_order_id

    def _on_ack(
        self, working: WorkingOrder, update: OrderUpdate, *, stream: bool
    ) -> OrderUpdate | None:
        venue_id = update.venue_order_id
        if stream and venue_id and venue_id in working.replaced_ids:
            # the stream's NEW of a venue order that a later replace already took away: the
            # REST answers told the OMS about it and more since; passed on it would read as a
            # second ack of the order working now
            log.debug(
                "late ack of a replaced venue order dropped",
                extra={"client_order_id": working.client_order_id, "venue_order_id": venue_id},
            )
            return None
        replacing = working.replacing
        if (
            stream
            and replacing is not None
            and venue_id
            and working.venue_order_id
            and venue_id != working.venue_order_id
            and venue_id not in working.replaced_ids
        ):
            # the replacement's NEW came before the REST answer: this is the replace taking effect
            working.replaced_ids.add(working.venue_order_id)
            working.venue_order_id = venue_id
            working.filled_before = working.filled
            working.replace_reported = True
            working.price_ticks = update.price_ticks
            working.size_lots = working.filled + update.size_lots
            return msgspec.structs.replace(
                update,
                kind=OrderUpdateKind.REPLACED,
                size_lots=working.size_lots,
                filled_lots=working.filled,
            )
        if not working.venue_order_id and venue_id:
            working.venue_order_id = venue_id
        return update

    # ---- replaces --------------------------------------------------------------------------------

    def begin_replace(self, working: WorkingOrder, replace: ReplaceOrder) -> None:
        """A cancel-replace for ``working`` is on its way."""
        working.replacing = replace
        working.replace_reported = False
        working.held_cancel = None

    def end_replace(self, working: WorkingOrder, outcome: ReplaceOutcome) -> Events:
        """The venue answered our cancel-replace; returns what to pass on."""
        events = list(outcome.events)
        first = events[0] if events else None
        if isinstance(first, OrderUpdate) and first.kind is OrderUpdateKind.REPLACED:
            if outcome.canceled_order_id:
                working.replaced_ids.add(outcome.canceled_order_id)
            working.venue_order_id = outcome.new_order_id or working.venue_order_id
            working.filled_before = outcome.filled_before
            working.price_ticks = first.price_ticks
            working.size_lots = first.size_lots
            if working.replace_reported:  # the stream said it first: this is a duplicate ack
                events[0] = msgspec.structs.replace(first, kind=OrderUpdateKind.ACCEPTED)
            working.held_cancel = None
        elif isinstance(first, OrderUpdate) and first.kind is OrderUpdateKind.CANCELED:
            if outcome.canceled_order_id:
                working.replaced_ids.add(outcome.canceled_order_id)
            working.held_cancel = None
            self.finish(working)
        working.replacing = None
        working.replace_reported = False
        out = self.on_events(events, stream=False) if events else []
        return out + self._release_held(working)

    def abandon_replace(self, working: WorkingOrder) -> Events:
        """Our cancel-replace got no usable answer: pass on whatever the stream said meanwhile."""
        working.replacing = None
        working.replace_reported = False
        return self._release_held(working)

    def _release_held(self, working: WorkingOrder) -> Events:
        held, working.held_cancel = working.held_cancel, None
        if held is None:
            return []
        working.replaced_ids.discard(held.venue_order_id)
        self.finish(working)
        return [held]
