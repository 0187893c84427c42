"""Bybit v5 linear order entry, pure protocol: our commands as request text, and its number text.

Requests (venues.md §3.5) are JSON bodies for POST and query strings for GET, built here exactly
as they are signed and sent. Every number is exact decimal text from the instrument's grids
(``DecimalGrid.to_text``), never a float; ``orderLinkId`` is our client order id.

================================  ==============================================================
ours                              Bybit ``/v5/order/create``
================================  ==============================================================
LIMIT GTC / IOC / FOK             ``"orderType":"Limit","timeInForce":"GTC"|"IOC"|"FOK"``
LIMIT POST_ONLY                   ``"timeInForce":"PostOnly"`` (created, then cancelled by the
                                  venue with ``EC_PostOnlyWillTakeLiquidity`` if it would take)
MARKET                            ``"orderType":"Market"`` (no price; the venue runs it IOC)
reduce_only                       ``"reduceOnly":true``
================================  ==============================================================

Every order is ``"category":"linear"`` in one-way mode (``positionIdx`` 0). Answers are decoded
with msgspec (unknown fields ignored) in :mod:`engine.venues.bybit.answers` and
:mod:`engine.venues.bybit.private`, through the helpers here: text becomes ticks and lots with
``DecimalGrid.to_int`` and a missing or malformed field raises
:class:`~engine.errors.VenueGarbage` naming it.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import DecimalGrid, Instrument
from engine.errors import InstrumentError, OrderRejected, VenueGarbage

VENUE = "bybit"
CATEGORY = "linear"
_FEE_UNITS = Decimal(10**8)
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_SETTLE_COINS = ("USDT", "USDC")
SIDE_TEXT = {Side.BUY: "Buy", Side.SELL: "Sell"}
_SIDE_OF = {"Buy": Side.BUY, "Sell": Side.SELL}
TIF_TEXT = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_TIF_OF = {text: tif for tif, text in TIF_TEXT.items()}
_encode = msgspec.json.Encoder().encode


def settle_coin_of(symbol: str) -> str:
    """The coin a linear contract settles in: ``BTCUSDT`` -> ``USDT``, ``BTCPERP`` -> ``USDC``."""
    for coin in _SETTLE_COINS:
        if symbol.endswith(coin):
            return coin
    return "USDC"  # USDC perpetuals are named ...PERP, dated futures ...-27DEC24


class BybitMarket:
    """One instrument as Bybit's linear category trades it: symbol, grids, settle coin.

    Args:
        instrument: the instrument (its tick and lot grids make every number exact).
        settle_coin: the coin margins, PnL and fees are in; from the symbol when not given.
    """

    __slots__ = ("instrument", "instrument_id", "price", "settle_coin", "size")

    def __init__(self, instrument: Instrument, settle_coin: str = "") -> None:
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.settle_coin = settle_coin or settle_coin_of(instrument.symbol)
        self.price: DecimalGrid = instrument.price_grid()
        self.size: DecimalGrid = instrument.size_grid()

    @property
    def symbol(self) -> str:
        """The venue's symbol."""
        return self.instrument.symbol

    def __repr__(self) -> str:
        return f"BybitMarket({self.symbol!r}, settles in {self.settle_coin})"


# ---- requests ----------------------------------------------------------------------------------


def check_link_id(client_order_id: str) -> None:
    """Refuse a client order id Bybit would not take as ``orderLinkId``.

    Raises:
        OrderRejected: it is empty, longer than 36 characters, or has other than A-Za-z0-9_-.
    """
    if not _LINK_ID.match(client_order_id):
        raise OrderRejected(
            VENUE,
            f"client order id {client_order_id!r} is not usable as a Bybit orderLinkId "
            "(1-36 of A-Za-z0-9_-)",
        )


def create_body(market: BybitMarket, order: SubmitOrder) -> str:
    """The ``POST /v5/order/create`` body for ``order``.

    Raises:
        OrderRejected: for an order Bybit cannot take (post-only market, non-positive size or
            price, an unusable client order id); nothing is sent.
    """
    check_link_id(order.client_order_id)
    symbol = market.symbol
    if order.size_lots <= 0:
        raise OrderRejected(VENUE, f"{symbol}: order size must be positive, got {order.size_lots}")
    body: dict[str, object] = {
        "category": CATEGORY,
        "symbol": symbol,
        "side": SIDE_TEXT[order.side],
    }
    if order.order_type is OrderType.MARKET:
        if order.time_in_force is TimeInForce.POST_ONLY:
            raise OrderRejected(VENUE, f"{symbol}: a market order cannot be post-only")
        body["orderType"] = "Market"
        body["qty"] = market.size.to_text(order.size_lots)
    else:
        if order.price_ticks <= 0:
            raise OrderRejected(
                VENUE, f"{symbol}: limit price must be positive, got {order.price_ticks} ticks"
            )
        body["orderType"] = "Limit"
        body["qty"] = market.size.to_text(order.size_lots)
        body["price"] = market.price.to_text(order.price_ticks)
        body["timeInForce"] = TIF_TEXT[order.time_in_force]
    body["orderLinkId"] = order.client_order_id
    body["positionIdx"] = 0
    if order.reduce_only:
        body["reduceOnly"] = True
    return _encode(body).decode()


def cancel_body(market: BybitMarket, client_order_id: str) -> str:
    """The ``POST /v5/order/cancel`` body: cancel by our client order id."""
    check_link_id(client_order_id)
    body = {"category": CATEGORY, "symbol": market.symbol, "orderLinkId": client_order_id}
    return _encode(body).decode()


def amend_body(
    market: BybitMarket, client_order_id: str, price_ticks: int | None, size_lots: int | None
) -> str:
    """The ``POST /v5/order/amend`` body; only the fields that change are sent.

    Args:
        market: the order's market.
        client_order_id: the order to amend.
        price_ticks: the new limit price, or None to keep it.
        size_lots: the new total size (filled lots included), or None to keep it.

    Raises:
        OrderRejected: when nothing would change, or a new value is not positive.
    """
    check_link_id(client_order_id)
    symbol = market.symbol
    if price_ticks is None and size_lots is None:
        raise OrderRejected(VENUE, f"{symbol}: the amend changes neither price nor size")
    body: dict[str, object] = {
        "category": CATEGORY,
        "symbol": symbol,
        "orderLinkId": client_order_id,
    }
    if size_lots is not None:
        if size_lots <= 0:
            raise OrderRejected(VENUE, f"{symbol}: new size must be positive, got {size_lots}")
        body["qty"] = market.size.to_text(size_lots)
    if price_ticks is not None:
        if price_ticks <= 0:
            raise OrderRejected(VENUE, f"{symbol}: new price must be positive, got {price_ticks}")
        body["price"] = market.price.to_text(price_ticks)
    return _encode(body).decode()


def cancel_all_body(market: BybitMarket) -> str:
    """The ``POST /v5/order/cancel-all`` body for one symbol."""
    return _encode({"category": CATEGORY, "symbol": market.symbol}).decode()


def query_string(params: list[tuple[str, str]]) -> str:
    """``k=v&...`` sorted by key, empty values left out: the bytes sent are the bytes signed.

    Values are sent as given: symbols, coins, numbers and our ids need no escaping, and a page
    cursor is passed back exactly as the venue gave it.
    """
    return "&".join(f"{k}={v}" for k, v in sorted(params) if v)


def open_orders_query(market: BybitMarket, cursor: str = "", order_link_id: str = "") -> str:
    """``GET /v5/order/realtime`` for one symbol (50 a page), or one order by ``orderLinkId``."""
    params = [("category", CATEGORY), ("symbol", market.symbol), ("limit", "50")]
    params += [("cursor", cursor), ("orderLinkId", order_link_id)]
    return query_string(params)


def order_history_query(market: BybitMarket, order_link_id: str) -> str:
    """``GET /v5/order/history`` of one order by ``orderLinkId`` (the last 7 days)."""
    params = [("category", CATEGORY), ("symbol", market.symbol), ("orderLinkId", order_link_id)]
    return query_string([*params, ("limit", "50")])


def executions_query(
    market: BybitMarket, start_ms: int, end_ms: int, cursor: str = "", limit: int = 100
) -> str:
    """``GET /v5/execution/list`` of one symbol from ``start_ms`` to ``end_ms`` (7 days at most)."""
    params = [("category", CATEGORY), ("symbol", market.symbol), ("limit", str(limit))]
    params += [("startTime", str(start_ms)), ("endTime", str(end_ms)), ("cursor", cursor)]
    return query_string(params)


def positions_query(market: BybitMarket, cursor: str = "") -> str:
    """``GET /v5/position/list`` for one symbol."""
    params = [("category", CATEGORY), ("symbol", market.symbol), ("limit", "200")]
    return query_string([*params, ("cursor", cursor)])


def wallet_query(coins: tuple[str, ...] = (), account_type: str = "UNIFIED") -> str:
    """``GET /v5/account/wallet-balance`` of the unified account, for some coins or all."""
    return query_string([("accountType", account_type), ("coin", ",".join(coins))])


# ---- decoding helpers --------------------------------------------------------------------------

_T = TypeVar("_T")


def decode(body: bytes | str | msgspec.Raw, kind: type[_T], what: str) -> _T:
    """Decode venue JSON into ``kind``.

    Raises:
        VenueGarbage: naming ``what`` and the field msgspec found missing or malformed.
    """
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raw = bytes(body) if isinstance(body, msgspec.Raw) else body
        raise VenueGarbage(VENUE, f"{what}: {exc}", raw) from None


def ticks(market: BybitMarket, text: str, field: str) -> int:
    """Price text of field ``field`` as ticks.

    Raises:
        VenueGarbage: the text is not a price on the instrument's grid.
    """
    try:
        return market.price.to_int(text)
    except InstrumentError as exc:
        raise VenueGarbage(VENUE, f"{market.symbol} `{field}`: {exc}") from None


def lots(market: BybitMarket, text: str, field: str) -> int:
    """Quantity text of field ``field`` as lots.

    Raises:
        VenueGarbage: the text is not a size on the instrument's grid.
    """
    try:
        return market.size.to_int(text)
    except InstrumentError as exc:
        raise VenueGarbage(VENUE, f"{market.symbol} `{field}`: {exc}") from None


def fee_units(market: BybitMarket, fee: str, field: str = "execFee") -> int:
    """A fee in the settle coin as fee units (10**-8); charges round up, rebates toward zero.

    Raises:
        VenueGarbage: the fee is not a decimal number.
    """
    try:
        amount = Decimal(fee)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise VenueGarbage(VENUE, f"{market.symbol} `{field}` {fee!r} is not a number")
    return math.ceil(amount * _FEE_UNITS)


def ms_text(text: str | int, field: str) -> int:
    """A millisecond time sent as text (``"1672364262444"``) or a number, as nanoseconds.

    Raises:
        VenueGarbage: it is not a whole number.
    """
    try:
        return int(text) * 1_000_000
    except ValueError:
        raise VenueGarbage(VENUE, f"`{field}` {text!r} is not a time in ms") from None


def side_of(text: str, field: str = "side") -> Side:
    """``Buy``/``Sell`` as a Side.

    Raises:
        VenueGarbage: anything else.
    """
    side = _SIDE_OF.get(text)
    if side is None:
        raise VenueGarbage(VENUE, f"`{field}` is {text!r}, not Buy or Sell")
    return side


def order_kind(order_type: str, time_in_force: str) -> tuple[OrderType, TimeInForce]:
    """Bybit ``orderType`` and ``timeInForce`` as ours (unknown time in force reads as GTC)."""
    if order_type == "Market":
        return OrderType.MARKET, TimeInForce.IOC
    return OrderType.LIMIT, _TIF_OF.get(time_in_force, TimeInForce.GTC)
