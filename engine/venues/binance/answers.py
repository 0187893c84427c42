"""Binance spot REST answers to order requests, as events and reconciliation records.

Pure functions over answer bodies (venues.md §1.6): a new order's ``ACK``/``RESULT``/``FULL``
answer, a cancel, a cancel-all, ``openOrders`` and ``account`` (cancel-replace answers are in
:mod:`engine.venues.binance.replace`). Everything the
venue says is kept; nothing is dropped. The conventions (trade ids, fees, exact numbers, garbage)
are those of :mod:`engine.venues.binance.orders`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import msgspec

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.binance.orders import (
    VENUE,
    BinanceMarket,
    Events,
    OrderStatusText,
    accepted,
    decode,
    fee_units,
    lots,
    order_kind,
    side_of,
    ticks,
    trade_id,
)

_MS = 1_000_000


class _FillPart(msgspec.Struct):
    price: str
    qty: str
    commission: str
    commission_asset: str | None = msgspec.field(name="commissionAsset")
    trade_id: int = msgspec.field(name="tradeId")


class OrderAnswer(msgspec.Struct, kw_only=True):
    """A new order's answer: ``ACK`` carries the ids only, ``RESULT``/``FULL`` the state too."""

    symbol: str
    order_id: int = msgspec.field(name="orderId")
    client_order_id: str = msgspec.field(name="clientOrderId")
    transact_time: int = msgspec.field(name="transactTime", default=0)
    price: str | None = None
    orig_qty: str | None = msgspec.field(name="origQty", default=None)
    executed_qty: str | None = msgspec.field(name="executedQty", default=None)
    status: OrderStatusText | None = None
    time_in_force: str = msgspec.field(name="timeInForce", default="")
    type: str = ""
    side: str = ""
    fills: list[_FillPart] = msgspec.field(default_factory=list)


class CancelAnswer(msgspec.Struct, kw_only=True):
    """A cancel's answer (also one entry of a cancel-all)."""

    symbol: str
    orig_client_order_id: str = msgspec.field(name="origClientOrderId")
    order_id: int = msgspec.field(name="orderId")
    transact_time: int = msgspec.field(name="transactTime", default=0)
    price: str | None = None
    orig_qty: str | None = msgspec.field(name="origQty", default=None)
    executed_qty: str | None = msgspec.field(name="executedQty", default=None)


class _ListEntry(msgspec.Struct):
    order_reports: list[CancelAnswer] | None = msgspec.field(name="orderReports", default=None)


class _OpenOrder(msgspec.Struct, kw_only=True):
    symbol: str
    order_id: int = msgspec.field(name="orderId")
    client_order_id: str = msgspec.field(name="clientOrderId")
    price: str
    orig_qty: str = msgspec.field(name="origQty")
    executed_qty: str = msgspec.field(name="executedQty")
    side: str
    type: str
    time_in_force: str = msgspec.field(name="timeInForce", default="GTC")


class _Balance(msgspec.Struct):
    asset: str
    free: str
    locked: str


class _Account(msgspec.Struct):
    balances: list[_Balance]


# ---- new orders --------------------------------------------------------------------------------


def order_events(
    market: BinanceMarket,
    answer: OrderAnswer,
    side: Side,
    recv_ts: int,
    *,
    sent_price: int = 0,
    sent_size: int = 0,
    first: OrderUpdateKind = OrderUpdateKind.ACCEPTED,
    filled_before: int = 0,
) -> Events:
    """A new order's answer as events: ``first`` (ACCEPTED), its fills, and how it ended.

    Args:
        market: the order's market.
        answer: the decoded answer.
        side: the side we sent (an ``ACK`` does not repeat it).
        recv_ts: when the answer arrived.
        sent_price: the price we sent, for an ``ACK``.
        sent_size: the size we sent (lots), for an ``ACK``.
        first: the update that opens the events (REPLACED for a cancel-replace's new order).
        filled_before: lots filled on orders this one replaced; sizes and fills counted on top.
    """
    exch_ts = answer.transact_time * _MS
    client = answer.client_order_id
    price = ticks(market, answer.price, "price") if answer.price is not None else sent_price
    size = lots(market, answer.orig_qty, "origQty") if answer.orig_qty is not None else sent_size
    status = answer.status
    if status == "REJECTED":
        return [
            accepted(
                market,
                client,
                answer.order_id,
                kind=OrderUpdateKind.REJECTED,
                reason="rejected by the venue",
                price_ticks=price,
                size_lots=size,
                exch_ts=exch_ts,
                recv_ts=recv_ts,
            )
        ]
    events: Events = [
        accepted(
            market,
            client,
            answer.order_id,
            kind=first,
            price_ticks=price,
            size_lots=filled_before + size,
            filled_lots=filled_before,
            exch_ts=exch_ts,
            recv_ts=recv_ts,
        )
    ]
    for part in answer.fills:
        fill_ticks = ticks(market, part.price, "fills[].price")
        fill_lots = lots(market, part.qty, "fills[].qty")
        events.append(
            Fill(
                venue=VENUE,
                instrument=market.instrument_id,
                client_order_id=client,
                venue_order_id=str(answer.order_id),
                trade_id=trade_id(market.symbol, part.trade_id, side),
                side=side,
                price=fill_ticks,
                size=fill_lots,
                fee=fee_units(
                    market, part.commission, part.commission_asset, fill_ticks, fill_lots
                ),
                liquidity="taker",
                exch_ts=exch_ts,
                recv_ts=recv_ts,
                fee_base=part.commission if part.commission_asset == market.base_asset else "",
            )
        )
    ended = _ending(status, answer.time_in_force, answer.type)
    if ended is not None:
        kind, reason = ended
        filled = filled_before
        if answer.executed_qty is not None:
            filled += lots(market, answer.executed_qty, "executedQty")
        events.append(
            accepted(
                market,
                client,
                answer.order_id,
                kind=kind,
                reason=reason,
                price_ticks=price,
                size_lots=filled_before + size,
                filled_lots=filled,
                exch_ts=exch_ts,
                recv_ts=recv_ts,
            )
        )
    return events


def _ending(
    status: str | None, time_in_force: str, order_type: str
) -> tuple[OrderUpdateKind, str] | None:
    """How an order that already ended in its answer ended, or None while it works or filled."""
    if status == "EXPIRED":
        if order_type == "MARKET":
            return OrderUpdateKind.EXPIRED, "market order remainder expired (no more liquidity)"
        if time_in_force in ("IOC", "FOK"):
            return OrderUpdateKind.EXPIRED, f"{time_in_force} remainder expired"
        return OrderUpdateKind.EXPIRED, "expired by the venue"
    if status == "EXPIRED_IN_MATCH":
        return OrderUpdateKind.EXPIRED, "self-trade prevention"
    if status == "CANCELED":
        return OrderUpdateKind.CANCELED, "canceled by the venue"
    return None


def new_order_events(
    market: BinanceMarket, body: bytes, side: Side, recv_ts: int, sent_price: int, sent_size: int
) -> Events:
    """``POST /api/v3/order`` 200 answer body as events.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    answer = decode(body, OrderAnswer, "new order answer")
    return order_events(market, answer, side, recv_ts, sent_price=sent_price, sent_size=sent_size)


# ---- cancels -----------------------------------------------------------------------------------


def canceled_update(
    market: BinanceMarket,
    answer: CancelAnswer,
    recv_ts: int,
    reason: str = "",
    code: int = 0,
    filled_before: int = 0,
) -> OrderUpdate:
    """A cancel answer as a CANCELED update for its original client order id."""
    return accepted(
        market,
        answer.orig_client_order_id,
        answer.order_id,
        kind=OrderUpdateKind.CANCELED,
        reason=reason,
        code=code,
        price_ticks=ticks(market, answer.price, "price") if answer.price is not None else 0,
        size_lots=filled_before
        + (lots(market, answer.orig_qty, "origQty") if answer.orig_qty else 0),
        filled_lots=filled_before
        + (lots(market, answer.executed_qty, "executedQty") if answer.executed_qty else 0),
        exch_ts=answer.transact_time * _MS,
        recv_ts=recv_ts,
    )


def cancel_event(market: BinanceMarket, body: bytes, recv_ts: int) -> OrderUpdate:
    """``DELETE /api/v3/order`` 200 answer as a CANCELED update (for the original client id).

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    return canceled_update(market, decode(body, CancelAnswer, "cancel answer"), recv_ts)


def cancel_all_events(
    markets: Mapping[str, BinanceMarket], body: bytes, recv_ts: int
) -> list[OrderUpdate]:
    """``DELETE /api/v3/openOrders`` 200 answer: one CANCELED per order (order lists included).

    Raises:
        VenueGarbage: the answer is not a list of cancels, or names a symbol we do not trade.
    """
    out = []
    for raw in decode(body, list[msgspec.Raw], "cancel-all answer"):
        entry = decode(raw, _ListEntry, "cancel-all entry")
        reports = entry.order_reports
        if reports is None:
            reports = [decode(raw, CancelAnswer, "cancel-all entry")]
        for report in reports:
            market = markets.get(report.symbol)
            if market is None:
                raise VenueGarbage(VENUE, f"cancel-all answer names {report.symbol!r}", body)
            out.append(canceled_update(market, report, recv_ts, reason="cancel-all"))
    return out


# ---- queries -----------------------------------------------------------------------------------


def open_orders_answer(markets: Mapping[str, BinanceMarket], body: bytes) -> list[VenueOrder]:
    """``GET /api/v3/openOrders`` as venue orders; symbols we do not trade are left out.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    out = []
    for order in decode(body, list[_OpenOrder], "open orders"):
        market = markets.get(order.symbol)
        if market is None:
            continue
        order_type, tif = order_kind(order.type, order.time_in_force)
        out.append(
            VenueOrder(
                instrument=market.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id=str(order.order_id),
                side=side_of(order.side),
                price_ticks=ticks(market, order.price, "price"),
                size_lots=lots(market, order.orig_qty, "origQty"),
                filled_lots=lots(market, order.executed_qty, "executedQty"),
                order_type=order_type,
                time_in_force=tif,
            )
        )
    return out


def positions_answer(markets: Mapping[int, BinanceMarket], body: bytes) -> list[VenuePosition]:
    """``GET /api/v3/account`` as one position per market: its base asset, free plus locked.

    Balances finer than the lot grid are cut down to whole lots (dust is not a position).

    Raises:
        VenueGarbage: the answer is not an account, or a balance is not a number.
    """
    account = decode(body, _Account, "account")
    held: dict[str, Decimal] = {}
    for balance in account.balances:
        try:
            held[balance.asset] = Decimal(balance.free) + Decimal(balance.locked)
        except InvalidOperation:
            raise VenueGarbage(
                VENUE, f"account: balance of {balance.asset} is not a number", body
            ) from None
    out = []
    for market in markets.values():
        amount = held.get(market.base_asset, Decimal(0))
        net = int(amount / market.size.step)  # toward zero: whole lots only
        out.append(VenuePosition(instrument=market.instrument_id, net_lots=net, inventory=True))
    return out


class _MyTrade(msgspec.Struct, kw_only=True):
    symbol: str
    id: int
    order_id: int = msgspec.field(name="orderId")
    price: str
    qty: str
    commission: str = "0"
    commission_asset: str | None = msgspec.field(name="commissionAsset", default=None)
    time: int = 0
    is_buyer: bool = msgspec.field(name="isBuyer")
    is_maker: bool = msgspec.field(name="isMaker", default=False)


def my_trades_answer(
    by_symbol: Mapping[str, BinanceMarket],
    body: bytes,
    client_of: Mapping[str, str],
    recv_ts: int,
) -> list[Fill]:
    """``GET /api/v3/myTrades`` as fills, with the same trade ids as the stream's.

    The venue's trades carry its order id, not ours: ``client_of`` maps venue order ids to our
    client order ids; a trade of an order we cannot name keeps an empty client id.

    Raises:
        VenueGarbage: the answer is not a list of trades, or a field is missing or malformed.
    """
    trades = decode(body, list[_MyTrade], "myTrades")
    out = []
    for trade in trades:
        market = by_symbol.get(trade.symbol)
        if market is None:
            continue
        side = Side.BUY if trade.is_buyer else Side.SELL
        price = ticks(market, trade.price, "myTrades[].price")
        size = lots(market, trade.qty, "myTrades[].qty")
        out.append(
            Fill(
                venue=VENUE,
                instrument=market.instrument_id,
                client_order_id=client_of.get(str(trade.order_id), ""),
                venue_order_id=str(trade.order_id),
                trade_id=trade_id(market.symbol, trade.id, side),
                side=side,
                price=price,
                size=size,
                fee=fee_units(market, trade.commission, trade.commission_asset, price, size),
                liquidity="maker" if trade.is_maker else "taker",
                exch_ts=trade.time * _MS,
                recv_ts=recv_ts,
                fee_base=trade.commission if trade.commission_asset == market.base_asset else "",
            )
        )
    return out


def order_status_answer(markets: Mapping[str, BinanceMarket], body: bytes) -> VenueOrder | None:
    """``GET /api/v3/order`` as a venue order (``open`` False once it is finished).

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    order = decode(body, _QueriedOrder, "order query")
    market = markets.get(order.symbol)
    if market is None:
        return None
    order_type, tif = order_kind(order.type, order.time_in_force)
    return VenueOrder(
        instrument=market.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=str(order.order_id),
        side=side_of(order.side),
        price_ticks=ticks(market, order.price, "price"),
        size_lots=lots(market, order.orig_qty, "origQty"),
        filled_lots=lots(market, order.executed_qty, "executedQty"),
        order_type=order_type,
        time_in_force=tif,
        open=order.status in ("NEW", "PARTIALLY_FILLED", "PENDING_NEW"),
    )


class _QueriedOrder(_OpenOrder, kw_only=True):
    status: str
