"""Binance spot's user data stream over the WebSocket API, pure protocol (venues.md §1.10).

We subscribe with ``userDataStream.subscribe.signature`` (works with any key type, no logon),
signed as the WebSocket API signs: every param but ``signature`` sorted by name, raw UTF-8
(:func:`engine.venues.binance.signing.sign_ws`). Frames coming back are either answers to our
requests, ``{"id", "status", "result" | "error"}``, or events, ``{"subscriptionId", "event"}``.

``executionReport`` events become our events, by execution type ``x`` (the order status ``X`` is
checked to be one Binance sends):

==================  =====================================================================
``x``               event
==================  =====================================================================
NEW                 ACCEPTED (``i`` the venue order id, ``p``/``q``/``z``)
TRADE               Fill (``t`` as trade id, ``L``/``l``, commission ``n`` in ``N``, ``m``)
CANCELED            CANCELED for the original client id ``C`` (``c`` when ``C`` is empty)
REPLACED            REPLACED (an amend: new ``p``/``q``)
REJECTED            REJECTED with reason ``r``
EXPIRED             EXPIRED (IOC/FOK remainder, or ``X`` = EXPIRED_IN_MATCH: self-trade)
TRADE_PREVENTION    EXPIRED, reason "self-trade prevention"
==================  =====================================================================

``eventStreamTerminated`` ends the subscription (:class:`StreamTerminated`); account events
(``outboundAccountPosition``, ``balanceUpdate``, ``listStatus``, ``externalLockUpdate``) are
recognised and left to reconciliation (:class:`OtherEvent`). Unknown fields are ignored; a
missing or malformed field raises :class:`~engine.errors.VenueGarbage` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from engine.core.events import Fill, OrderUpdateKind
from engine.errors import GatewayError, VenueGarbage
from engine.venues.binance.errors import ws_error
from engine.venues.binance.orders import (
    VENUE,
    BinanceMarket,
    Events,
    OrderStatusText,
    accepted,
    decode,
    fee_units,
    lots,
    side_of,
    ticks,
    trade_id,
)
from engine.venues.binance.signing import sign_ws

_MS = 1_000_000
SUBSCRIBE = "userDataStream.subscribe.signature"

ExecutionType = Literal[
    "NEW", "CANCELED", "REPLACED", "REJECTED", "TRADE", "EXPIRED", "TRADE_PREVENTION"
]
"""Every execution type ``x`` Binance spot sends."""


def subscribe_request(
    request_id: str, api_key: str, secret: bytes, timestamp_ms: int, recv_window_ms: int = 0
) -> str:
    """The signed ``userDataStream.subscribe.signature`` request frame."""
    params: dict[str, str | int] = {"apiKey": api_key, "timestamp": timestamp_ms}
    if recv_window_ms:
        params["recvWindow"] = recv_window_ms
    params["signature"] = sign_ws(secret, {k: str(v) for k, v in params.items()})
    frame = {"id": request_id, "method": SUBSCRIBE, "params": params}
    return msgspec.json.encode(frame).decode()


# ---- frames ------------------------------------------------------------------------------------


class _ErrorData(msgspec.Struct):
    server_time: int = msgspec.field(name="serverTime", default=0)
    retry_after: int | None = msgspec.field(name="retryAfter", default=None)


class _Error(msgspec.Struct):
    code: int
    msg: str
    data: _ErrorData | None = None


class _Frame(msgspec.Struct, kw_only=True):
    id: str | int | None = None
    status: int = 0
    result: msgspec.Raw = msgspec.Raw()
    error: _Error | None = None
    subscription_id: int | None = msgspec.field(name="subscriptionId", default=None)
    event: msgspec.Raw = msgspec.Raw()


class _Subscribed(msgspec.Struct):
    subscription_id: int = msgspec.field(name="subscriptionId")


class _EventHead(msgspec.Struct):
    e: str


class StreamAnswer:
    """The venue's answer to one of our requests: a subscription id, or an error."""

    __slots__ = ("error", "request_id", "status", "subscription_id")

    def __init__(
        self, request_id: str, status: int, subscription_id: int, error: GatewayError | None
    ) -> None:
        self.request_id = request_id
        self.status = status
        self.subscription_id = subscription_id
        """-1 unless the answer carried one."""
        self.error = error


class StreamTerminated:
    """``eventStreamTerminated``: the subscription ended; subscribe again."""

    __slots__ = ("subscription_id",)

    def __init__(self, subscription_id: int) -> None:
        self.subscription_id = subscription_id


class OtherEvent:
    """An account event the gateway does not act on (balances, order lists)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


UserFrame = StreamAnswer | StreamTerminated | OtherEvent | Events


class _ExecutionReport(msgspec.Struct, kw_only=True):
    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    client_order_id: str = msgspec.field(name="c")
    side: str = msgspec.field(name="S")
    order_type: str = msgspec.field(name="o")
    time_in_force: str = msgspec.field(name="f")
    quantity: str = msgspec.field(name="q")
    price: str = msgspec.field(name="p")
    orig_client_order_id: str | None = msgspec.field(name="C", default=None)
    execution: ExecutionType = msgspec.field(name="x")
    status: OrderStatusText = msgspec.field(name="X")
    reject_reason: str = msgspec.field(name="r", default="NONE")
    order_id: int = msgspec.field(name="i")
    last_qty: str = msgspec.field(name="l")
    filled_qty: str = msgspec.field(name="z")
    last_price: str = msgspec.field(name="L")
    commission: str | None = msgspec.field(name="n", default=None)
    commission_asset: str | None = msgspec.field(name="N", default=None)
    transact_time: int = msgspec.field(name="T")
    trade: int = msgspec.field(name="t", default=-1)
    maker: bool = msgspec.field(name="m", default=False)


class UserStreamParser:
    """Turns user-stream frames into answers and events for our markets.

    Args:
        markets: our markets by symbol; reports for other symbols are garbage to us.
    """

    def __init__(self, markets: Mapping[str, BinanceMarket]) -> None:
        self.markets = dict(markets)

    def parse(self, raw: bytes | str, recv_ts: int) -> UserFrame:
        """One frame.

        Raises:
            VenueGarbage: the frame is not JSON, has no known shape, or a field is malformed.
        """
        frame = decode(raw, _Frame, "user stream frame")
        if frame.event:
            return self._event(bytes(frame.event), frame.subscription_id or -1, recv_ts, raw)
        if frame.status:
            return self._answer(frame)
        raise VenueGarbage(VENUE, "user stream frame is neither an answer nor an event", raw)

    def _answer(self, frame: _Frame) -> StreamAnswer:
        request_id = "" if frame.id is None else str(frame.id)
        if frame.error is not None:
            err = frame.error
            data = err.data or _ErrorData()
            error = ws_error(
                frame.status, err.code, err.msg, data.retry_after, now_ms=data.server_time
            )
            return StreamAnswer(request_id, frame.status, -1, error)
        subscription = -1
        if bytes(frame.result).lstrip().startswith(b"{"):
            try:
                subscription = msgspec.json.decode(frame.result, type=_Subscribed).subscription_id
            except msgspec.ValidationError:
                subscription = -1
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                raise VenueGarbage(VENUE, f"user stream answer: {exc}") from None
        return StreamAnswer(request_id, frame.status, subscription, None)

    def _event(self, event: bytes, subscription: int, recv_ts: int, raw: bytes | str) -> UserFrame:
        kind = decode(event, _EventHead, "user stream event").e
        if kind == "executionReport":
            report = decode(event, _ExecutionReport, "executionReport")
            return self.execution_report(report, recv_ts)
        if kind == "eventStreamTerminated":
            return StreamTerminated(subscription)
        if kind in ("outboundAccountPosition", "balanceUpdate", "listStatus", "externalLockUpdate"):
            return OtherEvent(kind)
        raise VenueGarbage(VENUE, f"user stream event of unknown type {kind!r}", raw)

    def execution_report(self, report: _ExecutionReport, recv_ts: int) -> Events:
        """One ``executionReport`` as events (see the module docstring's table)."""
        market = self.markets.get(report.symbol)
        if market is None:
            raise VenueGarbage(VENUE, f"executionReport for {report.symbol!r}, not one of ours")
        side = side_of(report.side, "S")
        exch_ts = report.transact_time * _MS
        x = report.execution
        if x == "TRADE":
            price = ticks(market, report.last_price, "L")
            size = lots(market, report.last_qty, "l")
            if report.trade < 0:
                raise VenueGarbage(VENUE, f"{report.symbol} TRADE report without a trade id `t`")
            fee = fee_units(market, report.commission or "0", report.commission_asset, price, size)
            return [
                Fill(
                    venue=VENUE,
                    instrument=market.instrument_id,
                    client_order_id=report.client_order_id,
                    venue_order_id=str(report.order_id),
                    trade_id=trade_id(report.symbol, report.trade, side),
                    side=side,
                    price=price,
                    size=size,
                    fee=fee,
                    liquidity="maker" if report.maker else "taker",
                    exch_ts=exch_ts,
                    recv_ts=recv_ts,
                    fee_base=(
                        (report.commission or "")
                        if report.commission_asset == market.base_asset
                        else ""
                    ),
                )
            ]
        client = report.client_order_id
        reason = "" if report.reject_reason == "NONE" else report.reject_reason
        if x == "NEW":
            kind = OrderUpdateKind.ACCEPTED
        elif x == "CANCELED":
            kind = OrderUpdateKind.CANCELED
            client = report.orig_client_order_id or client
        elif x == "REPLACED":
            kind = OrderUpdateKind.REPLACED
        elif x == "REJECTED":
            kind = OrderUpdateKind.REJECTED
            reason = reason or "rejected by the venue"
        else:  # EXPIRED, TRADE_PREVENTION
            kind = OrderUpdateKind.EXPIRED
            if x == "TRADE_PREVENTION" or report.status == "EXPIRED_IN_MATCH":
                reason = "self-trade prevention"
            elif not reason:
                reason = f"{report.time_in_force} remainder expired"
        return [
            accepted(
                market,
                client,
                report.order_id,
                kind=kind,
                reason=reason,
                price_ticks=ticks(market, report.price, "p"),
                size_lots=lots(market, report.quantity, "q"),
                filled_lots=lots(market, report.filled_qty, "z"),
                exch_ts=exch_ts,
                recv_ts=recv_ts,
            )
        ]
