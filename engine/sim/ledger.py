"""The venue's books and records: each order as the venue knows it, each trade, each execution.

Everything here is what Binance would tell the account about its orders: ``orderId`` per symbol,
``status`` (``NEW``, ``PARTIALLY_FILLED``, ``FILLED``, ``CANCELED``, ``REJECTED``, ``EXPIRED``,
``EXPIRED_IN_MATCH``), executed lots and the exact cumulative quote (ticks times lots, so no
rounding happens until the text leaves), and the executions reported on the user stream.

:class:`AssetGrid` converts an instrument's lots and tick-lots into balance units of 10**-8 of
its base and quote assets (see :mod:`engine.sim.accounts`).
"""

from __future__ import annotations

from fractions import Fraction

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim import wire
from engine.sim.accounts import UNITS_PER_ASSET, Account

NEW = "NEW"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELED = "CANCELED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"
EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"
"""Ended by self-trade prevention."""
OPEN_STATUSES = (NEW, PARTIALLY_FILLED)


class AssetGrid:
    """One instrument's assets and the exact balance units of its lots and tick-lots.

    Args:
        instrument: the instrument; its symbol names the base and quote assets.
    """

    __slots__ = ("_base_per_lot", "_quote_per_tick_lot", "base", "quote")

    def __init__(self, instrument: Instrument) -> None:
        self.base, self.quote = wire.split_symbol(instrument.symbol)
        self._base_per_lot = Fraction(instrument.lot_size) * UNITS_PER_ASSET
        self._quote_per_tick_lot = (
            Fraction(instrument.tick_size) * Fraction(instrument.lot_size) * UNITS_PER_ASSET
        )

    def base_units(self, lots: int, *, up: bool = False) -> int:
        """Base-asset units of ``lots`` (rounded up or down when a lot is finer than 10**-8)."""
        exact = lots * self._base_per_lot
        return _round(exact, up=up)

    def quote_units(self, tick_lots: int, *, up: bool) -> int:
        """Quote-asset units of ``price_ticks * size_lots`` (up: what a buyer pays)."""
        exact = tick_lots * self._quote_per_tick_lot
        return _round(exact, up=up)

    def lots_for_quote(self, price: int, quote_units: int) -> int:
        """Whole lots at ``price`` that ``quote_units`` pays for."""
        per_lot = price * self._quote_per_tick_lot
        return _round(quote_units / per_lot, up=False) if per_lot else 0


def _round(exact: Fraction, *, up: bool) -> int:
    if up:
        return -(-exact.numerator // exact.denominator)
    return exact.numerator // exact.denominator


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of one of an account's orders, as ``fills[]`` and ``myTrades`` report it."""

    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: int
    """Ticks."""
    quantity: int
    """Lots."""
    commission: int
    """Units of 10**-8 of ``commission_asset``; negative for a rebate."""
    commission_asset: str
    time_ms: int
    maker: bool


class OrderRecord:
    """One order of one account, as the venue tracks it (mutable; read it, do not change it).

    Args:
        account: whose order it is.
        symbol: the symbol.
        order_id: the venue's ``orderId`` (per symbol).
        client_order_id: ``clientOrderId``.
        side: BUY or SELL.
        order_type: ``LIMIT``, ``MARKET`` or ``LIMIT_MAKER``.
        time_in_force: ``GTC``, ``IOC`` or ``FOK``.
        price: limit price in ticks (0 for MARKET).
        quantity: size in lots.
        quote_quantity: ``origQuoteOrderQty`` in quote units (0 unless sized by quote).
        stp_mode: ``selfTradePreventionMode``.
        now_ms: when the venue took it in.
    """

    __slots__ = (
        "account",
        "client_order_id",
        "created_ms",
        "cum_quote",
        "executed",
        "filled_once",
        "lock_asset",
        "lock_left",
        "order_id",
        "order_type",
        "placed_ns",
        "price",
        "quantity",
        "quote_quantity",
        "side",
        "status",
        "stp_mode",
        "symbol",
        "time_in_force",
        "trades",
        "update_ms",
    )

    def __init__(
        self,
        account: Account,
        symbol: str,
        order_id: int,
        client_order_id: str,
        side: Side,
        order_type: str,
        time_in_force: str,
        price: int,
        quantity: int,
        quote_quantity: int,
        stp_mode: str,
        now_ms: int,
    ) -> None:
        self.account = account
        self.symbol = symbol
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price = price
        self.quantity = quantity
        self.quote_quantity = quote_quantity
        self.stp_mode = stp_mode
        self.created_ms = self.update_ms = now_ms
        self.placed_ns = now_ms * 1_000_000
        self.status = NEW
        self.executed = 0
        """Lots filled so far."""
        self.cum_quote = 0
        """Sum of price ticks times lots over the fills, exact."""
        self.lock_asset = ""
        self.lock_left = 0
        """Balance units still locked for this order."""
        self.filled_once = False
        self.trades: list[TradeRecord] = []

    def __repr__(self) -> str:
        return (
            f"OrderRecord({self.symbol} #{self.order_id} {self.side.name} {self.order_type} "
            f"{self.executed}/{self.quantity} lots {self.status})"
        )

    @property
    def is_open(self) -> bool:
        """Still working (NEW or PARTIALLY_FILLED)."""
        return self.status in OPEN_STATUSES

    @property
    def is_working(self) -> bool:
        """On the order book now: an open GTC limit order (Binance's ``isWorking`` / ``w``)."""
        return self.is_open and self.order_type != "MARKET" and self.time_in_force == "GTC"


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """One ``executionReport``: what changed, and how much traded with it."""

    exec_type: str
    """``NEW``, ``CANCELED``, ``REJECTED``, ``TRADE``, ``EXPIRED`` or ``TRADE_PREVENTION``."""
    time_ms: int
    execution_id: int
    """``I``: unique per symbol."""
    client_order_id: str = ""
    """``c``: the order's id, or the cancel's own id on a cancel."""
    orig_client_order_id: str = ""
    """``C``: the canceled order's client id, on cancels."""
    reject_reason: str = "NONE"
    last_quantity: int = 0
    """``l`` in lots."""
    last_price: int = 0
    """``L`` in ticks."""
    commission: int = 0
    """``n`` in units of 10**-8 of ``commission_asset``."""
    commission_asset: str | None = None
    trade_id: int = -1
    maker: bool = False
    prevented_quantity: int = 0
    """Lots an STP expiry prevented from trading."""
    prevented_match_id: int = -1
