"""Binance USD-M REST answers as events and reconciliation records (venues.md §2.6).

Pure functions over answer bodies. Every order endpoint (new, modify, cancel, query, open
orders) answers with the same order object; :class:`OrderAnswer` reads it and :func:`order_state`
turns it into ticks and lots. USD-M answers carry no fills (they come on the user stream, and
from ``userTrades``), so a new order's answer is an ack plus, when the order already ended, how
it ended (:func:`ending`). ``positionRisk`` gives net positions (real positions, not balances),
``balance`` the futures wallet, ``userTrades`` fills with the same trade ids as the stream's.
Decoding is msgspec (unknown fields ignored), text becomes ticks and lots exactly, a missing or
malformed field raises :class:`~engine.errors.VenueGarbage` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Literal

import msgspec

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.binance.orders import (
    BinanceMarket,
    decode,
    fee_units,
    lots,
    side_of,
    ticks,
    trade_id,
)
from engine.venues.binance_usdm.orders import VENUE, order_kind, update

_MS = 1_000_000
_UNITS = Decimal(10**8)

OrderStatusText = Literal[
    "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"
]
"""Every order ``status`` USD-M sends."""


class OrderAnswer(msgspec.Struct, kw_only=True):
    """USD-M's order object, as every order endpoint answers."""

    symbol: str
    order_id: int = msgspec.field(name="orderId")
    client_order_id: str = msgspec.field(name="clientOrderId")
    status: OrderStatusText
    price: str
    orig_qty: str = msgspec.field(name="origQty")
    executed_qty: str = msgspec.field(name="executedQty")
    side: str
    type: str
    time_in_force: str = msgspec.field(name="timeInForce", default="GTC")
    reduce_only: bool = msgspec.field(name="reduceOnly", default=False)
    update_time: int = msgspec.field(name="updateTime", default=0)


class OrderState(msgspec.Struct, frozen=True, kw_only=True):
    """An order object in our units."""

    client_order_id: str
    venue_order_id: str
    status: str
    side: Side
    time_in_force: str
    """``GTC``, ``IOC``, ``FOK``, ``GTX``; ``MARKET`` for a market order."""
    price_ticks: int
    size_lots: int
    filled_lots: int
    exch_ts: int

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED."""
        return self.status in ("NEW", "PARTIALLY_FILLED")


def order_answer(body: bytes, what: str) -> OrderAnswer:
    """Decode an order object.

    Raises:
        VenueGarbage: ``what`` and the field that is missing or malformed.
    """
    return decode(body, OrderAnswer, what)


def order_state(market: BinanceMarket, answer: OrderAnswer) -> OrderState:
    """An order object's numbers as ticks and lots.

    Raises:
        VenueGarbage: a number off the instrument's grid, or a side that is not BUY/SELL.
    """
    return OrderState(
        client_order_id=answer.client_order_id,
        venue_order_id=str(answer.order_id),
        status=answer.status,
        side=side_of(answer.side),
        time_in_force="MARKET" if answer.type == "MARKET" else answer.time_in_force,
        price_ticks=ticks(market, answer.price, "price"),
        size_lots=lots(market, answer.orig_qty, "origQty"),
        filled_lots=lots(market, answer.executed_qty, "executedQty"),
        exch_ts=answer.update_time * _MS,
    )


def acked(market: BinanceMarket, state: OrderState, recv_ts: int) -> OrderUpdate:
    """The ACCEPTED an order object means (fills are reported on their own)."""
    return update(
        market,
        state.client_order_id,
        OrderUpdateKind.ACCEPTED,
        venue_order_id=state.venue_order_id,
        price_ticks=state.price_ticks,
        size_lots=state.size_lots,
        exch_ts=state.exch_ts,
        recv_ts=recv_ts,
    )


def ending(market: BinanceMarket, state: OrderState, recv_ts: int) -> OrderUpdate | None:
    """How an order that is over ended (CANCELED, EXPIRED, REJECTED); None while open or FILLED."""
    status = state.status
    if status == "CANCELED":
        kind, reason = OrderUpdateKind.CANCELED, ""
    elif status == "EXPIRED_IN_MATCH":
        kind, reason = OrderUpdateKind.EXPIRED, "self-trade prevention"
    elif status == "EXPIRED":
        kind, reason = OrderUpdateKind.EXPIRED, f"{state.time_in_force} remainder expired"
    elif status == "REJECTED":
        kind, reason = OrderUpdateKind.REJECTED, "rejected by the venue"
    else:
        return None
    return update(
        market,
        state.client_order_id,
        kind,
        venue_order_id=state.venue_order_id,
        reason=reason,
        price_ticks=state.price_ticks,
        size_lots=state.size_lots,
        filled_lots=state.filled_lots,
        exch_ts=state.exch_ts,
        recv_ts=recv_ts,
    )


# ---- queries -----------------------------------------------------------------------------------


def venue_order(market: BinanceMarket, answer: OrderAnswer) -> VenueOrder:
    """An order object as the venue's record of one order (``open`` while it works).

    Raises:
        VenueGarbage: a number off the instrument's grid, or a side that is not BUY/SELL.
    """
    state = order_state(market, answer)
    order_type, tif = order_kind(answer.type, answer.time_in_force)
    return VenueOrder(
        instrument=market.instrument_id,
        client_order_id=state.client_order_id,
        venue_order_id=state.venue_order_id,
        side=state.side,
        price_ticks=state.price_ticks,
        size_lots=state.size_lots,
        filled_lots=state.filled_lots,
        order_type=order_type,
        time_in_force=tif,
        open=state.is_open,
    )


def open_orders_answer(markets: Mapping[str, BinanceMarket], body: bytes) -> list[VenueOrder]:
    """``GET /fapi/v1/openOrders`` as venue orders; symbols we do not trade are left out.

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    return [
        venue_order(markets[answer.symbol], answer)
        for answer in decode(body, list[OrderAnswer], "open orders")
        if answer.symbol in markets
    ]


class _PositionRisk(msgspec.Struct, kw_only=True):
    symbol: str
    position_amt: str = msgspec.field(name="positionAmt")
    position_side: str = msgspec.field(name="positionSide", default="BOTH")


def positions_answer(markets: Mapping[int, BinanceMarket], body: bytes) -> list[VenuePosition]:
    """``GET /fapi/v3/positionRisk`` as one net position per market (0 when not listed).

    Hedge mode's LONG and SHORT rows add up to the net position.

    Raises:
        VenueGarbage: the answer is not a list of positions, or an amount is off the lot grid.
    """
    rows = decode(body, list[_PositionRisk], "positionRisk")
    by_symbol = {m.symbol: m for m in markets.values()}
    net = dict.fromkeys(by_symbol, 0)
    for row in rows:
        market = by_symbol.get(row.symbol)
        if market is None:
            continue
        amount = row.position_amt
        negative = amount.startswith("-")
        size = lots(market, amount.lstrip("-"), "positionAmt")
        net[row.symbol] += -size if negative else size
    return [
        VenuePosition(instrument=market.instrument_id, net_lots=net[market.symbol], inventory=False)
        for market in markets.values()
    ]


class MarginBalance(msgspec.Struct, frozen=True, kw_only=True):
    """One asset of the futures wallet, in units of 10**-8."""

    asset: str
    wallet: int
    """``balance``: the wallet balance (realised PnL and fees in, no unrealised PnL)."""
    available: int
    """``availableBalance``: what new orders may use."""
    unrealized: int
    """``crossUnPnl``: unrealised PnL of the cross positions."""


class _Balance(msgspec.Struct, kw_only=True):
    asset: str
    balance: str
    available: str = msgspec.field(name="availableBalance", default="0")
    unrealized: str = msgspec.field(name="crossUnPnl", default="0")


def balances_answer(body: bytes) -> list[MarginBalance]:
    """``GET /fapi/v3/balance`` as exact units of each asset.

    Raises:
        VenueGarbage: the answer is not a list of balances, or an amount is not a number with
            at most eight decimals.
    """
    return [
        MarginBalance(
            asset=row.asset,
            wallet=_units(row.balance, f"{row.asset} balance"),
            available=_units(row.available, f"{row.asset} availableBalance"),
            unrealized=_units(row.unrealized, f"{row.asset} crossUnPnl"),
        )
        for row in decode(body, list[_Balance], "balance")
    ]


def _units(text: str, what: str) -> int:
    try:
        value = Decimal(text) * _UNITS
    except InvalidOperation:
        raise VenueGarbage(VENUE, f"{what} {text!r} is not a number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise VenueGarbage(VENUE, f"{what} {text!r} is not a number with at most 8 decimals")
    return int(value)


class _UserTrade(msgspec.Struct, kw_only=True):
    symbol: str
    id: int
    order_id: int = msgspec.field(name="orderId")
    side: str
    price: str
    qty: str
    commission: str = "0"
    commission_asset: str | None = msgspec.field(name="commissionAsset", default=None)
    maker: bool = False
    time: int = 0


def user_trades_answer(
    markets: Mapping[str, BinanceMarket],
    body: bytes,
    client_of: Mapping[str, str],
    recv_ts: int,
) -> list[Fill]:
    """``GET /fapi/v1/userTrades`` as fills, with the same trade ids as the stream's.

    The venue's trades carry its order id, not ours: ``client_of`` maps venue order ids to our
    client order ids; a trade of an order we cannot name keeps an empty client id.

    Raises:
        VenueGarbage: the answer is not a list of trades, or a field is missing or malformed.
    """
    out = []
    for trade in decode(body, list[_UserTrade], "userTrades"):
        market = markets.get(trade.symbol)
        if market is None:
            continue
        side = side_of(trade.side)
        price = ticks(market, trade.price, "userTrades[].price")
        size = lots(market, trade.qty, "userTrades[].qty")
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
                liquidity="maker" if trade.maker else "taker",
                exch_ts=trade.time * _MS,
                recv_ts=recv_ts,
            )
        )
    return out


class _ListenKey(msgspec.Struct):
    listen_key: str = msgspec.field(name="listenKey")


def listen_key_answer(body: bytes) -> str:
    """``POST``/``PUT /fapi/v1/listenKey``: the key.

    Raises:
        VenueGarbage: the answer has no key.
    """
    key = decode(body, _ListenKey, "listenKey answer").listen_key
    if not key:
        raise VenueGarbage(VENUE, "listenKey answer with an empty key", body)
    return key


class _CancelAll(msgspec.Struct):
    code: int
    msg: str = ""


def cancel_all_answer(body: bytes) -> None:
    """``DELETE /fapi/v1/allOpenOrders``: ``{"code": 200, "msg": ...}``, the ends on the stream.

    Raises:
        VenueGarbage: any other answer.
    """
    answer = decode(body, _CancelAll, "cancel-all answer")
    if answer.code != 200:
        raise VenueGarbage(VENUE, f"cancel-all answered code {answer.code}: {answer.msg}", body)
