"""Binance spot instruments from ``GET /api/v3/exchangeInfo``: tick, lot and min notional.

Each ``symbols[]`` record has ``filters``: ``PRICE_FILTER.tickSize``, ``LOT_SIZE.stepSize`` and
the minimum order value in ``NOTIONAL.minNotional`` (``MIN_NOTIONAL.minNotional`` on older
answers; 0 when neither is listed). Only ``status == "TRADING"`` symbols are kept. USD-M
futures (``/fapi/v1/exchangeInfo``) has the same shape with ``MIN_NOTIONAL.notional``
(:data:`USDM`).
"""

from __future__ import annotations

from typing import Any

from engine.core.instruments import Instrument
from engine.venues.instrument_cache import (
    InstrumentFieldError,
    amount_text,
    decode_json,
    need,
    records,
    step_text,
)


class ExchangeInfo:
    """A Binance ``exchangeInfo`` endpoint.

    Args:
        venue: the venue name the instruments carry.
        path: the endpoint's path under the REST base.
    """

    def __init__(self, venue: str = "binance", path: str = "/api/v3/exchangeInfo") -> None:
        self.venue = venue
        self.path = path

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``GET`` the whole list."""
        return "GET", f"{base_url}{self.path}", None

    def parse(self, body: bytes) -> list[Instrument]:
        """Every trading symbol of the answer.

        Raises:
            InstrumentFieldError: a symbol lacks a filter or field.
            InstrumentError: the answer has no ``symbols`` list.
        """
        data = decode_json(body, self.venue)
        rows = records(
            data.get("symbols") if isinstance(data, dict) else None, self.venue, "symbols"
        )
        out: list[Instrument] = []
        for row in rows:
            symbol = str(need(row, self.venue, "", "symbol"))
            if row.get("status", "TRADING") != "TRADING":
                continue
            filters = _filters(row, self.venue, symbol)
            tick = need(filters, self.venue, symbol, "PRICE_FILTER", "tickSize")
            lot = need(filters, self.venue, symbol, "LOT_SIZE", "stepSize")
            notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
            minimum = notional.get("minNotional", notional.get("notional", "0"))
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=symbol,
                    tick_size=step_text(tick, self.venue, symbol, "PRICE_FILTER.tickSize"),
                    lot_size=step_text(lot, self.venue, symbol, "LOT_SIZE.stepSize"),
                    min_notional=amount_text(minimum, self.venue, symbol, "minNotional"),
                )
            )
        return out


def _filters(row: dict[str, Any], venue: str, symbol: str) -> dict[str, dict[str, Any]]:
    filters = need(row, venue, symbol, "filters")
    if not isinstance(filters, list):
        raise InstrumentFieldError(venue, symbol, "filters", "is not a list")
    return {f["filterType"]: f for f in filters if isinstance(f, dict) and "filterType" in f}


SPOT = ExchangeInfo()
"""Binance spot (``https://api.binance.com``)."""
USDM = ExchangeInfo("binance-usdm", "/fapi/v1/exchangeInfo")
"""Binance USD-M futures (``https://fapi.binance.com``)."""
