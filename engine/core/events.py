"""Normalized market events, the same for every venue: book snapshots, book deltas and trades.

Prices are integer ticks and sizes integer lots of the event's instrument; timestamps are integer
nanoseconds (``exch_ts`` from the venue, ``recv_ts`` when the frame reached us). Level arrays are
``int64`` numpy arrays of equal length per side; a size of 0 in a delta deletes the level.
"""

from __future__ import annotations

import enum

import msgspec
import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]


class Side(enum.IntEnum):
    """Book side, or the aggressor side of a trade."""

    BUY = 1
    SELL = 2


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A full book (as deep as the venue sent it) at venue update id ``update_id``."""

    instrument: int
    """Dense instrument id."""
    update_id: int
    """Venue sequence number the snapshot is valid at (Binance ``lastUpdateId``)."""
    bid_px: Int64Array
    bid_sz: Int64Array
    ask_px: Int64Array
    ask_sz: Int64Array
    exch_ts: int = 0
    recv_ts: int = 0


class BookDelta(msgspec.Struct, frozen=True, kw_only=True):
    """Absolute new sizes for changed levels, covering venue update ids ``first_id..last_id``."""

    instrument: int
    first_id: int
    """First venue update id in this event (Binance ``U``)."""
    last_id: int
    """Last venue update id in this event (Binance ``u``)."""
    prev_id: int
    """The previous event's ``last_id`` when the venue sends it (futures ``pu``), else -1."""
    bid_px: Int64Array
    bid_sz: Int64Array
    ask_px: Int64Array
    ask_sz: Int64Array
    exch_ts: int
    recv_ts: int


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    """One public trade."""

    instrument: int
    trade_id: int
    price: int
    """Ticks."""
    size: int
    """Lots."""
    aggressor: Side
    """The taker's side (Binance ``m=true`` means the buyer was maker, so the taker sold)."""
    exch_ts: int
    recv_ts: int


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution of one of our orders, as the venue reported it.

    ``(venue, trade_id)`` identifies a fill: the same pair seen twice is the same fill.
    """

    venue: str
    instrument: int
    client_order_id: str
    """Our id, ``<instance>-<counter>``."""
    venue_order_id: str
    trade_id: str
    """The venue's execution id, unique per venue."""
    side: Side
    """Our side: BUY adds to the position, SELL takes from it."""
    price: int
    """Ticks."""
    size: int
    """Lots, always positive."""
    fee: int
    """Fee in fee units (10**-8 of the quote currency); negative for a rebate."""
    liquidity: str = "taker"
    """``maker`` or ``taker``."""
    exch_ts: int = 0
    recv_ts: int = 0
    fee_base: str = ""
    """A commission the venue took in the base asset, as its exact text (spot buys without a
    fee token). Its quote value is already in ``fee``; the spot balance is short by this much,
    which reconciliation allows for. Empty when the fee was paid in another asset."""


class OrderUpdateKind(enum.StrEnum):
    """What a venue (or the matching core) said about one of our orders, fills aside."""

    ACCEPTED = "accepted"
    """The order is working on the venue's book (or was taken in and is being matched)."""
    REJECTED = "rejected"
    """The venue refused the order; ``reason`` says why in the venue's words."""
    CANCELED = "canceled"
    """The order is gone: we asked, or the venue canceled it (IOC rest, STP, cancel-all)."""
    CANCEL_REJECTED = "cancel_rejected"
    """A cancel was refused: usually the order was already final ("Unknown order sent.")."""
    REPLACED = "replaced"
    """A replace (amend or cancel-replace) took effect: new ``price_ticks`` and ``size_lots``."""
    REPLACE_REJECTED = "replace_rejected"
    """A replace was refused; the order works on unchanged."""
    EXPIRED = "expired"
    """The venue ended the order itself: IOC/FOK remainder, post-only that would take, STP."""


class OrderUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """A change of state of one of our orders reported by a venue or the matching core.

    Fills are reported separately as :class:`Fill`; an update never carries lots traded.
    """

    venue: str
    instrument: int
    client_order_id: str
    """Our id, ``<instance>-<counter>``."""
    kind: OrderUpdateKind
    venue_order_id: str = ""
    """The venue's id for the order, once it has one."""
    reason: str = ""
    """The venue's own text for a reject, cancel-reject, expiry or unsolicited cancel."""
    code: int = 0
    """The venue's error code with a reject, 0 when none."""
    price_ticks: int = 0
    """The order's limit price after the update (the new price for REPLACED)."""
    size_lots: int = 0
    """The order's total size after the update (the new size for REPLACED)."""
    filled_lots: int = 0
    """Lots filled so far, as the venue counts them."""
    exch_ts: int = 0
    recv_ts: int = 0


class AlertLevel(enum.StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    """Something needs a look: a reject storm, an anomaly reconciled away."""
    CRITICAL = "critical"
    """Trading stopped or money is at risk: breaker tripped, reconciliation mismatch."""


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """Something an operator must know about, raised by risk, the OMS or a gateway."""

    ts_ns: int
    level: AlertLevel
    source: str
    """Who raised it: ``oms``, ``risk``, ``breaker``, ``gateway:<venue>``, ``reconcile``."""
    message: str
    """What happened and where, in one line with the numbers."""
    client_order_id: str = ""
    """The order concerned, when there is one."""
