"""Binance spot's wire format as the local venue writes it: frames, REST bodies, errors, streams.

Pure functions and small formatters, no IO. Prices and sizes leave as exact decimal text padded to
eight decimals (``"65000.01000000"``), the way Binance spot prints them; field order follows
Binance's frames so a captured frame and one of ours look alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.market import Level, LevelChange, TradePrint

_encode = msgspec.json.Encoder().encode

BINANCE_DECIMALS = 8
"""Binance spot pads prices and quantities to this many decimals."""
DEPTH_LIMIT_DEFAULT = 100
DEPTH_LIMIT_MAX = 5000
REQUEST_WEIGHT_PER_MINUTE = 6000
"""Binance's ``REQUEST_WEIGHT`` limit per IP per minute."""
MAX_PRICE_TICKS = 100_000_000
"""``PRICE_FILTER.maxPrice`` in ticks (``minPrice`` is one tick)."""
MAX_QUANTITY_LOTS = 900_000_000
"""``LOT_SIZE.maxQty`` in lots (``minQty`` is one lot)."""
MAX_NOTIONAL = 9_000_000
"""``NOTIONAL.maxNotional`` in quote currency (not applied to market orders)."""
RATE_LIMITS: list[dict[str, Any]] = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
_QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL")
_STREAM_NAME = re.compile(r"^[a-z0-9_]+@[A-Za-z0-9_@]+$")
_DATA_STREAM = re.compile(r"^([a-z0-9]+)@(trade|depth)(?:@(\d+)ms)?$")
_REST_SYMBOL = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")


def padded(value: Decimal) -> str:
    """Decimal text with at least eight decimals, as Binance spot prints it."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return f"{value:.{max(BINANCE_DECIMALS, -exponent)}f}"


class WireText:
    """Exact Binance-style text for one instrument's ticks and lots."""

    __slots__ = ("_price", "_price_pad", "_size", "_size_pad")

    def __init__(self, instrument: Instrument) -> None:
        self._price = instrument.price_grid()
        self._size = instrument.size_grid()
        self._price_pad = _pad_suffix(self._price.decimals)
        self._size_pad = _pad_suffix(self._size.decimals)

    def price(self, ticks: int) -> str:
        """``6500001`` ticks of 0.01 -> ``"65000.01000000"``."""
        return self._price.to_text(ticks) + self._price_pad

    def size(self, lots: int) -> str:
        """``12300`` lots of 0.00001 -> ``"0.12300000"``."""
        return self._size.to_text(lots) + self._size_pad

    def levels(self, levels: Iterable[Level]) -> list[list[str]]:
        """``[[price, qty], ...]`` as text pairs."""
        return [[self.price(p), self.size(q)] for p, q in levels]


def _pad_suffix(decimals: int) -> str:
    if decimals >= BINANCE_DECIMALS:
        return ""
    return ("." if decimals == 0 else "") + "0" * (BINANCE_DECIMALS - decimals)


# ---- stream frames -------------------------------------------------------------------------------


def depth_update(text: WireText, symbol: str, event_ms: int, changes: Sequence[LevelChange]) -> str:
    """A ``depthUpdate`` event covering ``changes`` (in id order), the last size per price winning.

    Bids come best (highest) first and asks best (lowest) first, as Binance sends them.
    """
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for change in changes:
        (bids if change.side is Side.BUY else asks)[change.price] = change.size
    data = {
        "e": "depthUpdate",
        "E": event_ms,
        "s": symbol,
        "U": changes[0].update_id,
        "u": changes[-1].update_id,
        "b": text.levels(sorted(bids.items(), reverse=True)),
        "a": text.levels(sorted(asks.items())),
    }
    return _encode(data).decode()


def trade(text: WireText, symbol: str, event_ms: int, trade_ms: int, print_: TradePrint) -> str:
    """A ``trade`` event; ``m`` is true when the buyer was the maker (the taker sold)."""
    data = {
        "e": "trade",
        "E": event_ms,
        "s": symbol,
        "t": print_.trade_id,
        "p": text.price(print_.price),
        "q": text.size(print_.size),
        "T": trade_ms,
        "m": print_.buyer_is_maker,
        "M": True,
    }
    return _encode(data).decode()


def combined(stream: str, data: str) -> str:
    """Wrap an event for the combined endpoint: ``{"stream":...,"data":...}``."""
    return f'{{"stream":"{stream}","data":{data}}}'


def malformed(stream: str, data: str, symbol: str, event_ms: int, variant: int) -> str:
    """A frame a careful client must reject: cut-off JSON (even variants) or wrong shape (odd)."""
    if variant % 2 == 0:
        return data[: max(1, len(data) // 2)]
    if "@depth" in stream:
        bad: dict[str, Any] = {
            "e": "depthUpdate",
            "E": event_ms,
            "s": symbol,
            "U": "first",
            "u": None,
            "b": [["not-a-price"]],
            "a": {"side": "ask"},
        }
    else:
        bad = {"e": "trade", "E": event_ms, "s": symbol, "t": "id", "p": 65000.5, "q": None}
    return _encode(bad).decode()


# ---- stream names --------------------------------------------------------------------------------


def is_valid_stream_name(name: str) -> bool:
    """Syntax Binance accepts for a stream name: lower-case symbol, ``@``, then the stream type."""
    return bool(_STREAM_NAME.match(name))


def parse_data_stream(name: str) -> tuple[str, str, int | None] | None:
    """``"btcusdt@depth@100ms"`` -> ``("BTCUSDT", "depth", 100)``; None for other stream types.

    A plain ``@depth`` gives an interval of None (Binance's 1000 ms stream); ``@trade`` gives None.
    """
    match = _DATA_STREAM.match(name)
    if match is None:
        return None
    symbol, kind, interval = match.groups()
    if kind == "trade" and interval is not None:
        return None
    return symbol.upper(), kind, int(interval) if interval is not None else None


# ---- REST ----------------------------------------------------------------------------------------


class RestError(Exception):
    """A Binance REST error answer: HTTP status plus ``{"code": ..., "msg": ...}``."""

    retry_after_s: int | None = None
    """Seconds for the ``Retry-After`` header (429 and 418 answers), or None."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg

    def body(self) -> bytes:
        """The JSON body Binance sends."""
        return _encode({"code": self.code, "msg": self.msg})


def rest_symbol(value: str | None) -> str:
    """Validate a ``symbol`` parameter the way Binance does.

    Raises:
        RestError: -1102 when missing, -1100 when it has characters Binance does not allow.
    """
    if not value:
        raise RestError(
            400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
        )
    if not _REST_SYMBOL.match(value):
        raise RestError(
            400,
            -1100,
            "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        )
    return value


def depth_limit(value: str | None) -> int:
    """The ``limit`` of ``GET /api/v3/depth``: default 100, above 5000 truncated to 5000.

    Raises:
        RestError: -1100 when it is not a positive whole number.
    """
    if value is None:
        return DEPTH_LIMIT_DEFAULT
    if not _DIGITS.match(value):
        raise RestError(
            400,
            -1100,
            "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
        )
    limit = int(value)
    if limit < 1:
        raise RestError(
            400, -1100, "Illegal characters found in parameter 'limit'; legal range is '[1, 5000]'."
        )
    return min(limit, DEPTH_LIMIT_MAX)


def depth_weight(limit: int) -> int:
    """Request weight of ``GET /api/v3/depth`` for a limit."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def invalid_symbol() -> RestError:
    """Binance's answer for a well-formed symbol it does not list."""
    return RestError(400, -1121, "Invalid symbol.")


def too_many_requests(retry_after_s: int) -> RestError:
    """Binance's 429 answer when the request weight budget is spent."""
    del retry_after_s  # carried in the Retry-After header, not the body
    return RestError(
        429,
        -1003,
        f"Too much request weight used; current limit is {REQUEST_WEIGHT_PER_MINUTE} request "
        "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
        "the API.",
    )


def depth_snapshot(text: WireText, update_id: int, bids: list[Level], asks: list[Level]) -> bytes:
    """The ``GET /api/v3/depth`` body."""
    body = {"lastUpdateId": update_id, "bids": text.levels(bids), "asks": text.levels(asks)}
    return _encode(body)


def split_symbol(symbol: str) -> tuple[str, str]:
    """Base and quote asset of a symbol (``BTCUSDT`` -> ``BTC``, ``USDT``)."""
    for quote in _QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-3] or symbol, symbol[-3:]


def symbol_info(instrument: Instrument) -> dict[str, Any]:
    """One entry of ``exchangeInfo.symbols``, with Binance's filters for the instrument's grids."""
    base, quote = split_symbol(instrument.symbol)
    tick, lot = Decimal(instrument.tick_size), Decimal(instrument.lot_size)
    return {
        "symbol": instrument.symbol,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": padded(tick),
                "maxPrice": padded(tick * MAX_PRICE_TICKS),
                "tickSize": padded(tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": padded(lot),
                "maxQty": padded(lot * MAX_QUANTITY_LOTS),
                "stepSize": padded(lot),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": padded(Decimal(instrument.min_notional)),
                "applyMinToMarket": True,
                "maxNotional": padded(Decimal(MAX_NOTIONAL)),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def rate_limits(orders_per_10s: int = 100, orders_per_day: int = 200_000) -> list[dict[str, Any]]:
    """ExchangeInfo's ``rateLimits`` with the venue's own unfilled-order limits."""
    limits = [dict(r) for r in RATE_LIMITS]
    for entry in limits:
        if entry["rateLimitType"] == "ORDERS":
            entry["limit"] = orders_per_10s if entry["interval"] == "SECOND" else orders_per_day
    return limits


def exchange_info(
    instruments: Iterable[Instrument],
    server_ms: int,
    limits: list[dict[str, Any]] | None = None,
) -> bytes:
    """The ``GET /api/v3/exchangeInfo`` body for the given instruments."""
    return _encode(
        {
            "timezone": "UTC",
            "serverTime": server_ms,
            "rateLimits": RATE_LIMITS if limits is None else limits,
            "exchangeFilters": [],
            "symbols": [symbol_info(i) for i in instruments],
        }
    )
