"""``POST /api/v3/order/cancelReplace``: cancel an order, then place another, answered as Binance.

Parameters are checked first, both halves (a bad parameter or a filter failure is a plain error
answer and nothing happens). Then the cancel runs; with ``STOP_ON_FAILURE`` a failed cancel ends
the request, with ``ALLOW_FAILURE`` the new order is tried anyway. The answers:

| cancel | new order | HTTP | body |
|---|---|---|---|
| SUCCESS | SUCCESS | 200 | ``cancelResult``, ``newOrderResult``, both responses |
| FAILURE | NOT_ATTEMPTED (stop on failure) | 400 | -2022 ``Order cancel-replace failed.`` |
| SUCCESS | FAILURE | 409 | -2021 ``Order cancel-replace partially failed.``, ``data`` |
| FAILURE | SUCCESS (allow failure) | 409 | -2021, ``data`` |
| FAILURE | FAILURE (allow failure) | 400 | -2022, ``data`` |

A new order refused after a successful cancel is reported on the user stream as ``x=REJECTED``.
The request counts one new order against the order limits whatever happens to the new order; with
``orderRateLimitExceededMode=CANCEL_ONLY`` an exhausted limit still lets the cancel through.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec

from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.auth import mandatory
from engine.sim.desk import TradingDesk
from engine.sim.order_count import TooManyOrders
from engine.sim.order_params import cancel_target, illegal, new_order
from engine.sim.order_wire import canceled, error, new_order_answer
from engine.sim.wire import RestError

MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")
RATE_LIMIT_MODES = ("DO_NOTHING", "CANCEL_ONLY")
FAILED = "Order cancel-replace failed."
PARTIALLY_FAILED = "Order cancel-replace partially failed."
_encode = msgspec.json.Encoder().encode


class CancelReplaceFailed(RestError):
    """A cancel-replace answer that is not 200: -2022 (400) or -2021 (409), with ``data``."""

    def __init__(self, status: int, code: int, msg: str, data: dict[str, Any]) -> None:
        super().__init__(status, code, msg)
        self.data = data

    def as_dict(self) -> dict[str, Any]:
        """``{"code", "msg", "data"}`` as Binance sends it."""
        return {"code": self.code, "msg": self.msg, "data": self.data}

    def body(self) -> bytes:
        """The JSON body Binance sends, ``data`` included."""
        return _encode(self.as_dict())


def cancel_replace(
    desk: TradingDesk,
    account: Account,
    params: Mapping[str, str],
    listed: Mapping[str, Instrument],
    reference_price: int,
) -> tuple[dict[str, Any], tuple[int, int]]:
    """Run one cancel-replace.

    Args:
        desk: the venue's desk.
        account: the account it acts for.
        params: the merged, authenticated request parameters.
        listed: the venue's instruments by symbol.
        reference_price: ticks a market order's notional is judged at.

    Returns:
        The 200 body and the order counts ``(10 s, day)`` after it.

    Raises:
        RestError: a parameter or filter problem, or -1015 over the order limit.
        CancelReplaceFailed: the 400 / 409 answers of the table above.
    """
    mode = params.get("cancelReplaceMode") or ""
    if not mode:
        raise mandatory("cancelReplaceMode")
    if mode not in MODES:
        raise illegal("cancelReplaceMode", ", ".join(MODES))
    rate_mode = params.get("orderRateLimitExceededMode") or "DO_NOTHING"
    if rate_mode not in RATE_LIMIT_MODES:
        raise illegal("orderRateLimitExceededMode", ", ".join(RATE_LIMIT_MODES))
    target = cancel_target(params, listed, prefix="cancel")
    order = new_order(params, listed, reference_price)
    counts = desk.counts[account.uid]
    try:
        counts.check(time.time_ns())
    except TooManyOrders:
        if rate_mode == "DO_NOTHING":
            raise
    text = desk.text(order.symbol)
    cancel_body: dict[str, Any]
    try:
        record, cancel_id = desk.cancel(account, target)
    except RestError as exc:
        cancel_ok, cancel_body = False, error(exc)
        if mode == "STOP_ON_FAILURE":
            counts.add(time.time_ns())
            data = _data(cancel_body, None, "NOT_ATTEMPTED", cancel_ok=False)
            raise CancelReplaceFailed(400, -2022, FAILED, data) from None
    else:
        cancel_ok = True
        cancel_body = canceled(text, record, cancel_id, record.update_ms)
    new_body: dict[str, Any]
    try:
        placed = desk.place(account, order)
    except RestError as exc:
        counts.add(time.time_ns())
        new_body = error(exc)
        if cancel_ok:
            desk.rejected(account, order, exc.msg)
            data = _data(cancel_body, new_body, "FAILURE")
            raise CancelReplaceFailed(409, -2021, PARTIALLY_FAILED, data) from None
        data = _data(cancel_body, new_body, "FAILURE", cancel_ok=False)
        raise CancelReplaceFailed(400, -2022, FAILED, data) from None
    new_body = new_order_answer(
        order.response_type, text, placed.record, placed.record.created_ms, placed.fills
    )
    if not cancel_ok:
        data = _data(cancel_body, new_body, "SUCCESS", cancel_ok=False)
        raise CancelReplaceFailed(409, -2021, PARTIALLY_FAILED, data)
    body = {
        "cancelResult": "SUCCESS",
        "newOrderResult": "SUCCESS",
        "cancelResponse": cancel_body,
        "newOrderResponse": new_body,
    }
    return body, placed.counts


def _data(
    cancel_body: dict[str, Any],
    new_body: dict[str, Any] | None,
    new_result: str,
    *,
    cancel_ok: bool = True,
) -> dict[str, Any]:
    return {
        "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
        "newOrderResult": new_result,
        "cancelResponse": cancel_body,
        "newOrderResponse": new_body,
    }
