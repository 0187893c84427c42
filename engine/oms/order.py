"""The order state machine: one order's lifecycle as a transition table, fills deduplicated.

```
New ─submit─► Submitted ─accepted─► Accepted ─partial fill─► PartiallyFilled ─fill─► Filled
 └─rejected─►     └─rejected─► Rejected
Accepted / PartiallyFilled ─cancel or replace request─► PendingCancel / PendingReplace
PendingCancel / PendingReplace ─cancel or replace rejected, replaced─► Accepted / PartiallyFilled
Fills still arrive while a request is pending. Canceled and Expired come from any acknowledged
live state. Filled, Canceled, Rejected and Expired are terminal.
```

:data:`TRANSITIONS` is the whole lifecycle. An event the table does not allow (a fill for a rejected
order, a duplicate ack, an overfill) never raises out of :meth:`Order.apply` unless the order is
strict: it is logged on the ``engine.oms`` logger with the order id, state and event, kept in
:attr:`Order.anomalies`, the order is marked :attr:`Order.needs_reconcile`, and an :class:`Anomaly`
is returned for the caller to raise as an alert. The gateway reports a venue's ack before any fill.

A cancel or replace that races the order's end (the venue filled, canceled or expired it while
our request was on its way) comes back as CANCEL_REJECTED or REPLACE_REJECTED for an order that
is already terminal. That is the normal outcome of the race, not an impossible event:
:meth:`Order.apply` returns a :class:`LateReport`, changes nothing and marks nothing for
reconciliation. Likewise a fill reported after the cancel or expiry (it matched before): the
order keeps its terminal state and counts the lots (:class:`LateFill`).
"""

from __future__ import annotations

import enum
import logging
from decimal import Decimal
from fractions import Fraction

import msgspec

from engine.core.commands import OrderType, TimeInForce
from engine.core.events import Fill, Side
from engine.core.instruments import Instrument
from engine.errors import EngineError, InstrumentError

logger = logging.getLogger("engine.oms")


class OrderStatus(enum.StrEnum):
    """Where an order is in its lifecycle."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REJECTED = "rejected"
    EXPIRED = "expired"


class OrderEventKind(enum.StrEnum):
    """What happened to an order: our requests and the venue's answers."""

    SUBMIT = "submit"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL_REQUEST = "cancel_request"
    CANCELED = "canceled"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACE_REQUEST = "replace_request"
    REPLACED = "replaced"
    REPLACE_REJECTED = "replace_rejected"
    EXPIRED = "expired"


class Resume(enum.Enum):
    """A table target that depends on the fills so far, not on the pending request."""

    LIVE = "live"
    """Back to the live state under the request: PartiallyFilled if lots filled, else Accepted."""


S, E = OrderStatus, OrderEventKind
_ACKED_LIVE = (S.ACCEPTED, S.PARTIALLY_FILLED)
_PENDING = (S.PENDING_CANCEL, S.PENDING_REPLACE)

TRANSITIONS: dict[tuple[OrderStatus, OrderEventKind], OrderStatus | Resume] = {
    (S.NEW, E.SUBMIT): S.SUBMITTED,
    (S.NEW, E.REJECTED): S.REJECTED,  # refused by our own checks before leaving the engine
    (S.SUBMITTED, E.ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, E.REJECTED): S.REJECTED,
    **{(s, E.PARTIAL_FILL): S.PARTIALLY_FILLED for s in _ACKED_LIVE},
    **{(s, E.PARTIAL_FILL): s for s in _PENDING},  # the venue filled before it saw our request
    **{(s, E.FILL): S.FILLED for s in (*_ACKED_LIVE, *_PENDING)},
    **{(s, E.CANCEL_REQUEST): S.PENDING_CANCEL for s in _ACKED_LIVE},
    **{(s, E.REPLACE_REQUEST): S.PENDING_REPLACE for s in _ACKED_LIVE},
    **{(s, E.CANCELED): S.CANCELED for s in (*_ACKED_LIVE, *_PENDING)},  # asked for or unsolicited
    **{(s, E.EXPIRED): S.EXPIRED for s in (*_ACKED_LIVE, *_PENDING)},
    (S.PENDING_CANCEL, E.CANCEL_REJECTED): Resume.LIVE,
    (S.PENDING_REPLACE, E.REPLACE_REJECTED): Resume.LIVE,
    (S.PENDING_REPLACE, E.REPLACED): Resume.LIVE,
}
"""``(state, event) -> next state``; every pair not listed is an impossible transition."""
del S, E

TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
"""States no event leaves."""

FILLED_AFTER_END = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED})
"""Terminal states a fill may still be reported in (it matched before the end took effect)."""

LATE_REPORTS = frozenset({OrderEventKind.CANCEL_REJECTED, OrderEventKind.REPLACE_REJECTED})
"""Answers to a request that may arrive after the order ended: benign on a terminal order."""


class InvalidTransition(EngineError):
    """An event the transition table does not allow for the order's state (strict orders only)."""

    def __init__(
        self, client_order_id: str, from_status: OrderStatus, kind: OrderEventKind, reason: str
    ) -> None:
        self.client_order_id = client_order_id
        self.from_status = from_status
        self.kind = kind
        self.reason = reason
        super().__init__(f"order {client_order_id}: {kind} in state {from_status}: {reason}")


class Transition(msgspec.Struct, frozen=True):
    """One applied event: the order went from ``from_status`` to ``to_status`` at ``ts_ns``."""

    kind: OrderEventKind
    from_status: OrderStatus
    to_status: OrderStatus
    ts_ns: int


class Anomaly(msgspec.Struct, frozen=True):
    """An impossible event: nothing changed and the order now needs reconciliation."""

    client_order_id: str
    kind: OrderEventKind
    from_status: OrderStatus
    ts_ns: int
    reason: str


class LateReport(msgspec.Struct, frozen=True):
    """A cancel or replace refused because the order had already ended: nothing changed."""

    client_order_id: str
    kind: OrderEventKind
    status: OrderStatus
    """The terminal state the order was (and stays) in."""
    ts_ns: int
    reason: str
    """The venue's text for the refusal."""


class LateFill(msgspec.Struct, frozen=True):
    """A fill reported after the order was canceled or expired: counted, the state unchanged.

    The venue matched it before the cancel or expiry took effect and reported the end first (a
    REST cancel answer ahead of the stream's trade report, for one): the fill belongs to the
    order, which stays in its terminal state with the lots filled.
    """

    client_order_id: str
    trade_id: str
    status: OrderStatus
    """The terminal state the order was (and stays) in."""
    ts_ns: int


class DuplicateFill(msgspec.Struct, frozen=True):
    """A fill already applied, seen again: nothing changed."""

    venue: str
    trade_id: str


class Order:
    """One order and everything that happened to it; mutated only through ``apply*``.

    Args:
        client_order_id: our id, ``<instance>-<counter>``.
        venue: venue name as in the config.
        instrument: dense instrument id.
        side: BUY or SELL.
        order_type: LIMIT or MARKET.
        time_in_force: GTC, IOC, FOK or POST_ONLY.
        price_ticks: limit price in ticks (0 for a market order).
        size_lots: order size in lots, positive.
        strict: raise :class:`InvalidTransition` instead of recording an anomaly (tests).
    """

    __slots__ = (
        "anomalies",
        "client_order_id",
        "fill_ids",
        "fill_notional",
        "filled_lots",
        "history",
        "instrument",
        "needs_reconcile",
        "order_type",
        "price_ticks",
        "reason",
        "side",
        "size_lots",
        "status",
        "strict",
        "time_in_force",
        "venue",
        "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        venue: str,
        instrument: int,
        side: Side,
        size_lots: int,
        price_ticks: int = 0,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        *,
        strict: bool = False,
    ) -> None:
        if size_lots <= 0:
            raise InstrumentError(f"order {client_order_id}: size {size_lots} lots must be > 0")
        self.client_order_id = client_order_id
        self.venue = venue
        self.instrument = instrument
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price_ticks = price_ticks
        self.size_lots = size_lots
        self.strict = strict
        self.status = OrderStatus.NEW
        self.filled_lots = 0
        #: sum of fill price ticks * lots; the exact average price is this over ``filled_lots``
        self.fill_notional = 0
        self.venue_order_id = ""
        #: the last rejection, cancel-reject or replace-reject reason the venue gave
        self.reason = ""
        self.history: list[Transition] = []
        self.anomalies: list[Anomaly] = []
        self.needs_reconcile = False
        #: ``(venue, trade_id)`` of every fill seen, applied or not
        self.fill_ids: set[tuple[str, str]] = set()

    @property
    def is_open(self) -> bool:
        """True until the order reaches a terminal state."""
        return self.status not in TERMINAL

    @property
    def leaves_lots(self) -> int:
        """Lots still working (0 once terminal)."""
        return self.size_lots - self.filled_lots if self.is_open else 0

    @property
    def avg_price(self) -> Fraction | None:
        """Exact volume-weighted fill price in ticks, or None before the first fill."""
        return Fraction(self.fill_notional, self.filled_lots) if self.filled_lots else None

    def apply(
        self,
        kind: OrderEventKind,
        ts_ns: int,
        *,
        venue_order_id: str = "",
        reason: str = "",
        price_ticks: int | None = None,
        size_lots: int | None = None,
    ) -> Transition | Anomaly | LateReport:
        """Apply one non-fill event (fills go through :meth:`apply_fill`).

        Args:
            kind: what happened.
            ts_ns: when, in integer nanoseconds.
            venue_order_id: the venue's id, given with ACCEPTED (and REPLACED if it changes).
            reason: the venue's text for a rejection.
            price_ticks: the new price, given with REPLACED.
            size_lots: the new size, given with REPLACED; must exceed the lots already filled.

        Returns:
            The transition made, the anomaly recorded when the table does not allow it, or a
            :class:`LateReport` for a cancel or replace refusal that reached a terminal order.

        Raises:
            InvalidTransition: for an impossible event when the order is strict.
            ValueError: for a fill kind, which needs the fill itself.
        """
        if kind in (OrderEventKind.FILL, OrderEventKind.PARTIAL_FILL):
            raise ValueError(f"order {self.client_order_id}: apply fills with apply_fill()")
        if kind in LATE_REPORTS and self.status in TERMINAL:
            return LateReport(self.client_order_id, kind, self.status, ts_ns, reason)
        replaced_size = size_lots if kind is OrderEventKind.REPLACED else None
        if replaced_size is not None and replaced_size <= self.filled_lots:
            return self._anomaly(
                kind, ts_ns, f"replaced size {replaced_size} <= filled {self.filled_lots} lots"
            )
        result = self._transition(kind, ts_ns)
        if isinstance(result, Transition):
            if venue_order_id:
                self.venue_order_id = venue_order_id
            if reason:
                self.reason = reason
            if kind is OrderEventKind.REPLACED:
                self.price_ticks = self.price_ticks if price_ticks is None else price_ticks
                self.size_lots = self.size_lots if size_lots is None else size_lots
        return result

    def apply_fill(self, fill: Fill) -> Transition | Anomaly | DuplicateFill | LateFill:
        """Apply one execution, at most once per ``(venue, trade_id)``.

        The fill is a FILL when it completes the order, else a PARTIAL_FILL. On a canceled or
        expired order it is a :class:`LateFill`: the lots count, the state stays. A fill beyond
        the order's size, for another order, or in a state that cannot fill (new, rejected, a
        filled order filled again) is an anomaly and changes no quantity.

        Raises:
            InvalidTransition: for an impossible fill when the order is strict.
        """
        key = (fill.venue, fill.trade_id)
        if key in self.fill_ids:
            return DuplicateFill(fill.venue, fill.trade_id)
        self.fill_ids.add(key)
        filled = self.filled_lots + fill.size
        kind = OrderEventKind.FILL if filled >= self.size_lots else OrderEventKind.PARTIAL_FILL
        problem = ""
        if fill.client_order_id != self.client_order_id:
            problem = f"fill {fill.trade_id} is for order {fill.client_order_id}"
        elif fill.size <= 0:
            problem = f"fill {fill.trade_id} has size {fill.size} lots"
        elif filled > self.size_lots:
            problem = f"overfill: {filled} lots filled of {self.size_lots}"
        if problem:
            return self._anomaly(kind, fill.exch_ts or fill.recv_ts, problem)
        if self.status in FILLED_AFTER_END:
            self._count_fill(fill, filled)
            return LateFill(
                self.client_order_id, fill.trade_id, self.status, fill.exch_ts or fill.recv_ts
            )
        result = self._transition(kind, fill.exch_ts or fill.recv_ts)
        if isinstance(result, Transition):
            self._count_fill(fill, filled)
        return result

    def _count_fill(self, fill: Fill, filled: int) -> None:
        self.filled_lots = filled
        self.fill_notional += fill.price * fill.size
        if fill.venue_order_id and not self.venue_order_id:
            self.venue_order_id = fill.venue_order_id

    def _transition(self, kind: OrderEventKind, ts_ns: int) -> Transition | Anomaly:
        target = TRANSITIONS.get((self.status, kind))
        if target is None:
            return self._anomaly(kind, ts_ns, "not allowed by the transition table")
        if target is Resume.LIVE:
            target = OrderStatus.PARTIALLY_FILLED if self.filled_lots else OrderStatus.ACCEPTED
        step = Transition(kind, self.status, target, ts_ns)
        self.status = target
        self.history.append(step)
        return step

    def _anomaly(self, kind: OrderEventKind, ts_ns: int, reason: str) -> Anomaly:
        if self.strict:
            raise InvalidTransition(self.client_order_id, self.status, kind, reason)
        anomaly = Anomaly(self.client_order_id, kind, self.status, ts_ns, reason)
        self.anomalies.append(anomaly)
        self.needs_reconcile = True
        logger.warning(
            "impossible order transition",
            extra={
                "client_order_id": self.client_order_id,
                "venue": self.venue,
                "from_status": str(self.status),
                "order_event": str(kind),
                "reason": reason,
            },
        )
        return anomaly

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id} {self.side.name} {self.filled_lots}/{self.size_lots}"
            f" @ {self.price_ticks} {self.status})"
        )


def validate_order(
    instrument: Instrument, size_text: str, price_text: str | None = None
) -> tuple[int, int]:
    """Convert an order's size and price text to lots and ticks, refusing anything off-grid.

    Args:
        instrument: the instrument traded.
        size_text: the size as exact decimal text.
        price_text: the limit price as exact decimal text; None for a market order, which skips
            the minimum-notional check (risk checks it against the mid).

    Returns:
        ``(size_lots, price_ticks)``; ``price_ticks`` is 0 for a market order.

    Raises:
        InstrumentError: the price is off the tick grid or not positive, the size is off the lot
            grid or not positive, or the order is worth less than the minimum notional.
    """
    where = instrument.key
    try:
        size_lots = instrument.size_grid().to_int(size_text)
        price_ticks = 0 if price_text is None else instrument.price_grid().to_int(price_text)
    except InstrumentError as exc:
        raise InstrumentError(f"{where}: order rejected: {exc}") from None
    if size_lots <= 0:
        raise InstrumentError(f"{where}: order rejected: size {size_text} must be positive")
    if price_text is None:
        return size_lots, 0
    if price_ticks <= 0:
        raise InstrumentError(f"{where}: order rejected: price {price_text} must be positive")
    notional = Decimal(price_text) * Decimal(size_text)
    if notional < Decimal(instrument.min_notional):
        raise InstrumentError(
            f"{where}: order rejected: notional {notional} is below the minimum "
            f"{instrument.min_notional}"
        )
    return size_lots, price_ticks
