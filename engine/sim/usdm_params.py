"""Binance USD-M order parameters on the local venue: text in, checked integers out.

Pure functions over a request's merged parameters (:func:`engine.sim.auth.rest_params`). Each
refuses bad input with the code and text Binance USD-M answers (venues.md §2.6, §2.8):

| problem | code |
|---|---|
| a mandatory parameter missing or empty | -1102 |
| characters Binance does not allow (numbers, ids) | -1100 |
| a parameter the order type does not take | -1106 |
| bad ``side`` / ``type`` / ``timeInForce`` | -1117 / -1116 / -1115 |
| a stop, take-profit or trailing order (the algo-order API takes them) | -4120 |
| ``positionSide`` other than ``BOTH`` (one-way mode) | -4061 |
| quantity not on the lot grid / price not on the tick grid | -1111 / -4014 |
| quantity zero / price zero | -4003 / -4001 |
| quantity or price above the filter's maximum | -4005 / -4016 |
| notional under ``min_notional`` and not reduce-only | -4164 |

The codes of the -4xxx family and their texts are the ones third-party maps give (venues.md
§11 lists them as unconfirmed); the -1xxx ones are Binance's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.sim.auth import mandatory
from engine.sim.order_params import client_id, illegal, not_required, order_id_of, symbol_of
from engine.sim.wire import MAX_PRICE_TICKS, MAX_QUANTITY_LOTS, RestError

ORDER_TYPES = ("LIMIT", "MARKET")
"""Order types this venue matches."""
ALGO_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX")
RESPONSE_TYPES = ("ACK", "RESULT")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
DEFAULT_STP_MODE = "EXPIRE_MAKER"
_ALGO_PARAMS = ("stopPrice", "closePosition", "activationPrice", "callbackRate")
_DECIMAL = re.compile(r"^([0-9]{1,20})(?:\.([0-9]{1,20}))?$")
_DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
_BOOLEAN = ("true", "false")


class NewFuturesOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A new order that passed every parameter and filter check."""

    symbol: str
    side: Side
    order_type: str
    """``LIMIT`` or ``MARKET``."""
    time_in_force: str
    """``GTC``, ``IOC``, ``FOK`` or ``GTX``; ``GTC`` for MARKET, as Binance reports it."""
    quantity: int
    """Lots."""
    price: int = 0
    """Ticks; 0 for MARKET."""
    reduce_only: bool = False
    client_order_id: str = ""
    """``newClientOrderId``; empty when the venue should make one."""
    response_type: str = "ACK"
    stp_mode: str = DEFAULT_STP_MODE


class OrderRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which order a cancel, modify or query is for."""

    symbol: str
    order_id: int | None
    orig_client_order_id: str | None


class Modify(msgspec.Struct, frozen=True, kw_only=True):
    """A checked ``PUT /fapi/v1/order``: the order, its side, the new total size and price."""

    ref: OrderRef
    side: Side
    quantity: int
    """The new ``origQty`` in lots (what has filled counts in it)."""
    price: int
    """Ticks."""


def new_order(
    params: Mapping[str, str], listed: Mapping[str, Instrument], reference_price: int
) -> NewFuturesOrder:
    """Check a ``POST /fapi/v1/order`` request.

    Args:
        params: the merged request parameters.
        listed: the venue's instruments by symbol.
        reference_price: the price (ticks) a MARKET order's notional is judged at, e.g. the
            touch it would take from; 0 skips that check.

    Raises:
        RestError: the first problem found, as Binance USD-M answers it.
    """
    instrument = symbol_of(params, listed)
    side = _side(params)
    _check_position_side(params)
    order_type, tif = _type_and_tif(params)
    quantity = _lots(params, instrument)
    price = 0
    if order_type == "LIMIT":
        price = _ticks(params, instrument)
    elif "price" in params:
        raise not_required("price")
    reduce_only = _boolean(params, "reduceOnly")
    if not reduce_only:
        _check_notional(instrument, quantity, price or reference_price)
    response_type = params.get("newOrderRespType") or "ACK"
    if response_type not in RESPONSE_TYPES:
        raise illegal("newOrderRespType", ", ".join(RESPONSE_TYPES))
    stp_mode = params.get("selfTradePreventionMode") or DEFAULT_STP_MODE
    if stp_mode not in STP_MODES:
        raise RestError(
            400, -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid."
        )
    return NewFuturesOrder(
        symbol=instrument.symbol,
        side=side,
        order_type=order_type,
        time_in_force=tif or "GTC",
        quantity=quantity,
        price=price,
        reduce_only=reduce_only,
        client_order_id=client_id(params, "newClientOrderId"),
        response_type=response_type,
        stp_mode=stp_mode,
    )


def order_ref(params: Mapping[str, str], listed: Mapping[str, Instrument]) -> OrderRef:
    """The order a cancel, modify or query names: ``orderId`` or ``origClientOrderId``.

    Raises:
        RestError: -1102 when neither is sent, -1100 when one is malformed, -1121 bad symbol.
    """
    instrument = symbol_of(params, listed)
    order_id = order_id_of(params)
    orig = client_id(params, "origClientOrderId") or None
    if order_id is None and orig is None:
        raise RestError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    return OrderRef(symbol=instrument.symbol, order_id=order_id, orig_client_order_id=orig)


def modify(params: Mapping[str, str], listed: Mapping[str, Instrument]) -> Modify:
    """Check a ``PUT /fapi/v1/order`` request: both ``quantity`` and ``price`` are required.

    Raises:
        RestError: the first problem found, as Binance USD-M answers it.
    """
    ref = order_ref(params, listed)
    instrument = listed[ref.symbol]
    side = _side(params)
    if "priceMatch" in params:
        raise RestError(400, -1014, "Unsupported order combination.")
    quantity = _lots(params, instrument)
    price = _ticks(params, instrument)
    return Modify(ref=ref, side=side, quantity=quantity, price=price)


def time_range(params: Mapping[str, str], max_span_ms: int) -> tuple[int | None, int | None]:
    """``startTime`` and ``endTime`` of a trade query, at most ``max_span_ms`` apart.

    Raises:
        RestError: -1100 when one is not a whole number, -1127 when they are too far apart.
    """
    start, end = order_id_of(params, "startTime"), order_id_of(params, "endTime")
    if start is not None and end is not None and end - start > max_span_ms:
        hours = max_span_ms // 3_600_000
        raise RestError(400, -1127, f"More than {hours} hours between startTime and endTime.")
    return start, end


# ---- pieces --------------------------------------------------------------------------------------


def _type_and_tif(params: Mapping[str, str]) -> tuple[str, str | None]:
    order_type = params.get("type") or ""
    if not order_type:
        raise mandatory("type")
    if order_type in ALGO_TYPES or any(name in params for name in _ALGO_PARAMS):
        raise RestError(
            400,
            -4120,
            "Order type not supported for this endpoint. "
            "Please use the Algo Order API endpoints instead.",
        )
    if order_type not in ORDER_TYPES:
        raise RestError(400, -1116, "Invalid orderType.")
    if "priceMatch" in params:
        raise RestError(400, -1014, "Unsupported order combination.")
    tif = params.get("timeInForce")
    if order_type == "LIMIT":
        if not tif:
            raise mandatory("timeInForce")
        if tif not in TIME_IN_FORCE:
            raise RestError(400, -1115, "Invalid timeInForce.")
    elif tif is not None:
        raise not_required("timeInForce")
    return order_type, tif


def _side(params: Mapping[str, str]) -> Side:
    side = params.get("side") or ""
    if not side:
        raise mandatory("side")
    if side not in ("BUY", "SELL"):
        raise RestError(400, -1117, "Invalid side.")
    return Side.BUY if side == "BUY" else Side.SELL


def _check_position_side(params: Mapping[str, str]) -> None:
    position_side = params.get("positionSide")
    if position_side is not None and position_side != "BOTH":
        raise RestError(400, -4061, "Order's position side does not match user's setting.")


def _boolean(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return False
    if raw not in _BOOLEAN:
        raise RestError(400, -1130, f"Data sent for parameter '{name}' is not valid.")
    return raw == "true"


def _decimal_text(params: Mapping[str, str], name: str) -> str:
    raw = params.get(name) or ""
    if not raw:
        raise mandatory(name)
    if _DECIMAL.match(raw) is None:
        raise illegal(name, _DECIMAL_RANGE)
    return raw


def _lots(params: Mapping[str, str], instrument: Instrument) -> int:
    text = _decimal_text(params, "quantity")
    if not Fraction(text):
        raise RestError(400, -4003, "Quantity less than or equal to zero.")
    try:
        lots = instrument.size_grid().to_int(text)
    except InstrumentError:
        raise RestError(
            400, -1111, "Precision is over the maximum defined for this asset."
        ) from None
    if lots > MAX_QUANTITY_LOTS:
        raise RestError(400, -4005, "Quantity greater than max quantity.")
    return lots


def _ticks(params: Mapping[str, str], instrument: Instrument) -> int:
    text = _decimal_text(params, "price")
    if not Fraction(text):
        raise RestError(400, -4001, "Price less than or equal to zero.")
    try:
        ticks = instrument.price_grid().to_int(text)
    except InstrumentError:
        raise RestError(400, -4014, "Price not increased by tick size.") from None
    if ticks > MAX_PRICE_TICKS:
        raise RestError(400, -4016, "Limit price can't be higher than the maximum price.")
    return ticks


def _check_notional(instrument: Instrument, quantity: int, price: int) -> None:
    if not price:
        return  # a market order on an empty side: nothing to judge it by; it will expire
    unit = Fraction(instrument.tick_size) * Fraction(instrument.lot_size)
    minimum = Fraction(instrument.min_notional)
    if price * quantity * unit < minimum:
        raise RestError(
            400,
            -4164,
            f"Order's notional must be no smaller than {instrument.min_notional} "
            "(unless you choose reduce only).",
        )
