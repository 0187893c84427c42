"""Bybit v5 REST answers: the envelope, order acks, open orders, positions, wallet, server time.

Every answer is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` (venues.md §3.5); the
errors it can carry are mapped in :mod:`engine.venues.bybit.errors`. A create, cancel or amend
answer is only an ack (``orderId``, ``orderLinkId``): what becomes of the order comes from the
private ``order`` and ``execution`` topics (:mod:`engine.venues.bybit.private`). Lists come in
pages; each page function returns its records and the ``nextPageCursor`` ("" on the last).
Conventions (exact numbers, garbage named by field) are those of
:mod:`engine.venues.bybit.orders`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import msgspec

from engine.core.events import Side
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.bybit.orders import (
    VENUE,
    BybitMarket,
    decode,
    lots,
    order_kind,
    side_of,
    ticks,
)

OPEN_STATUSES = frozenset({"New", "PartiallyFilled", "Untriggered"})
"""``orderStatus`` values of an order still working."""


class Envelope(msgspec.Struct, kw_only=True):
    """Every Bybit answer's outer shape."""

    ret_code: int = msgspec.field(name="retCode")
    ret_msg: str = msgspec.field(name="retMsg", default="")
    result: msgspec.Raw = msgspec.Raw(b"{}")
    time: int = 0
    """The venue's time of the answer, ms."""


class Ack(msgspec.Struct, kw_only=True):
    """The answer to a create, amend or cancel: which order it was."""

    order_id: str = msgspec.field(name="orderId")
    order_link_id: str = msgspec.field(name="orderLinkId", default="")


class _AckList(msgspec.Struct):
    items: list[Ack] = msgspec.field(name="list")


class OrderFields(msgspec.Struct, kw_only=True):
    """The fields of an order both the REST order lists and the ``order`` push carry."""

    symbol: str
    order_id: str = msgspec.field(name="orderId")
    order_link_id: str = msgspec.field(name="orderLinkId", default="")
    side: str
    price: str
    qty: str
    cum_exec_qty: str = msgspec.field(name="cumExecQty")
    order_status: str = msgspec.field(name="orderStatus")
    order_type: str = msgspec.field(name="orderType")
    time_in_force: str = msgspec.field(name="timeInForce", default="GTC")


class _OrderPage(msgspec.Struct, kw_only=True):
    items: list[OrderFields] = msgspec.field(name="list")
    next_page_cursor: str = msgspec.field(name="nextPageCursor", default="")


class _Position(msgspec.Struct, kw_only=True):
    symbol: str
    side: str
    size: str
    position_idx: int = msgspec.field(name="positionIdx", default=0)


class _PositionPage(msgspec.Struct, kw_only=True):
    items: list[_Position] = msgspec.field(name="list")
    next_page_cursor: str = msgspec.field(name="nextPageCursor", default="")


class CoinBalance(msgspec.Struct, frozen=True, kw_only=True):
    """One coin of the unified account, exact decimals as the venue printed them."""

    coin: str
    wallet_balance: Decimal
    equity: Decimal
    unrealised_pnl: Decimal
    locked: Decimal


class _Coin(msgspec.Struct, kw_only=True):
    coin: str
    wallet_balance: str = msgspec.field(name="walletBalance")
    equity: str = ""
    unrealised_pnl: str = msgspec.field(name="unrealisedPnl", default="")
    locked: str = ""


class _Account(msgspec.Struct):
    coin: list[_Coin]


class _Wallet(msgspec.Struct):
    items: list[_Account] = msgspec.field(name="list")


class _ServerTime(msgspec.Struct, kw_only=True):
    time_nano: str = msgspec.field(name="timeNano")


def envelope_of(body: bytes, what: str) -> Envelope:
    """The outer shape of an answer.

    Raises:
        VenueGarbage: the body is not a Bybit answer.
    """
    return decode(body, Envelope, what)


def ack_of(result: msgspec.Raw, what: str) -> Ack:
    """A create, amend or cancel answer's ``result``.

    Raises:
        VenueGarbage: ``orderId`` is missing or malformed.
    """
    return decode(result, Ack, what)


def cancel_all_acks(result: msgspec.Raw) -> list[Ack]:
    """``POST /v5/order/cancel-all``: one ack per order cancelled.

    Raises:
        VenueGarbage: the result has no ``list`` of acks.
    """
    return decode(result, _AckList, "cancel-all answer").items


def open_orders_page(
    markets: Mapping[str, BybitMarket], result: msgspec.Raw
) -> tuple[list[VenueOrder], str]:
    """``GET /v5/order/realtime``: the open orders of our symbols and the next page's cursor.

    Orders no longer working (the venue also lists recently finished ones) and symbols we do
    not trade are left out.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    page = decode(result, _OrderPage, "open orders")
    out = []
    for order in page.items:
        market = markets.get(order.symbol)
        if market is None or order.order_status not in OPEN_STATUSES:
            continue
        out.append(_venue_order(market, order))
    return out, page.next_page_cursor


def _venue_order(market: BybitMarket, order: OrderFields) -> VenueOrder:
    order_type, tif = order_kind(order.order_type, order.time_in_force)
    return VenueOrder(
        instrument=market.instrument_id,
        client_order_id=order.order_link_id,
        venue_order_id=order.order_id,
        side=side_of(order.side),
        price_ticks=ticks(market, order.price, "price") if order.price != "0" else 0,
        size_lots=lots(market, order.qty, "qty"),
        filled_lots=lots(market, order.cum_exec_qty, "cumExecQty"),
        order_type=order_type,
        time_in_force=tif,
        open=order.order_status in OPEN_STATUSES,
    )


def order_record(
    market: BybitMarket, result: msgspec.Raw, client_order_id: str
) -> VenueOrder | None:
    """One order, open or finished, from a ``/v5/order/realtime`` or ``/v5/order/history`` page.

    None when ``client_order_id`` is not listed for the market's symbol.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    for order in decode(result, _OrderPage, "order look-up").items:
        if order.order_link_id == client_order_id and order.symbol == market.symbol:
            return _venue_order(market, order)
    return None


class FoundOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order looked up by its client id, whatever its status."""

    venue_order_id: str
    status: str
    """Bybit's ``orderStatus``."""
    price_ticks: int
    size_lots: int
    filled_lots: int


def find_order(market: BybitMarket, result: msgspec.Raw, client_order_id: str) -> FoundOrder | None:
    """The order ``client_order_id`` in a ``/v5/order/realtime`` answer, or None.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    for order in decode(result, _OrderPage, "order look-up").items:
        if order.order_link_id != client_order_id or order.symbol != market.symbol:
            continue
        return FoundOrder(
            venue_order_id=order.order_id,
            status=order.order_status,
            price_ticks=ticks(market, order.price, "price") if order.price != "0" else 0,
            size_lots=lots(market, order.qty, "qty"),
            filled_lots=lots(market, order.cum_exec_qty, "cumExecQty"),
        )
    return None


def net_lots(market: BybitMarket, side: str, size: str, field: str = "size") -> int:
    """A one-way position as signed lots: ``Buy`` long, ``Sell`` short, ``""`` (or 0) flat.

    Raises:
        VenueGarbage: the size is off the lot grid or the side is not one Bybit sends.
    """
    held = lots(market, size, field)
    if side == "" or held == 0:
        return 0
    return held if side_of(side) is Side.BUY else -held


def positions_page(
    markets: Mapping[str, BybitMarket], result: msgspec.Raw
) -> tuple[list[VenuePosition], str]:
    """``GET /v5/position/list``: net positions of our symbols and the next page's cursor.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    page = decode(result, _PositionPage, "position list")
    out = []
    for position in page.items:
        market = markets.get(position.symbol)
        if market is None:
            continue
        net = net_lots(market, position.side, position.size)
        out.append(VenuePosition(instrument=market.instrument_id, net_lots=net))
    return out, page.next_page_cursor


def _decimal(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise VenueGarbage(VENUE, f"wallet balance `{field}` {text!r} is not a number")
    return value


def wallet_answer(result: msgspec.Raw) -> list[CoinBalance]:
    """``GET /v5/account/wallet-balance``: every coin of the (first) account listed.

    Raises:
        VenueGarbage: a field is missing or not a number.
    """
    wallet = decode(result, _Wallet, "wallet balance")
    if not wallet.items:
        return []
    return [
        CoinBalance(
            coin=c.coin,
            wallet_balance=_decimal(c.wallet_balance, "walletBalance"),
            equity=_decimal(c.equity, "equity"),
            unrealised_pnl=_decimal(c.unrealised_pnl, "unrealisedPnl"),
            locked=_decimal(c.locked, "locked"),
        )
        for c in wallet.items[0].coin
    ]


def server_time_ms(result: msgspec.Raw) -> int:
    """``GET /v5/market/time``: the venue's clock in ms (from ``timeNano``).

    Raises:
        VenueGarbage: ``timeNano`` is missing or not a whole number.
    """
    nano = decode(result, _ServerTime, "server time").time_nano
    if not nano.isdigit():
        raise VenueGarbage(VENUE, f"server time `timeNano` {nano!r} is not a whole number")
    return int(nano) // 1_000_000
