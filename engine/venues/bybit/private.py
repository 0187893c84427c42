"""Bybit v5's private WebSocket, pure protocol: requests out, topic pushes in (venues.md §3.9).

Requests are ``{"req_id", "op", "args"}``: ``auth`` (:mod:`engine.venues.bybit.signing`),
``subscribe`` and ``ping``. Answers to them are ``{"success", "ret_msg", "op", "req_id",
"conn_id"}``; the private socket answers a ping with ``{"op":"pong","args":["<ms>"]}``. Pushes
are ``{"id", "topic", "creationTime", "data":[...]}``; only items of category ``linear`` for
symbols we trade become events (others are counted and left out):

==============  ========================================================================
topic           event
==============  ========================================================================
``order``       ``New``, ``PartiallyFilled``, ``Untriggered``, ``Triggered``: ACCEPTED;
                ``Rejected``: REJECTED (``rejectReason``); ``Cancelled`` and
                ``Deactivated``: CANCELED, or EXPIRED when the venue ended it (post-only
                that would take, IOC/FOK/market remainder, self-trade prevention, reduce-only
                with nothing left to reduce); ``Filled``: nothing (fills come from
                ``execution``)
``execution``   Fill for ``execType`` Trade, AdlTrade, BustTrade: ``execId`` as trade id,
                ``execFee`` in fee units, ``isMaker`` as liquidity; funding and settlement
                are not fills
``position``    :class:`PositionReport` (one-way net lots per symbol)
``wallet``      :class:`OtherTopic` (balances are for reconciliation)
==============  ========================================================================

A missing or malformed field raises :class:`~engine.errors.VenueGarbage` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind
from engine.errors import VenueGarbage
from engine.venues.base import VenuePosition
from engine.venues.bybit.answers import OrderFields, net_lots
from engine.venues.bybit.orders import (
    CATEGORY,
    VENUE,
    BybitMarket,
    decode,
    fee_units,
    lots,
    ms_text,
    side_of,
    ticks,
)

TOPICS = ("order", "execution", "position", "wallet")
"""What the gateway subscribes to."""
_K = OrderUpdateKind
_WORKING = frozenset({"New", "PartiallyFilled", "Untriggered", "Triggered"})
_ENDED = frozenset({"Cancelled", "PartiallyFilledCanceled", "Deactivated"})
_FILL_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade"})
_NO_LIQUIDITY = frozenset(
    {"EC_NoImmediateQtyToFill", "EC_CancelForNoFullFill", "EC_NoEnoughQtyToFill"}
)
POST_ONLY_WOULD_TAKE = "EC_PostOnlyWillTakeLiquidity"
_encode = msgspec.json.Encoder().encode

Events = list[OrderUpdate | Fill]


def subscribe_frame(req_id: str, topics: tuple[str, ...] = TOPICS) -> str:
    """The ``subscribe`` request for ``topics``."""
    return _encode({"req_id": req_id, "op": "subscribe", "args": list(topics)}).decode()


def ping_frame(req_id: str) -> str:
    """The ``ping`` heartbeat (send one every 20 s)."""
    return _encode({"req_id": req_id, "op": "ping"}).decode()


class OpAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's answer to ``auth``, ``subscribe`` or ``ping``."""

    op: str
    req_id: str = ""
    success: bool = True
    ret_msg: str = ""


class PositionReport(msgspec.Struct, frozen=True):
    """A ``position`` push: the net position of each symbol it names."""

    positions: list[VenuePosition]


class OtherTopic(msgspec.Struct, frozen=True):
    """A push the gateway does not act on (``wallet``, other categories)."""

    topic: str


PrivateFrame = OpAnswer | PositionReport | OtherTopic | Events


class _Frame(msgspec.Struct, kw_only=True):
    op: str = ""
    req_id: str = ""
    success: bool | None = None
    ret_msg: str = ""
    topic: str = ""
    data: msgspec.Raw = msgspec.Raw()


class _OrderItem(OrderFields, kw_only=True):
    category: str = CATEGORY
    reject_reason: str = msgspec.field(name="rejectReason", default="EC_NoError")
    cancel_type: str = msgspec.field(name="cancelType", default="UNKNOWN")
    updated_time: str | int = msgspec.field(name="updatedTime")


class ExecutionItem(msgspec.Struct, kw_only=True):
    """One ``execution`` push item, or one ``/v5/execution/list`` record (the same fields)."""

    category: str = CATEGORY
    symbol: str
    order_id: str = msgspec.field(name="orderId")
    order_link_id: str = msgspec.field(name="orderLinkId", default="")
    side: str
    exec_id: str = msgspec.field(name="execId")
    exec_price: str = msgspec.field(name="execPrice")
    exec_qty: str = msgspec.field(name="execQty")
    exec_fee: str = msgspec.field(name="execFee")
    exec_type: str = msgspec.field(name="execType")
    exec_time: str | int = msgspec.field(name="execTime")
    is_maker: bool = msgspec.field(name="isMaker")


class _PositionItem(msgspec.Struct, kw_only=True):
    category: str = CATEGORY
    symbol: str
    side: str
    size: str


class PrivateParser:
    """Turns private-stream frames into answers, events and position reports.

    Args:
        markets: our markets by symbol.
        venue: the venue name the events carry (the gateway's).
    """

    def __init__(self, markets: Mapping[str, BybitMarket], venue: str = VENUE) -> None:
        self.markets = dict(markets)
        self.venue = venue
        self.foreign = 0
        """Items left out: other categories, or symbols we do not trade."""

    def parse(self, raw: bytes | str, recv_ts: int) -> PrivateFrame:
        """One frame.

        Raises:
            VenueGarbage: the frame is not JSON, has no known shape, or a field is malformed.
        """
        frame = decode(raw, _Frame, "private stream frame")
        if frame.topic:
            if not frame.data:
                raise VenueGarbage(VENUE, f"`{frame.topic}` push without `data`", raw)
            return self._push(frame.topic, frame.data, recv_ts)
        if frame.op:
            success = frame.op == "pong" or frame.success is not False
            return OpAnswer(
                op=frame.op, req_id=frame.req_id, success=success, ret_msg=frame.ret_msg
            )
        raise VenueGarbage(VENUE, "private stream frame is neither an answer nor a push", raw)

    def _push(self, topic: str, data: msgspec.Raw, recv_ts: int) -> PrivateFrame:
        base = topic.partition(".")[0]
        if base == "order":
            items = decode(data, list[_OrderItem], "order push")
            return [u for i in items if (u := self.order_update(i, recv_ts)) is not None]
        if base == "execution":
            execs = decode(data, list[ExecutionItem], "execution push")
            return [f for e in execs if (f := self.fill(e, recv_ts)) is not None]
        if base == "position":
            positions = decode(data, list[_PositionItem], "position push")
            return PositionReport(
                [p for item in positions if (p := self._position(item)) is not None]
            )
        return OtherTopic(topic)

    def _market(self, category: str, symbol: str) -> BybitMarket | None:
        market = self.markets.get(symbol) if category == CATEGORY else None
        if market is None:
            self.foreign += 1
        return market

    def order_update(self, item: _OrderItem, recv_ts: int) -> OrderUpdate | None:
        """One ``order`` item as an update (None for ``Filled`` and foreign items).

        Raises:
            VenueGarbage: a field is malformed or the status is not one Bybit sends.
        """
        market = self._market(item.category, item.symbol)
        if market is None:
            return None
        status = item.order_status
        reason = ""
        if status in _WORKING:
            kind = _K.ACCEPTED
        elif status == "Filled":
            return None
        elif status == "Rejected":
            kind = _K.REJECTED
            reason = item.reject_reason
        elif status in _ENDED:
            kind, reason = _ending(item)
        else:
            raise VenueGarbage(VENUE, f"{item.symbol} order status {status!r} is not one we know")
        price = ticks(market, item.price, "price") if item.price not in ("", "0") else 0
        return OrderUpdate(
            venue=self.venue,
            instrument=market.instrument_id,
            client_order_id=item.order_link_id,
            kind=kind,
            venue_order_id=item.order_id,
            reason=reason,
            price_ticks=price,
            size_lots=lots(market, item.qty, "qty"),
            filled_lots=lots(market, item.cum_exec_qty, "cumExecQty"),
            exch_ts=ms_text(item.updated_time, "updatedTime"),
            recv_ts=recv_ts,
        )

    def fill(self, item: ExecutionItem, recv_ts: int) -> Fill | None:
        """One ``execution`` item as a fill (None for funding, settlement and foreign items).

        Raises:
            VenueGarbage: a field is malformed.
        """
        market = self._market(item.category, item.symbol)
        if market is None or item.exec_type not in _FILL_TYPES:
            return None
        if not item.exec_id:
            raise VenueGarbage(VENUE, f"{item.symbol} execution without an `execId`")
        return Fill(
            venue=self.venue,
            instrument=market.instrument_id,
            client_order_id=item.order_link_id,
            venue_order_id=item.order_id,
            trade_id=item.exec_id,
            side=side_of(item.side),
            price=ticks(market, item.exec_price, "execPrice"),
            size=lots(market, item.exec_qty, "execQty"),
            fee=fee_units(market, item.exec_fee),
            liquidity="maker" if item.is_maker else "taker",
            exch_ts=ms_text(item.exec_time, "execTime"),
            recv_ts=recv_ts,
        )

    def _position(self, item: _PositionItem) -> VenuePosition | None:
        market = self._market(item.category, item.symbol)
        if market is None:
            return None
        return VenuePosition(
            instrument=market.instrument_id, net_lots=net_lots(market, item.side, item.size)
        )


def _ending(item: _OrderItem) -> tuple[OrderUpdateKind, str]:
    """How an order that left the book ended: CANCELED, or EXPIRED when the venue ended it."""
    reject, cancel = item.reject_reason, item.cancel_type
    if reject == POST_ONLY_WOULD_TAKE:
        return _K.EXPIRED, reject
    if cancel == "CancelBySmp" or reject == "EC_BySelfMatch":
        return _K.EXPIRED, "self-trade prevention"
    if cancel == "CancelByReduceOnly":
        return _K.EXPIRED, "reduce-only order has no position left to reduce"
    if reject in _NO_LIQUIDITY or (
        cancel != "CancelByUser"
        and (item.order_type == "Market" or item.time_in_force in ("IOC", "FOK"))
    ):
        return _K.EXPIRED, f"{item.time_in_force} remainder expired ({reject})"
    if cancel in ("CancelByUser", "UNKNOWN", ""):
        return _K.CANCELED, ""
    return _K.CANCELED, cancel
