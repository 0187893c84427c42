"""Bybit v5 order-entry parameters on the local venue: JSON bodies and queries in, checked out.

Pure functions. Each refuses bad input the way Bybit does, with ``retCode`` 10001 (request
parameter error) and a text naming the parameter, or the order-specific code:

| problem | retCode |
|---|---|
| body not a JSON object; a parameter missing, of the wrong type or not one Bybit takes | 10001 |
| ``category`` other than ``linear`` (the only one this venue lists) | 10001 |
| a symbol the venue does not list | 10001 |
| price off the tick grid, qty off the lot grid, either not positive | 10001 |
| ``positionIdx`` 1 or 2 (hedge mode; the venue runs one-way mode) | 10001 |
| order value below the symbol's minimum | 110094 |

Numbers must be strings, as Bybit requires; they become ticks and lots exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.sim.bybit_wire import CATEGORY, BybitError

_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
SMP_TYPES = ("CancelTaker", "CancelMaker", "CancelBoth")
"""Self-trade prevention modes served; an order without ``smpType`` (or ``None``) cancels the
taker: one account's orders never trade with each other on this venue."""
MAX_PAGE = 50


class CreateOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A checked ``/v5/order/create``."""

    symbol: str
    side: Side
    order_type: str
    """``Limit`` or ``Market``."""
    qty: int
    price: int
    """Ticks; 0 for a market order."""
    time_in_force: str
    order_link_id: str
    reduce_only: bool
    smp_type: str


class OrderRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which order a cancel or an amend is for."""

    symbol: str
    order_id: str
    order_link_id: str


class Amend(msgspec.Struct, frozen=True, kw_only=True):
    """A checked ``/v5/order/amend``: new total qty and/or price (None: unchanged)."""

    ref: OrderRef
    qty: int | None
    price: int | None


def params_error(detail: str) -> BybitError:
    """Bybit's 10001 answer."""
    return BybitError(10001, f"params error: {detail}")


def body_params(raw: bytes) -> dict[str, Any]:
    """A POST body as a JSON object.

    Raises:
        BybitError: 10001 when the body is not a JSON object.
    """
    try:
        params = msgspec.json.decode(raw or b"{}")
    except msgspec.DecodeError:
        raise params_error("the body is not JSON") from None
    if not isinstance(params, dict):
        raise params_error("the body is not a JSON object")
    return params


def _text(params: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise params_error(f"{name} is missing")
        return ""
    if not isinstance(value, str):
        raise params_error(f"{name} must be a string")
    return value


def category_of(params: Mapping[str, Any]) -> None:
    """Check ``category``.

    Raises:
        BybitError: 10001 unless it is ``linear``.
    """
    category = _text(params, "category")
    if category != CATEGORY:
        raise params_error(f"category {category!r} is not served here (only linear)")


def symbol_of(params: Mapping[str, Any], listed: Mapping[str, Instrument]) -> Instrument:
    """The listed instrument ``symbol`` names.

    Raises:
        BybitError: 10001 when missing or not listed.
    """
    symbol = _text(params, "symbol")
    instrument = listed.get(symbol)
    if instrument is None:
        raise params_error(f"symbol {symbol!r} invalid")
    return instrument


def _lots(instrument: Instrument, text: str) -> int:
    try:
        lots = instrument.size_grid().to_int(text)
    except InstrumentError:
        raise params_error(f"qty {text!r} is not a multiple of {instrument.lot_size}") from None
    if lots <= 0:
        raise params_error(f"qty {text!r} must be positive")
    return lots


def _ticks(instrument: Instrument, text: str) -> int:
    try:
        ticks = instrument.price_grid().to_int(text)
    except InstrumentError:
        raise params_error(f"price {text!r} is not a multiple of {instrument.tick_size}") from None
    if ticks <= 0:
        raise params_error(f"price {text!r} must be positive")
    return ticks


def create_order(
    params: Mapping[str, Any], listed: Mapping[str, Instrument], reference_ticks: int
) -> CreateOrder:
    """Check a ``/v5/order/create`` body.

    Args:
        params: the body.
        listed: the venue's instruments by symbol.
        reference_ticks: the price a market order's value is judged at (the touch it takes).

    Raises:
        BybitError: the first problem found, as Bybit answers it.
    """
    category_of(params)
    instrument = symbol_of(params, listed)
    side = _SIDES.get(_text(params, "side"))
    if side is None:
        raise params_error("side must be Buy or Sell")
    order_type = _text(params, "orderType")
    if order_type not in ("Limit", "Market"):
        raise params_error(f"orderType {order_type!r} invalid")
    qty = _lots(instrument, _text(params, "qty"))
    if order_type == "Market":
        price, tif = 0, "IOC"
    else:
        price = _ticks(instrument, _text(params, "price"))
        tif = _text(params, "timeInForce", required=False) or "GTC"
        if tif not in TIME_IN_FORCE:
            raise params_error(f"timeInForce {tif!r} invalid")
    link_id = _text(params, "orderLinkId", required=False)
    if link_id and not _LINK_ID.match(link_id):
        raise params_error("orderLinkId must be 1-36 of A-Za-z0-9_-")
    reduce_only = params.get("reduceOnly", False)
    if not isinstance(reduce_only, bool):
        raise params_error("reduceOnly must be true or false")
    if params.get("positionIdx", 0) not in (0, "0"):
        raise params_error("position idx not match position mode (one-way mode only)")
    smp = _text(params, "smpType", required=False)
    smp = "CancelTaker" if smp in ("", "None") else smp
    if smp not in SMP_TYPES:
        raise params_error(f"smpType {smp!r} invalid")
    _check_value(instrument, qty, price or reference_ticks, reduce_only)
    return CreateOrder(
        symbol=instrument.symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price,
        time_in_force=tif,
        order_link_id=link_id,
        reduce_only=reduce_only,
        smp_type=smp,
    )


def _check_value(instrument: Instrument, qty: int, ticks: int, reduce_only: bool) -> None:
    minimum = Fraction(instrument.min_notional)
    if reduce_only or not ticks or not minimum:
        return
    value = qty * ticks * Fraction(instrument.tick_size) * Fraction(instrument.lot_size)
    if value < minimum:
        raise BybitError(
            110094, f"Order does not meet minimum order value {instrument.min_notional}USDT"
        )


def order_ref(params: Mapping[str, Any], listed: Mapping[str, Instrument]) -> OrderRef:
    """Check a cancel's (or amend's) ``category``, ``symbol`` and ``orderId``/``orderLinkId``.

    Raises:
        BybitError: 10001 when either is missing or malformed.
    """
    category_of(params)
    instrument = symbol_of(params, listed)
    order_id = _text(params, "orderId", required=False)
    link_id = _text(params, "orderLinkId", required=False)
    if not order_id and not link_id:
        raise params_error("orderId or orderLinkId is required")
    return OrderRef(symbol=instrument.symbol, order_id=order_id, order_link_id=link_id)


def amend(params: Mapping[str, Any], listed: Mapping[str, Instrument]) -> Amend:
    """Check a ``/v5/order/amend`` body.

    Raises:
        BybitError: 10001 for a bad reference, qty or price, or when neither is given.
    """
    ref = order_ref(params, listed)
    instrument = listed[ref.symbol]
    qty_text = _text(params, "qty", required=False)
    price_text = _text(params, "price", required=False)
    if not qty_text and not price_text:
        raise params_error("nothing to amend: send qty or price")
    return Amend(
        ref=ref,
        qty=_lots(instrument, qty_text) if qty_text else None,
        price=_ticks(instrument, price_text) if price_text else None,
    )


def symbols_of(params: Mapping[str, Any], listed: Mapping[str, Instrument]) -> list[str]:
    """The symbols a cancel-all or a query covers: ``symbol``, or every one of ``settleCoin``.

    Raises:
        BybitError: 10001 when neither is given, or either is unknown.
    """
    if params.get("symbol"):
        return [symbol_of(params, listed).symbol]
    coin = _text(params, "settleCoin", required=False) or _text(params, "baseCoin", required=False)
    if not coin:
        raise params_error("symbol, baseCoin or settleCoin is required")
    found = [s for s in listed if s.endswith(coin) or s.startswith(coin)]
    if not found:
        raise params_error(f"coin {coin!r} invalid")
    return found


def page_of(params: Mapping[str, Any], default: int, most: int) -> tuple[int, int]:
    """``limit`` and the offset a ``cursor`` (one this venue made, query-decoded) stands for.

    Raises:
        BybitError: 10001 for a limit outside ``1..most`` or a cursor this venue did not make.
    """
    raw_limit = params.get("limit") or str(default)
    if not isinstance(raw_limit, str) or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= most:
        raise params_error(f"limit must be 1-{most}")
    cursor = params.get("cursor") or ""
    if not cursor:
        return int(raw_limit), 0
    if not isinstance(cursor, str) or not cursor.startswith("offset:"):
        raise params_error("cursor invalid")
    offset = cursor.removeprefix("offset:")
    if not offset.isdigit():
        raise params_error("cursor invalid")
    return int(raw_limit), int(offset)


def next_cursor(offset: int, limit: int, total: int) -> str:
    """The ``nextPageCursor`` after a page, "" on the last (URL-encoded, as Bybit's are)."""
    end = offset + limit
    return f"offset%3A{end}" if end < total else ""
