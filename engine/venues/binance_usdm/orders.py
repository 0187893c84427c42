"""Binance USD-M order entry, pure protocol: our commands to request text (venues.md §2.6).

Requests are query strings in Binance's parameter order, with exact decimal text from the
instrument's grids and ``newClientOrderId`` = our client order id; the HTTP layer appends
``recvWindow``, ``timestamp`` and ``signature``. Values are never percent-encoded: symbols and
numbers need none and client order ids are checked to need none (USD-M allows
``^[.A-Z:/a-z0-9_-]{1,36}$``), so the signed bytes are the sent bytes.

=================  ==========================================================================
ours               USD-M
=================  ==========================================================================
LIMIT GTC/IOC/FOK  ``type=LIMIT&timeInForce=GTC|IOC|FOK``
LIMIT POST_ONLY    ``type=LIMIT&timeInForce=GTX`` (refused with -5022 if it would take)
MARKET             ``type=MARKET`` (no price, no time in force)
reduce_only        ``reduceOnly=true`` (one-way mode)
replace            ``PUT /fapi/v1/order``: ``side``, the new total ``quantity`` and ``price``
=================  ==========================================================================

Reports made from USD-M answers carry the venue name :data:`VENUE`; the trade ids, fee units and
exact-number conventions are spot's (:mod:`engine.venues.binance.orders`).
"""

from __future__ import annotations

import re

from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind, Side
from engine.errors import OrderRejected
from engine.venues.binance.orders import BinanceMarket

VENUE = "binance-usdm"
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_SIDE_TEXT = {Side.BUY: "BUY", Side.SELL: "SELL"}
_TIF_TEXT = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTX",
}
_TIF_OF = {text: tif for tif, text in _TIF_TEXT.items()}
RESPONSE_TYPES = ("ACK", "RESULT")


def check_client_id(client_order_id: str) -> None:
    """Refuse a client order id USD-M would not take (or that would need encoding).

    Raises:
        OrderRejected: naming the id and the allowed characters.
    """
    if not _CLIENT_ID.match(client_order_id):
        raise OrderRejected(
            VENUE,
            f"client order id {client_order_id!r} is not usable on Binance USD-M "
            "(1-36 of A-Za-z0-9._:/-)",
        )


def new_order_query(
    market: BinanceMarket, order: SubmitOrder, response_type: str = "RESULT"
) -> str:
    """``POST /fapi/v1/order`` parameters for ``order``, before ``recvWindow``/``timestamp``.

    Raises:
        OrderRejected: for an order USD-M cannot take (a post-only market order, non-positive
            size or price, an unusable client order id); nothing is sent.
    """
    check_client_id(order.client_order_id)
    if order.size_lots <= 0:
        raise OrderRejected(
            VENUE, f"{market.symbol}: order size must be positive, got {order.size_lots} lots"
        )
    side = _SIDE_TEXT[order.side]
    quantity = market.size.to_text(order.size_lots)
    if order.order_type is OrderType.MARKET:
        if order.time_in_force is TimeInForce.POST_ONLY:
            raise OrderRejected(VENUE, f"{market.symbol}: a market order cannot be post-only")
        fields = f"side={side}&type=MARKET&quantity={quantity}"
    else:
        if order.price_ticks <= 0:
            raise OrderRejected(
                VENUE,
                f"{market.symbol}: limit price must be positive, got {order.price_ticks} ticks",
            )
        fields = (
            f"side={side}&type=LIMIT&timeInForce={_TIF_TEXT[order.time_in_force]}"
            f"&quantity={quantity}&price={market.price.to_text(order.price_ticks)}"
        )
    if order.reduce_only:
        fields += "&reduceOnly=true"
    return (
        f"symbol={market.symbol}&{fields}&newClientOrderId={order.client_order_id}"
        f"&newOrderRespType={response_type}"
    )


def modify_query(market: BinanceMarket, side: Side, replace: ReplaceOrder) -> str:
    """``PUT /fapi/v1/order`` parameters: the order's side, its new total size and price.

    USD-M's quantity is the new ``origQty`` (what has filled counts in it), as ours is.

    Raises:
        OrderRejected: a non-positive size or price, or an unusable client order id.
    """
    check_client_id(replace.client_order_id)
    if replace.size_lots <= 0 or replace.price_ticks <= 0:
        raise OrderRejected(
            VENUE,
            f"{market.symbol}: a modify needs a positive size and price, got "
            f"{replace.size_lots} lots at {replace.price_ticks} ticks",
        )
    return (
        f"symbol={market.symbol}&origClientOrderId={replace.client_order_id}"
        f"&side={_SIDE_TEXT[side]}&quantity={market.size.to_text(replace.size_lots)}"
        f"&price={market.price.to_text(replace.price_ticks)}"
    )


def cancel_query(market: BinanceMarket, client_order_id: str) -> str:
    """``DELETE /fapi/v1/order`` (or ``GET``, a look-up) by our client order id."""
    check_client_id(client_order_id)
    return f"symbol={market.symbol}&origClientOrderId={client_order_id}"


def cancel_all_query(market: BinanceMarket) -> str:
    """``DELETE /fapi/v1/allOpenOrders`` parameters for one symbol."""
    return f"symbol={market.symbol}"


def user_trades_query(
    market: BinanceMarket,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    order_id: str = "",
    limit: int = 1000,
) -> str:
    """``GET /fapi/v1/userTrades`` parameters: a time window (at most 7 days) or one order."""
    query = f"symbol={market.symbol}"
    if order_id:
        query += f"&orderId={order_id}"
    if start_ms is not None:
        query += f"&startTime={start_ms}"
    if end_ms is not None:
        query += f"&endTime={end_ms}"
    return f"{query}&limit={limit}"


def order_kind(type_text: str, tif_text: str) -> tuple[OrderType, TimeInForce]:
    """USD-M ``type`` and ``timeInForce`` as ours (``GTX`` is post-only; others read as LIMIT)."""
    if type_text == "MARKET":
        return OrderType.MARKET, TimeInForce.GTC
    return OrderType.LIMIT, _TIF_OF.get(tif_text, TimeInForce.GTC)


def update(
    market: BinanceMarket,
    client_order_id: str,
    kind: OrderUpdateKind,
    *,
    venue_order_id: str = "",
    reason: str = "",
    code: int = 0,
    price_ticks: int = 0,
    size_lots: int = 0,
    filled_lots: int = 0,
    exch_ts: int = 0,
    recv_ts: int = 0,
) -> OrderUpdate:
    """An order update of ``market`` as USD-M reports it."""
    return OrderUpdate(
        venue=VENUE,
        instrument=market.instrument_id,
        client_order_id=client_order_id,
        kind=kind,
        venue_order_id=venue_order_id,
        reason=reason,
        code=code,
        price_ticks=price_ticks,
        size_lots=size_lots,
        filled_lots=filled_lots,
        exch_ts=exch_ts,
        recv_ts=recv_ts,
    )
