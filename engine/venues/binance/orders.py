"""Binance spot order entry, pure protocol: our commands to request text, REST answers to events.

Requests (venues.md §1.6) are built as query strings, in Binance's parameter order, with exact
decimal text from the instrument's grids (``DecimalGrid.to_text``) and ``newClientOrderId`` = our
client order id; the HTTP layer appends ``recvWindow``, ``timestamp`` and ``signature``. Values
are never percent-encoded: symbols and numbers need none and client order ids are checked to need
none, so the signed bytes are the sent bytes.

=================  ==========================================================================
ours               Binance
=================  ==========================================================================
LIMIT GTC/IOC/FOK  ``type=LIMIT&timeInForce=GTC|IOC|FOK``
LIMIT POST_ONLY    ``type=LIMIT_MAKER`` (refused with -2010 if it would take)
MARKET             ``type=MARKET`` (no price, no time in force)
=================  ==========================================================================

Answers become :class:`~engine.core.events.OrderUpdate` and :class:`~engine.core.events.Fill`:
a new order's ``ACK``/``RESULT``/``FULL`` answer is ACCEPTED, then one fill per ``fills[]``
entry (taker: they happened as the order arrived), then EXPIRED, CANCELED or REJECTED when the
order already ended. A fill's ``trade_id`` is ``<symbol>:<tradeId>:<B|S>`` on every path (REST
and user stream), so the OMS sees one fill twice as the same fill; the side keeps both halves of
a self-trade apart. Commissions become fee units (10**-8 quote) exactly when paid in the quote
asset, at the fill price when paid in the base asset (rounded up), and 0 (logged once per asset)
when paid in a third asset such as BNB, whose price is not known here.

Answers are decoded with msgspec (unknown fields ignored) and text becomes ticks and lots with
``DecimalGrid.to_int``, never through float. A missing or malformed field raises
:class:`~engine.errors.VenueGarbage` naming the field.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol, TypeVar

import msgspec

from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import DecimalGrid, Instrument
from engine.errors import InstrumentError, OrderRejected, VenueGarbage

log = logging.getLogger("engine.venues.binance")

VENUE = "binance"
_MS = 1_000_000
_FEE_UNITS = Decimal(10**8)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,36}$")
_QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL")
_SIDE_TEXT = {Side.BUY: "BUY", Side.SELL: "SELL"}
_SIDE_OF = {"BUY": Side.BUY, "SELL": Side.SELL}
_TIF_TEXT = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_TIF_OF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_warned_assets: set[str] = set()

Events = list[OrderUpdate | Fill]
OrderStatusText = Literal[
    "NEW",
    "PENDING_NEW",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELED",
    "PENDING_CANCEL",
    "REJECTED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
]
"""Every order ``status`` Binance spot sends."""


def split_symbol(symbol: str) -> tuple[str, str]:
    """Base and quote asset of a spot symbol (``BTCUSDT`` -> ``BTC``, ``USDT``)."""
    for quote in _QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-3] or symbol, symbol[-3:]


class BinanceMarket:
    """One instrument as Binance spot trades it: symbol, grids, assets.

    Args:
        instrument: the instrument (its tick and lot grids make every number exact).
        base_asset: the asset bought and sold; from the symbol when not given.
        quote_asset: the asset prices are in; from the symbol when not given.
    """

    __slots__ = ("base_asset", "instrument", "instrument_id", "price", "quote_asset", "size")

    def __init__(self, instrument: Instrument, base_asset: str = "", quote_asset: str = "") -> None:
        base, quote = split_symbol(instrument.symbol)
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.base_asset = base_asset or base
        self.quote_asset = quote_asset or quote
        self.price: DecimalGrid = instrument.price_grid()
        self.size: DecimalGrid = instrument.size_grid()

    @property
    def symbol(self) -> str:
        """The venue's symbol."""
        return self.instrument.symbol

    def __repr__(self) -> str:
        return f"BinanceMarket({self.symbol!r}, {self.base_asset}/{self.quote_asset})"


# ---- requests ----------------------------------------------------------------------------------


def _check_client_id(client_order_id: str) -> None:
    if not _CLIENT_ID.match(client_order_id):
        raise OrderRejected(
            VENUE,
            f"client order id {client_order_id!r} is not usable on Binance "
            "(1-36 of A-Za-z0-9._:/-)",
        )


def _order_fields(
    market: BinanceMarket,
    side: Side,
    lots: int,
    ticks: int,
    order_type: OrderType,
    tif: TimeInForce,
) -> str:
    """``side..price`` of a new order as query text."""
    if lots <= 0:
        raise OrderRejected(VENUE, f"{market.symbol}: order size must be positive, got {lots} lots")
    quantity = market.size.to_text(lots)
    if order_type is OrderType.MARKET:
        if tif is TimeInForce.POST_ONLY:
            raise OrderRejected(VENUE, f"{market.symbol}: a market order cannot be post-only")
        return f"side={_SIDE_TEXT[side]}&type=MARKET&quantity={quantity}"
    if ticks <= 0:
        raise OrderRejected(
            VENUE, f"{market.symbol}: limit price must be positive, got {ticks} ticks"
        )
    price = market.price.to_text(ticks)
    if tif is TimeInForce.POST_ONLY:
        return f"side={_SIDE_TEXT[side]}&type=LIMIT_MAKER&quantity={quantity}&price={price}"
    return (
        f"side={_SIDE_TEXT[side]}&type=LIMIT&timeInForce={_TIF_TEXT[tif]}"
        f"&quantity={quantity}&price={price}"
    )


def new_order_query(market: BinanceMarket, order: SubmitOrder, response_type: str = "FULL") -> str:
    """``POST /api/v3/order`` parameters for ``order``, before ``recvWindow``/``timestamp``.

    Raises:
        OrderRejected: for an order Binance spot cannot take (reduce-only, post-only market,
            non-positive size or price, an unusable client order id); nothing is sent.
    """
    if order.reduce_only:
        raise OrderRejected(VENUE, f"{market.symbol}: Binance spot has no reduce-only orders")
    _check_client_id(order.client_order_id)
    fields = _order_fields(
        market,
        order.side,
        order.size_lots,
        order.price_ticks,
        order.order_type,
        order.time_in_force,
    )
    return (
        f"symbol={market.symbol}&{fields}&newClientOrderId={order.client_order_id}"
        f"&newOrderRespType={response_type}"
    )


def cancel_query(market: BinanceMarket, client_order_id: str) -> str:
    """``DELETE /api/v3/order`` parameters: cancel by our client order id."""
    _check_client_id(client_order_id)
    return f"symbol={market.symbol}&origClientOrderId={client_order_id}"


def cancel_all_query(market: BinanceMarket) -> str:
    """``DELETE /api/v3/openOrders`` parameters for one symbol."""
    return f"symbol={market.symbol}"


class OrderShape(Protocol):
    """What a replace keeps of the order it replaces: side, type and time in force."""

    @property
    def side(self) -> Side:
        """Buy or sell."""

    @property
    def order_type(self) -> OrderType:
        """Limit or market."""

    @property
    def time_in_force(self) -> TimeInForce:
        """GTC, IOC, FOK or post-only."""


def replace_query(
    market: BinanceMarket,
    original: OrderShape,
    replace: ReplaceOrder,
    filled_lots: int,
    response_type: str = "FULL",
) -> str:
    """``POST /api/v3/order/cancelReplace`` parameters: cancel ``original``, place what is left.

    The new order keeps our client order id, side, type and time in force; its quantity is the
    new total size less the lots already filled (``filled_lots``). ``STOP_ON_FAILURE``: when the
    cancel fails, no new order is placed.

    Raises:
        OrderRejected: when nothing would be left to place, or the order cannot be expressed.
    """
    _check_client_id(replace.client_order_id)
    left = replace.size_lots - filled_lots
    if left <= 0:
        raise OrderRejected(
            VENUE,
            f"{market.symbol}: new size {replace.size_lots} lots is not above the "
            f"{filled_lots} lots already filled",
        )
    fields = _order_fields(
        market,
        original.side,
        left,
        replace.price_ticks,
        original.order_type,
        original.time_in_force,
    )
    return (
        f"symbol={market.symbol}&{fields}&cancelReplaceMode=STOP_ON_FAILURE"
        f"&cancelOrigClientOrderId={replace.client_order_id}"
        f"&newClientOrderId={replace.client_order_id}&newOrderRespType={response_type}"
    )


# ---- decoding helpers --------------------------------------------------------------------------

_T = TypeVar("_T")


def decode(body: bytes | str, kind: type[_T], what: str) -> _T:
    """Decode a venue answer into ``kind``.

    Raises:
        VenueGarbage: naming ``what`` and the field msgspec found missing or malformed.
    """
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise VenueGarbage(VENUE, f"{what}: {exc}", body) from None


def ticks(market: BinanceMarket, text: str, field: str) -> int:
    """Price text of answer field ``field`` as ticks.

    Raises:
        VenueGarbage: the text is not a price on the instrument's grid.
    """
    try:
        return market.price.to_int(text)
    except InstrumentError as exc:
        raise VenueGarbage(VENUE, f"{market.symbol} `{field}`: {exc}") from None


def lots(market: BinanceMarket, text: str, field: str) -> int:
    """Quantity text of answer field ``field`` as lots.

    Raises:
        VenueGarbage: the text is not a size on the instrument's grid.
    """
    try:
        return market.size.to_int(text)
    except InstrumentError as exc:
        raise VenueGarbage(VENUE, f"{market.symbol} `{field}`: {exc}") from None


def fee_units(
    market: BinanceMarket, commission: str, asset: str | None, price_ticks: int, size_lots: int
) -> int:
    """A commission as fee units (10**-8 of the quote asset); charges round up.

    Raises:
        VenueGarbage: the commission is not a decimal number.
    """
    try:
        amount = Decimal(commission)
    except InvalidOperation:
        raise VenueGarbage(
            VENUE, f"{market.symbol} commission {commission!r} is not a number"
        ) from None
    if not amount.is_finite():
        raise VenueGarbage(VENUE, f"{market.symbol} commission {commission!r} is not a number")
    if not amount:
        return 0
    if asset == market.quote_asset:
        return math.ceil(amount * _FEE_UNITS)
    if asset == market.base_asset:
        price = market.price.to_decimal(price_ticks)
        return math.ceil(amount * price * _FEE_UNITS)
    if asset not in _warned_assets:
        _warned_assets.add(str(asset))
        log.warning(
            "commission paid in an asset with no price here; booked as 0",
            extra={"venue": VENUE, "symbol": market.symbol, "asset": asset},
        )
    return 0


def trade_id(symbol: str, venue_trade_id: int, side: Side) -> str:
    """Our id of one fill: ``<symbol>:<tradeId>:<B|S>``, the same from REST and the stream."""
    return f"{symbol}:{venue_trade_id}:{'B' if side is Side.BUY else 'S'}"


def side_of(text: str, field: str = "side") -> Side:
    """``BUY``/``SELL`` as a Side.

    Raises:
        VenueGarbage: anything else.
    """
    side = _SIDE_OF.get(text)
    if side is None:
        raise VenueGarbage(VENUE, f"`{field}` is {text!r}, not BUY or SELL")
    return side


def order_kind(type_text: str, tif_text: str) -> tuple[OrderType, TimeInForce]:
    """Binance ``type`` and ``timeInForce`` as ours (types we never send read as LIMIT)."""
    if type_text == "MARKET":
        return OrderType.MARKET, TimeInForce.GTC
    if type_text == "LIMIT_MAKER":
        return OrderType.LIMIT, TimeInForce.POST_ONLY
    return OrderType.LIMIT, _TIF_OF.get(tif_text, TimeInForce.GTC)


def by_symbol(markets: Mapping[int, BinanceMarket]) -> dict[str, BinanceMarket]:
    """Markets keyed by symbol, for answers that name only the symbol."""
    return {m.symbol: m for m in markets.values()}


# ---- events ------------------------------------------------------------------------------------


def accepted(
    market: BinanceMarket,
    client_order_id: str,
    venue_order_id: int,
    *,
    price_ticks: int = 0,
    size_lots: int = 0,
    filled_lots: int = 0,
    exch_ts: int = 0,
    recv_ts: int = 0,
    kind: OrderUpdateKind = OrderUpdateKind.ACCEPTED,
    reason: str = "",
    code: int = 0,
) -> OrderUpdate:
    """An order update for ``market`` (ACCEPTED unless ``kind`` says otherwise)."""
    return OrderUpdate(
        venue=VENUE,
        instrument=market.instrument_id,
        client_order_id=client_order_id,
        kind=kind,
        venue_order_id=str(venue_order_id) if venue_order_id >= 0 else "",
        reason=reason,
        code=code,
        price_ticks=price_ticks,
        size_lots=size_lots,
        filled_lots=filled_lots,
        exch_ts=exch_ts,
        recv_ts=recv_ts,
    )
