"""Order-entry parameters of the local venue: text in, checked integers out, Binance's answers.

Pure functions over a request's merged parameters (see :mod:`engine.sim.auth`). Each refuses bad
input the way Binance spot does, with the code and text a client sees there:

| problem | code |
|---|---|
| a mandatory parameter missing or empty | -1102 |
| a number or id with characters Binance does not allow | -1100 |
| a parameter sent that the order type does not take | -1106 |
| more than eight decimals | -1111 |
| bad ``side`` / ``type`` / ``timeInForce`` | -1117 / -1116 / -1115 |
| an order type this venue does not run (stops, take-profits) | -1014 |
| price off the tick grid or outside ``PRICE_FILTER`` | -1013 ``Filter failure: PRICE_FILTER`` |
| quantity off the lot grid or outside ``LOT_SIZE`` | -1013 ``Filter failure: LOT_SIZE`` |
| price times quantity outside ``NOTIONAL`` | -1013 ``Filter failure: NOTIONAL`` |

The filter bounds are the ones :func:`engine.sim.wire.symbol_info` publishes in exchangeInfo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.sim import wire
from engine.sim.accounts import ASSET_DECIMALS, UNITS_PER_ASSET
from engine.sim.auth import mandatory
from engine.sim.wire import RestError

ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
"""Order types this venue matches."""
_LISTED_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
DEFAULT_STP_MODE = "EXPIRE_MAKER"
"""What exchangeInfo publishes as ``defaultSelfTradePreventionMode``."""
CANCEL_RESTRICTIONS = ("ONLY_NEW", "ONLY_PARTIALLY_FILLED")
_DECIMAL = re.compile(r"^([0-9]{1,20})(?:\.([0-9]{1,20}))?$")
_DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
_ID = re.compile(r"^[0-9]{1,20}$")
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_CLIENT_ID_RANGE = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A new order that passed every parameter and filter check."""

    symbol: str
    side: Side
    order_type: str
    """``LIMIT``, ``MARKET`` or ``LIMIT_MAKER``."""
    time_in_force: str
    """``GTC``, ``IOC`` or ``FOK``; ``GTC`` for LIMIT_MAKER and MARKET, as Binance reports them."""
    quantity: int
    """Lots; 0 for a MARKET order sized by ``quote_quantity``."""
    price: int = 0
    """Ticks; 0 for MARKET."""
    quote_quantity: int = 0
    """``quoteOrderQty`` of a MARKET order in units of 10**-8 of the quote asset, else 0."""
    client_order_id: str = ""
    """``newClientOrderId``; empty when the venue should make one."""
    response_type: str = "FULL"
    stp_mode: str = DEFAULT_STP_MODE


class CancelTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Which order a cancel is for, and the cancel's own client id."""

    symbol: str
    order_id: int | None
    orig_client_order_id: str | None
    new_client_order_id: str = ""
    restriction: str = ""
    """``ONLY_NEW`` or ``ONLY_PARTIALLY_FILLED``, or empty."""


def symbol_of(params: Mapping[str, str], listed: Mapping[str, Instrument]) -> Instrument:
    """The listed instrument a ``symbol`` parameter names.

    Raises:
        RestError: -1102 missing, -1100 malformed, -1121 not listed.
    """
    symbol = wire.rest_symbol(params.get("symbol"))
    instrument = listed.get(symbol)
    if instrument is None:
        raise wire.invalid_symbol()
    return instrument


def new_order(
    params: Mapping[str, str], listed: Mapping[str, Instrument], reference_price: int
) -> NewOrder:
    """Check a ``POST /api/v3/order`` (or ``order.place``) request.

    Args:
        params: the merged request parameters.
        listed: the venue's instruments by symbol.
        reference_price: the price (ticks) a MARKET order's notional is judged at, e.g. the
            touch it would take from; 0 skips that check.

    Raises:
        RestError: the first problem found, as Binance answers it.
    """
    instrument = symbol_of(params, listed)
    side = _choice(params, "side", ("BUY", "SELL"), RestError(400, -1117, "Invalid side."))
    order_type = params.get("type") or ""
    if not order_type:
        raise mandatory("type")
    if order_type in _LISTED_TYPES:
        raise RestError(400, -1014, "Unsupported order combination.")
    if order_type not in ORDER_TYPES:
        raise RestError(400, -1116, "Invalid orderType.")
    tif = params.get("timeInForce")
    if order_type == "LIMIT":
        tif = _choice(
            params, "timeInForce", TIME_IN_FORCE, RestError(400, -1115, "Invalid timeInForce.")
        )
    elif tif is not None:
        raise not_required("timeInForce")
    for name in ("stopPrice", "trailingDelta", "icebergQty", "pegPriceType"):
        if name in params:
            raise RestError(400, -1014, "Unsupported order combination.")
    quantity, price, quote_quantity = _amounts(params, instrument, order_type)
    _check_notional(instrument, order_type, quantity, price or reference_price, quote_quantity)
    response_type = params.get("newOrderRespType") or (
        "FULL" if order_type in ("LIMIT", "MARKET") else "ACK"
    )
    if response_type not in RESPONSE_TYPES:
        raise illegal("newOrderRespType", ", ".join(RESPONSE_TYPES))
    stp_mode = params.get("selfTradePreventionMode") or DEFAULT_STP_MODE
    if stp_mode not in STP_MODES:
        raise RestError(
            400, -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid."
        )
    return NewOrder(
        symbol=instrument.symbol,
        side=Side.BUY if side == "BUY" else Side.SELL,
        order_type=order_type,
        time_in_force=tif or "GTC",
        quantity=quantity,
        price=price,
        quote_quantity=quote_quantity,
        client_order_id=client_id(params, "newClientOrderId"),
        response_type=response_type,
        stp_mode=stp_mode,
    )


def cancel_target(
    params: Mapping[str, str], listed: Mapping[str, Instrument], *, prefix: str = ""
) -> CancelTarget:
    """Check a cancel (``DELETE /api/v3/order``, or the cancel half of a cancel-replace).

    Args:
        params: the merged request parameters.
        listed: the venue's instruments by symbol.
        prefix: ``"cancel"`` for cancel-replace, whose names are ``cancelOrderId``,
            ``cancelOrigClientOrderId``, ``cancelNewClientOrderId`` and ``cancelRestrictions``.

    Raises:
        RestError: the first problem found, as Binance answers it.
    """
    instrument = symbol_of(params, listed)
    id_name = f"{prefix}OrderId" if prefix else "orderId"
    orig_name = f"{prefix}OrigClientOrderId" if prefix else "origClientOrderId"
    new_name = f"{prefix}NewClientOrderId" if prefix else "newClientOrderId"
    order_id = order_id_of(params, id_name)
    orig = params.get(orig_name) or None
    if order_id is None and orig is None:
        raise RestError(
            400,
            -1102,
            f"Param '{orig_name}' or '{id_name}' must be sent, but both were empty/null!",
        )
    restriction = params.get("cancelRestrictions", "")
    if restriction and restriction not in CANCEL_RESTRICTIONS:
        raise RestError(
            400, -1145, "cancelRestrictions has to be either ONLY_NEW or ONLY_PARTIALLY_FILLED."
        )
    return CancelTarget(
        symbol=instrument.symbol,
        order_id=order_id,
        orig_client_order_id=orig,
        new_client_order_id=client_id(params, new_name),
        restriction=restriction,
    )


def order_id_of(params: Mapping[str, str], name: str = "orderId") -> int | None:
    """An order id parameter as an integer, or None when absent.

    Raises:
        RestError: -1100 when it is not a whole number.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _ID.match(raw):
        raise illegal(name, "^[0-9]{1,20}$")
    return int(raw)


def client_id(params: Mapping[str, str], name: str) -> str:
    """A client order id parameter (empty when absent).

    Raises:
        RestError: -1100 when it has characters Binance does not allow.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return ""
    if not _CLIENT_ID.match(raw):
        raise illegal(name, _CLIENT_ID_RANGE)
    return raw


def illegal(name: str, legal: str) -> RestError:
    """Binance's -1100 answer for a parameter with characters outside its legal range."""
    return RestError(
        400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def not_required(name: str) -> RestError:
    """Binance's -1106 answer for a parameter the order does not take."""
    return RestError(400, -1106, f"Parameter '{name}' sent when not required.")


def filter_failure(name: str) -> RestError:
    """Binance's -1013 answer for an order outside one of the symbol's filters."""
    return RestError(400, -1013, f"Filter failure: {name}")


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], bad: RestError) -> str:
    value = params.get(name) or ""
    if not value:
        raise mandatory(name)
    if value not in allowed:
        raise bad
    return value


def _amounts(
    params: Mapping[str, str], instrument: Instrument, order_type: str
) -> tuple[int, int, int]:
    """``(quantity lots, price ticks, quote quantity units)`` of an order."""
    quote_quantity = 0
    if order_type == "MARKET":
        if "price" in params:
            raise not_required("price")
        has_quantity = bool(params.get("quantity"))
        has_quote = bool(params.get("quoteOrderQty"))
        if has_quantity and has_quote:
            raise RestError(400, -1128, "Combination of optional parameters invalid.")
        if not has_quantity and not has_quote:
            raise RestError(
                400,
                -1102,
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
            )
        if has_quote:
            quote_text = _decimal_text(params, "quoteOrderQty")
            units = int(Fraction(quote_text) * UNITS_PER_ASSET)
            if units <= 0:
                raise filter_failure("NOTIONAL")
            return 0, 0, units
        return _lots(params, instrument), 0, quote_quantity
    if "quoteOrderQty" in params:
        raise not_required("quoteOrderQty")
    quantity = _lots(params, instrument)
    if not params.get("price"):
        raise mandatory("price")
    return quantity, _ticks(params, instrument), 0


def _decimal_text(params: Mapping[str, str], name: str) -> str:
    raw = params.get(name) or ""
    if not raw:
        raise mandatory(name)
    match = _DECIMAL.match(raw)
    if match is None:
        raise illegal(name, _DECIMAL_RANGE)
    frac = match.group(2) or ""
    if frac[ASSET_DECIMALS:].strip("0"):
        raise RestError(400, -1111, f"Parameter '{name}' has too much precision.")
    return raw


def _lots(params: Mapping[str, str], instrument: Instrument) -> int:
    text = _decimal_text(params, "quantity")
    try:
        lots = instrument.size_grid().to_int(text)
    except InstrumentError:
        raise filter_failure("LOT_SIZE") from None
    if not 1 <= lots <= wire.MAX_QUANTITY_LOTS:
        raise filter_failure("LOT_SIZE")
    return lots


def _ticks(params: Mapping[str, str], instrument: Instrument) -> int:
    text = _decimal_text(params, "price")
    try:
        ticks = instrument.price_grid().to_int(text)
    except InstrumentError:
        raise filter_failure("PRICE_FILTER") from None
    if not 1 <= ticks <= wire.MAX_PRICE_TICKS:
        raise filter_failure("PRICE_FILTER")
    return ticks


def _check_notional(
    instrument: Instrument, order_type: str, quantity: int, price: int, quote_quantity: int
) -> None:
    unit = Fraction(instrument.tick_size) * Fraction(instrument.lot_size)
    if quote_quantity:
        notional = Fraction(quote_quantity, UNITS_PER_ASSET)
    elif price:
        notional = price * quantity * unit
    else:
        return  # a market order on an empty side: nothing to judge it by; it will expire
    if notional < Fraction(instrument.min_notional):
        raise filter_failure("NOTIONAL")
    if order_type != "MARKET" and notional > wire.MAX_NOTIONAL:
        raise filter_failure("NOTIONAL")
