"""Binance USD-M's user data stream, pure protocol: frames to our events (venues.md §2.9).

A frame is one event (``/private/ws?listenKey=...``), or one wrapped as ``{"stream", "data"}``
(``/private/stream?...``). ``ORDER_TRADE_UPDATE`` events become ours by execution type ``o.x``
(the order status ``o.X`` is checked to be one USD-M sends):

==================  =====================================================================
``x``               event
==================  =====================================================================
NEW                 ACCEPTED (``i`` the venue order id, ``p``/``q``/``z``)
TRADE, CALCULATED   Fill (``t`` as trade id, ``L``/``l``, commission ``n`` in ``N``, ``m``);
                    CALCULATED is a liquidation or ADL execution
AMENDMENT           REPLACED (a modify: the new ``p``/``q``)
CANCELED            CANCELED
EXPIRED             EXPIRED (IOC/FOK/GTX remainder, reduce-only, or ``X`` = EXPIRED_IN_MATCH)
REJECTED            REJECTED
==================  =====================================================================

``ACCOUNT_UPDATE`` becomes an :class:`AccountUpdate` (net positions of our symbols, for logs and
checks; reconciliation reads positions over REST), ``listenKeyExpired`` a :class:`KeyExpired`
(the stream is over: a new key is needed). Other event types (``TRADE_LITE``, ``MARGIN_CALL``,
``ACCOUNT_CONFIG_UPDATE`` ...) and reports of symbols we do not trade are :class:`OtherEvent`.
Unknown fields are ignored; a frame that is not JSON, or a missing or malformed field, raises
:class:`~engine.errors.VenueGarbage` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from engine.core.events import Fill, OrderUpdateKind
from engine.errors import VenueGarbage
from engine.venues.binance.orders import (
    BinanceMarket,
    Events,
    decode,
    fee_units,
    lots,
    side_of,
    ticks,
    trade_id,
)
from engine.venues.binance_usdm.answers import OrderStatusText
from engine.venues.binance_usdm.orders import VENUE, update

_MS = 1_000_000

ExecutionType = Literal[
    "NEW", "TRADE", "CALCULATED", "AMENDMENT", "CANCELED", "EXPIRED", "REJECTED"
]
"""Every execution type ``x`` USD-M sends (venues.md lists the set as unconfirmed)."""


class KeyExpired(msgspec.Struct, frozen=True):
    """``listenKeyExpired``: the key is gone, and so is the stream on it."""

    listen_key: str


class AccountUpdate(msgspec.Struct, frozen=True):
    """``ACCOUNT_UPDATE``: why (``m``), and the net position in lots of each of our symbols."""

    reason: str
    positions: dict[int, int]
    """Instrument id -> net lots, for the symbols the event names."""


class OtherEvent(msgspec.Struct, frozen=True):
    """An event left to reconciliation (or a report of a symbol we do not trade)."""

    kind: str


UserFrame = Events | AccountUpdate | KeyExpired | OtherEvent


class _Head(msgspec.Struct):
    e: str = ""
    data: msgspec.Raw = msgspec.Raw()
    stream: str = ""


class _Order(msgspec.Struct, kw_only=True):
    symbol: str = msgspec.field(name="s")
    client_order_id: str = msgspec.field(name="c")
    side: str = msgspec.field(name="S")
    order_type: str = msgspec.field(name="o")
    time_in_force: str = msgspec.field(name="f")
    quantity: str = msgspec.field(name="q")
    price: str = msgspec.field(name="p")
    execution: ExecutionType = msgspec.field(name="x")
    status: OrderStatusText = msgspec.field(name="X")
    order_id: int = msgspec.field(name="i")
    last_qty: str = msgspec.field(name="l")
    filled_qty: str = msgspec.field(name="z")
    last_price: str = msgspec.field(name="L")
    commission_asset: str | None = msgspec.field(name="N", default=None)
    commission: str | None = msgspec.field(name="n", default=None)
    time: int = msgspec.field(name="T")
    trade: int = msgspec.field(name="t", default=0)
    maker: bool = msgspec.field(name="m", default=False)
    reduce_only: bool = msgspec.field(name="R", default=False)


class _OrderTradeUpdate(msgspec.Struct):
    order: _Order = msgspec.field(name="o")


class _Position(msgspec.Struct):
    symbol: str = msgspec.field(name="s")
    amount: str = msgspec.field(name="pa")


class _Account(msgspec.Struct):
    reason: str = msgspec.field(name="m", default="")
    positions: list[_Position] = msgspec.field(name="P", default_factory=list)


class _AccountUpdate(msgspec.Struct):
    account: _Account = msgspec.field(name="a")


class _KeyExpired(msgspec.Struct):
    listen_key: str = msgspec.field(name="listenKey", default="")


_OTHER_KINDS = frozenset(
    {
        "TRADE_LITE",
        "MARGIN_CALL",
        "ACCOUNT_CONFIG_UPDATE",
        "CONDITIONAL_ORDER_TRIGGER_REJECT",
        "ALGO_UPDATE",
        "STRATEGY_UPDATE",
        "GRID_UPDATE",
    }
)


class UsdmStreamParser:
    """Turns user-stream frames into events for our markets.

    Args:
        markets: our markets by symbol.
    """

    def __init__(self, markets: Mapping[str, BinanceMarket]) -> None:
        self.markets = dict(markets)

    def parse(self, raw: bytes | str, recv_ts: int) -> UserFrame:
        """One frame.

        Raises:
            VenueGarbage: the frame is not JSON, names no event, or a field is malformed.
        """
        head = decode(raw, _Head, "user stream frame")
        if head.data and head.stream:  # a combined-stream wrapper
            raw = bytes(head.data)
            head = decode(raw, _Head, "user stream event")
        kind = head.e
        if kind == "ORDER_TRADE_UPDATE":
            order = decode(raw, _OrderTradeUpdate, "ORDER_TRADE_UPDATE").order
            return self.order_update(order, recv_ts)
        if kind == "ACCOUNT_UPDATE":
            return self._account(decode(raw, _AccountUpdate, "ACCOUNT_UPDATE").account)
        if kind == "listenKeyExpired":
            return KeyExpired(decode(raw, _KeyExpired, "listenKeyExpired").listen_key)
        if kind in _OTHER_KINDS:
            return OtherEvent(kind)
        raise VenueGarbage(VENUE, f"user stream event of unknown type {kind!r}", raw)

    def order_update(self, order: _Order, recv_ts: int) -> Events | OtherEvent:
        """One ``ORDER_TRADE_UPDATE`` as events (see the module docstring's table)."""
        market = self.markets.get(order.symbol)
        if market is None:
            return OtherEvent(f"ORDER_TRADE_UPDATE of {order.symbol}")
        side = side_of(order.side, "S")
        exch_ts = order.time * _MS
        x = order.execution
        if x in ("TRADE", "CALCULATED"):
            price = ticks(market, order.last_price, "L")
            size = lots(market, order.last_qty, "l")
            if order.trade <= 0 or size <= 0:
                raise VenueGarbage(
                    VENUE, f"{order.symbol} {x} report without a trade `t` or lots `l`"
                )
            return [
                Fill(
                    venue=VENUE,
                    instrument=market.instrument_id,
                    client_order_id=order.client_order_id,
                    venue_order_id=str(order.order_id),
                    trade_id=trade_id(order.symbol, order.trade, side),
                    side=side,
                    price=price,
                    size=size,
                    fee=fee_units(
                        market, order.commission or "0", order.commission_asset, price, size
                    ),
                    liquidity="maker" if order.maker else "taker",
                    exch_ts=exch_ts,
                    recv_ts=recv_ts,
                )
            ]
        reason = ""
        if x == "NEW":
            kind = OrderUpdateKind.ACCEPTED
        elif x == "AMENDMENT":
            kind = OrderUpdateKind.REPLACED
        elif x == "CANCELED":
            kind = OrderUpdateKind.CANCELED
        elif x == "REJECTED":
            kind, reason = OrderUpdateKind.REJECTED, "rejected by the venue"
        else:
            kind = OrderUpdateKind.EXPIRED
            reason = _expiry(order)
        return [
            update(
                market,
                order.client_order_id,
                kind,
                venue_order_id=str(order.order_id),
                reason=reason,
                price_ticks=ticks(market, order.price, "p"),
                size_lots=lots(market, order.quantity, "q"),
                filled_lots=lots(market, order.filled_qty, "z"),
                exch_ts=exch_ts,
                recv_ts=recv_ts,
            )
        ]

    def _account(self, account: _Account) -> AccountUpdate:
        positions = {}
        for row in account.positions:
            market = self.markets.get(row.symbol)
            if market is None:
                continue
            size = lots(market, row.amount.lstrip("-"), "P[].pa")
            positions[market.instrument_id] = -size if row.amount.startswith("-") else size
        return AccountUpdate(account.reason, positions)


def _expiry(order: _Order) -> str:
    if order.status == "EXPIRED_IN_MATCH":
        return "self-trade prevention"
    if order.time_in_force == "GTX":
        return "post-only order would have taken"
    if order.time_in_force in ("IOC", "FOK") or order.order_type == "MARKET":
        return (
            f"{order.time_in_force if order.order_type != 'MARKET' else 'market'} remainder expired"
        )
    if order.reduce_only:
        return "reduce-only order: nothing left to reduce"
    return "expired by the venue"
