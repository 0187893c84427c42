"""Binance spot cancel-replace answers (``POST /api/v3/order/cancelReplace``, venues.md §1.6).

We always ask ``STOP_ON_FAILURE``: when the cancel half fails nothing new is placed. The answer:

====================  =========================================  ==============================
HTTP, code            halves                                     events
====================  =========================================  ==============================
200                   cancel SUCCESS, new SUCCESS                REPLACED, the new order's fills
400 ``-2022``         cancel FAILURE, new NOT_ATTEMPTED          REPLACE_REJECTED (cancel's code)
409 ``-2021``         cancel SUCCESS, new FAILURE                CANCELED (the new order's code)
409 ``-2021``         cancel FAILURE, new SUCCESS                REPLACE_REJECTED, reconcile
====================  =========================================  ==============================

Any other error answer raises its :class:`~engine.errors.GatewayError`. The new order keeps our
client order id; sizes count the lots filled on the orders it replaced.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from engine.core.commands import ReplaceOrder
from engine.core.events import OrderUpdateKind, Side
from engine.errors import VenueGarbage
from engine.venues.binance.answers import (
    CancelAnswer,
    OrderAnswer,
    canceled_update,
    order_events,
)
from engine.venues.binance.errors import rest_error
from engine.venues.binance.orders import VENUE, BinanceMarket, Events, accepted, decode, lots

_Result = Literal["SUCCESS", "FAILURE", "NOT_ATTEMPTED"]


class _Failure(msgspec.Struct):
    code: int
    msg: str


class _ReplaceData(msgspec.Struct, kw_only=True):
    cancel_result: _Result = msgspec.field(name="cancelResult")
    new_order_result: _Result = msgspec.field(name="newOrderResult")
    cancel_response: msgspec.Raw = msgspec.field(name="cancelResponse", default=msgspec.Raw())
    new_order_response: msgspec.Raw = msgspec.field(name="newOrderResponse", default=msgspec.Raw())


class _ReplaceError(msgspec.Struct):
    code: int
    msg: str
    data: _ReplaceData | None = None


class ReplaceOutcome(msgspec.Struct, kw_only=True):
    """What a cancel-replace did."""

    events: Events
    """REPLACED plus the new order's fills and ending; or REPLACE_REJECTED; or CANCELED."""
    canceled_order_id: str = ""
    """The venue order id the cancel half ended ("" when it failed)."""
    new_order_id: str = ""
    """The new order's venue id ("" when none was placed)."""
    filled_before: int = 0
    """Lots filled under this client order id on the orders replaced so far."""
    two_orders: bool = False
    """The cancel failed but a new order was placed: both may be working, reconcile."""


def replace_outcome(
    market: BinanceMarket,
    status: int,
    body: bytes,
    side: Side,
    replace: ReplaceOrder,
    filled_before: int,
    recv_ts: int,
    retry_after: str | None = None,
) -> ReplaceOutcome:
    """``POST /api/v3/order/cancelReplace`` answer (200, 400 -2022 or 409 -2021) as an outcome.

    Args:
        market: the order's market.
        status: the HTTP status.
        body: the answer body.
        side: the order's side.
        replace: what we asked for.
        filled_before: lots filled on earlier orders of this client order id.
        recv_ts: when the answer arrived.
        retry_after: the ``Retry-After`` header, for errors that are not cancel-replace results.

    Raises:
        GatewayError: for any other error answer (rate limit, clock, auth, filters ...).
        VenueGarbage: a field is missing or malformed.
    """
    client = replace.client_order_id
    if status == 200:
        return _replaced(
            market,
            decode(body, _ReplaceData, "cancel-replace answer"),
            side,
            filled_before,
            recv_ts,
        )
    failure: _ReplaceError | None = None
    if status in (400, 409):
        try:
            failure = msgspec.json.decode(body, type=_ReplaceError)
        except (msgspec.DecodeError, UnicodeDecodeError):
            failure = None
    if failure is None or failure.data is None or failure.code not in (-2021, -2022):
        raise rest_error(status, body, retry_after)
    data = failure.data
    cancel_ok = data.cancel_result == "SUCCESS"
    new_ok = data.new_order_result == "SUCCESS"
    if cancel_ok and new_ok:
        return _replaced(market, data, side, filled_before, recv_ts)
    if cancel_ok:  # the old order is gone and the new one was refused
        canceled = decode(
            _raw(data.cancel_response, "cancelResponse"), CancelAnswer, "cancelResponse"
        )
        why = _failure_of(data.new_order_response) or _Failure(failure.code, failure.msg)
        update = canceled_update(
            market,
            canceled,
            recv_ts,
            reason=f"replace failed, order canceled: {why.msg}",
            code=why.code,
            filled_before=filled_before,
        )
        return ReplaceOutcome(
            events=[update],
            canceled_order_id=str(canceled.order_id),
            filled_before=update.filled_lots,
        )
    why = _failure_of(data.cancel_response) or _Failure(failure.code, failure.msg)
    rejected = accepted(
        market,
        client,
        -1,
        kind=OrderUpdateKind.REPLACE_REJECTED,
        reason=why.msg,
        code=why.code,
        price_ticks=replace.price_ticks,
        size_lots=replace.size_lots,
        recv_ts=recv_ts,
    )
    if not new_ok:
        return ReplaceOutcome(events=[rejected], filled_before=filled_before)
    answer = decode(
        _raw(data.new_order_response, "newOrderResponse"), OrderAnswer, "newOrderResponse"
    )
    return ReplaceOutcome(
        events=[rejected],
        new_order_id=str(answer.order_id),
        filled_before=filled_before,
        two_orders=True,
    )


def _replaced(
    market: BinanceMarket, data: _ReplaceData, side: Side, filled_before: int, recv_ts: int
) -> ReplaceOutcome:
    canceled = decode(_raw(data.cancel_response, "cancelResponse"), CancelAnswer, "cancelResponse")
    answer = decode(
        _raw(data.new_order_response, "newOrderResponse"), OrderAnswer, "newOrderResponse"
    )
    if canceled.executed_qty is not None:
        filled_before += lots(market, canceled.executed_qty, "cancelResponse.executedQty")
    events = order_events(
        market, answer, side, recv_ts, first=OrderUpdateKind.REPLACED, filled_before=filled_before
    )
    return ReplaceOutcome(
        events=events,
        canceled_order_id=str(canceled.order_id),
        new_order_id=str(answer.order_id),
        filled_before=filled_before,
    )


def _raw(part: msgspec.Raw, field: str) -> bytes:
    if not part or bytes(part) == b"null":
        raise VenueGarbage(VENUE, f"cancel-replace answer without `{field}`")
    return bytes(part)


def _failure_of(part: msgspec.Raw) -> _Failure | None:
    """The ``{"code", "msg"}`` inside a cancel-replace half, when that half failed."""
    if not part:
        return None
    try:
        return msgspec.json.decode(part, type=_Failure)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
