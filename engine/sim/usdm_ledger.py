"""What the local venue remembers of Binance USD-M futures trading: orders, trades, wallets.

A :class:`FuturesOrder` is one order as USD-M reports it (``orderId`` per symbol,
``clientOrderId``, ``status`` in Binance's words: ``NEW``, ``PARTIALLY_FILLED``, ``FILLED``,
``CANCELED``, ``EXPIRED``, ``EXPIRED_IN_MATCH``). A :class:`FuturesTrade` is one fill as
``userTrades`` lists it, a :class:`FuturesExecution` one ``ORDER_TRADE_UPDATE``. Net positions
are the Bybit side's :class:`~engine.sim.bybit_ledger.LinearPosition` (signed lots and the exact
cost of the open lots, so entry price and realised PnL stay exact).

The margin model is deliberately small, and documented here because nothing else is:

- one-way mode (``positionSide`` ``BOTH``), cross margin, a fixed leverage per account and
  symbol (:data:`LEVERAGE`);
- a :class:`FuturesWallet` per account holds the wallet balance of each margin asset (the
  symbol's quote asset, USDT for ``BTCUSDT``) in units of 10**-8; it starts at the account's
  configured balance of that asset and is the futures wallet only (the spot balances are not
  touched). Realised PnL and fees (negative fees: rebates) move it on every fill;
- the mark price is the middle of the market model's touch; unrealised PnL is at the mark;
- initial margin is ``notional / leverage``: of the position at the mark, and of every open
  order that is not reduce-only at its limit price (what is still to fill);
- an order that would open or grow a position needs its own initial margin available
  (margin balance less the initial margins in use), else -2019;
- there is no liquidation: a wallet may go below zero and stays there.
"""

from __future__ import annotations

import msgspec

from engine.core.events import Side
from engine.sim.accounts import Account
from engine.sim.ledger import (
    CANCELED,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    NEW,
    OPEN_STATUSES,
    PARTIALLY_FILLED,
)

__all__ = [
    "CANCELED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
    "FILLED",
    "LEVERAGE",
    "MAX_MODIFIES",
    "NEW",
    "PARTIALLY_FILLED",
    "FuturesExecution",
    "FuturesOrder",
    "FuturesTrade",
    "FuturesWallet",
    "MarginState",
]

LEVERAGE = 20
"""Every account's leverage on every symbol."""
MAX_MODIFIES = 10_000
"""Modifications one order may have (venues.md §2.6)."""


class FuturesOrder:
    """One order of one account on one symbol, as the venue tracks it (read it, do not change it).

    Args:
        account: whose order it is.
        symbol: the symbol.
        order_id: ``orderId`` (per symbol).
        client_order_id: ``clientOrderId``.
        side: BUY or SELL.
        order_type: ``LIMIT`` or ``MARKET``.
        time_in_force: ``GTC``, ``IOC``, ``FOK`` or ``GTX`` (post-only).
        price: limit price in ticks (0 for MARKET).
        quantity: ``origQty`` in lots.
        reduce_only: ``reduceOnly``.
        stp_mode: ``selfTradePreventionMode``.
        now_ms: when the venue took it in.
    """

    __slots__ = (
        "account",
        "client_order_id",
        "core_quantity",
        "created_ms",
        "cum_quote",
        "executed",
        "modifies",
        "order_id",
        "order_type",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "stp_mode",
        "symbol",
        "time_in_force",
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
        *,
        reduce_only: bool = False,
        stp_mode: str = "EXPIRE_MAKER",
        now_ms: int = 0,
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
        self.core_quantity = quantity
        """Lots the matching core holds: a reduce-only order is cut to the position there."""
        self.reduce_only = reduce_only
        self.stp_mode = stp_mode
        self.status = NEW
        self.executed = 0
        """Lots filled so far."""
        self.cum_quote = 0
        """Sum of price ticks times lots over the fills, exact."""
        self.modifies = 0
        self.created_ms = self.update_ms = now_ms

    @property
    def is_open(self) -> bool:
        """Still working (NEW or PARTIALLY_FILLED)."""
        return self.status in OPEN_STATUSES

    @property
    def leaves(self) -> int:
        """Lots still to fill while the order works (0 once it ended)."""
        return self.quantity - self.executed if self.is_open else 0

    def __repr__(self) -> str:
        return (
            f"FuturesOrder({self.symbol} #{self.order_id} {self.side.name} {self.order_type} "
            f"{self.executed}/{self.quantity} lots {self.status})"
        )


class FuturesTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of one order, as ``GET /fapi/v1/userTrades`` lists it."""

    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: int
    """Ticks."""
    quantity: int
    """Lots."""
    commission: int
    """Units of 10**-8 of the margin asset; negative for a rebate."""
    commission_asset: str
    realized_pnl: int
    """Units of 10**-8 of the margin asset the fill realised (before its commission)."""
    time_ms: int
    maker: bool


class FuturesExecution(msgspec.Struct, frozen=True, kw_only=True):
    """One ``ORDER_TRADE_UPDATE``: what changed, and what traded with it."""

    exec_type: str
    """``x``: ``NEW``, ``TRADE``, ``CANCELED``, ``EXPIRED`` or ``AMENDMENT``."""
    time_ms: int
    last_quantity: int = 0
    """``l`` in lots."""
    last_price: int = 0
    """``L`` in ticks."""
    commission: int = 0
    """``n`` in units of 10**-8 of the margin asset."""
    trade_id: int = 0
    """``t``; 0 when nothing traded."""
    maker: bool = False
    realized_pnl: int = 0
    """``rp`` in units of 10**-8 of the margin asset."""
    expiry_reason: str = ""
    """Why an order expired (not a Binance field; logged)."""


class FuturesWallet:
    """One account's futures wallet: the balance of each margin asset, in units of 10**-8.

    Args:
        account: whose wallet it is; its balances of ``assets`` are the starting wallet.
        assets: the margin assets (the quote assets of the symbols listed).
    """

    __slots__ = ("account", "balances", "update_ms")

    def __init__(self, account: Account, assets: list[str]) -> None:
        self.account = account
        self.balances: dict[str, int] = {}
        for asset in assets:
            held = account.balances.get(asset)
            self.balances[asset] = 0 if held is None else held.free + held.locked
        self.update_ms = 0

    def balance(self, asset: str) -> int:
        """The wallet balance of ``asset`` (0 when it holds none)."""
        return self.balances.get(asset, 0)

    def credit(self, asset: str, units: int, now_ms: int) -> None:
        """Add ``units`` (negative: take them) to the wallet balance of ``asset``."""
        self.balances[asset] = self.balances.get(asset, 0) + units
        self.update_ms = now_ms

    def __repr__(self) -> str:
        return f"FuturesWallet({self.account.name!r}, assets={sorted(self.balances)})"


class MarginState(msgspec.Struct, frozen=True, kw_only=True):
    """One margin asset of one account now, in units of 10**-8 (see the module docstring)."""

    asset: str
    wallet: int
    """Wallet balance: deposits plus realised PnL less fees."""
    unrealized: int
    """Unrealised PnL of every position in this asset, at the mark."""
    position_margin: int
    """Initial margin of the positions at the mark."""
    order_margin: int
    """Initial margin of the open orders that are not reduce-only."""
    update_ms: int = 0

    @property
    def margin_balance(self) -> int:
        """Wallet balance plus unrealised PnL."""
        return self.wallet + self.unrealized

    @property
    def available(self) -> int:
        """What new orders may use: margin balance less the initial margin in use."""
        return self.margin_balance - self.position_margin - self.order_margin
