"""What the local venue remembers of Bybit linear trading: orders, executions, net positions.

A :class:`LinearOrder` is one order as Bybit reports it (``orderId`` a UUID, ``orderLinkId`` the
client's id, ``orderStatus`` in Bybit's words). A :class:`LinearPosition` is one account's net
one-way position in one symbol: size in signed lots and the exact cost of the open lots at their
entry prices, so ``avgPrice`` and realised PnL stay exact. Money is in units of 10**-8 of the
settle coin, the accounts' precision (:mod:`engine.sim.accounts`): a fill that reduces the
position realises ``closed lots * (exit - average entry)``, rounded down to a unit (the venue
never overpays), and the fee is paid on every fill.
"""

from __future__ import annotations

import math
from fractions import Fraction

import msgspec

from engine.core.events import Side
from engine.sim.accounts import Account

NEW = "New"
PARTIALLY_FILLED = "PartiallyFilled"
FILLED = "Filled"
CANCELLED = "Cancelled"
REJECTED = "Rejected"
OPEN = frozenset({NEW, PARTIALLY_FILLED})
"""Statuses of an order still working."""
NO_ERROR = "EC_NoError"


class LinearOrder:
    """One order on the venue's linear book, in Bybit's terms."""

    __slots__ = (
        "account",
        "cancel_type",
        "created_ms",
        "cum_fee",
        "cum_value",
        "filled",
        "order_id",
        "order_link_id",
        "order_type",
        "price",
        "qty",
        "reduce_only",
        "reject_reason",
        "side",
        "smp_type",
        "status",
        "symbol",
        "time_in_force",
        "updated_ms",
    )

    def __init__(
        self,
        account: Account,
        symbol: str,
        order_id: str,
        order_link_id: str,
        side: Side,
        order_type: str,
        time_in_force: str,
        price: int,
        qty: int,
        *,
        reduce_only: bool = False,
        smp_type: str = "CancelTaker",
        created_ms: int = 0,
    ) -> None:
        self.account = account
        self.symbol = symbol
        self.order_id = order_id
        self.order_link_id = order_link_id
        self.side = side
        self.order_type = order_type
        """``Limit`` or ``Market``."""
        self.time_in_force = time_in_force
        """``GTC``, ``IOC``, ``FOK`` or ``PostOnly``."""
        self.price = price
        """Ticks; 0 for a market order."""
        self.qty = qty
        """Lots, the order's total size."""
        self.reduce_only = reduce_only
        self.smp_type = smp_type
        self.filled = 0
        """Lots executed."""
        self.cum_value = 0
        """Sum of price ticks times lots over the executions."""
        self.cum_fee = 0
        """Fees paid (units of 10**-8 of the settle coin; negative: rebates)."""
        self.status = NEW
        self.reject_reason = NO_ERROR
        self.cancel_type = "UNKNOWN"
        self.created_ms = created_ms
        self.updated_ms = created_ms

    @property
    def is_open(self) -> bool:
        """Whether the order still works."""
        return self.status in OPEN

    @property
    def leaves(self) -> int:
        """Lots still to fill while the order works (0 once it ended)."""
        return self.qty - self.filled if self.is_open else 0

    def __repr__(self) -> str:
        return f"LinearOrder({self.symbol} {self.order_link_id or self.order_id} {self.status})"


class LinearExecution(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of one order, as the ``execution`` topic reports it."""

    exec_id: str
    price: int
    """Ticks."""
    qty: int
    """Lots."""
    fee: int
    """Units of 10**-8 of the settle coin."""
    fee_rate: str
    maker: bool
    time_ms: int
    closed_lots: int
    """Lots of the position this fill closed."""
    pnl: int
    """Units realised by the close, before the fee."""
    seq: int
    leaves: int = 0
    """Lots the order still had working right after this fill."""


class LinearPosition:
    """One account's net position in one symbol, exact.

    Args:
        account: whose position it is.
        symbol: the symbol.
        unit: settle-coin units (10**-8) per tick-lot: ``tick * lot * 10**8``.
    """

    __slots__ = ("account", "cost", "created_ms", "realised", "seq", "size", "symbol", "unit")

    def __init__(self, account: Account, symbol: str, unit: Fraction) -> None:
        self.account = account
        self.symbol = symbol
        self.unit = unit
        self.size = 0
        """Signed lots: positive long, negative short."""
        self.cost = Fraction(0)
        """Tick-lots paid (long) or received (short) for the open lots, at entry prices."""
        self.realised = 0
        """Units realised since the position was opened, before fees."""
        self.seq = 0
        self.created_ms = 0

    @property
    def side(self) -> str:
        """``Buy`` (long), ``Sell`` (short) or ``""`` (flat), as Bybit names a one-way side."""
        return "Buy" if self.size > 0 else "Sell" if self.size < 0 else ""

    @property
    def avg_ticks(self) -> Fraction:
        """Average entry price in ticks, 0 when flat."""
        return self.cost / abs(self.size) if self.size else Fraction(0)

    def unrealised(self, mark_ticks: int) -> int:
        """Units the open lots would realise at ``mark_ticks`` (rounded down)."""
        if not self.size:
            return 0
        gain = (mark_ticks * abs(self.size) - self.cost) * (1 if self.size > 0 else -1)
        return math.floor(gain * self.unit)

    def fill(self, side: Side, price: int, lots: int, time_ms: int) -> tuple[int, int]:
        """Book one fill; returns ``(lots closed, units realised)``."""
        signed = lots if side is Side.BUY else -lots
        size = self.size
        if not size:
            self.created_ms = time_ms
        self.seq += 1
        if size == 0 or (size > 0) == (signed > 0):  # opening or adding
            self.size = size + signed
            self.cost += price * lots
            return 0, 0
        closed = min(lots, abs(size))
        share = self.cost * closed / abs(size)
        gain = (price * closed - share) * (1 if size > 0 else -1)
        pnl = math.floor(gain * self.unit)
        self.cost -= share
        self.realised += pnl
        self.size = size + signed
        opened = lots - closed
        if opened:  # flipped through flat: the rest opens the other way at this price
            self.cost = Fraction(price * opened)
            self.created_ms = time_ms
        return closed, pnl
