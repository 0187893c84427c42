"""Bybit v5 instruments from ``GET /v5/market/instruments-info?category=..``.

``result.list[]`` records carry ``priceFilter.tickSize`` and a ``lotSizeFilter`` whose fields
differ by category: linear has ``qtyStep`` and ``minNotionalValue``; spot has ``basePrecision``
(the size step) and ``minOrderAmt`` (the minimum order value in quote). Only ``status ==
"Trading"`` symbols are kept. ``retCode`` other than 0 is an error naming it.
"""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.venues.instrument_cache import amount_text, decode_json, need, records, step_text

_FIELDS = {
    "linear": ("qtyStep", "minNotionalValue"),
    "inverse": ("qtyStep", "minNotionalValue"),
    "spot": ("basePrecision", "minOrderAmt"),
}


class InstrumentsInfo:
    """Bybit's ``instruments-info`` for one category.

    Args:
        category: ``linear``, ``inverse`` or ``spot``.
        venue: the venue name the instruments carry; ``bybit-<category>`` by default.
    """

    def __init__(self, category: str = "linear", venue: str = "") -> None:
        if category not in _FIELDS:
            raise ValueError(f"bybit category must be linear, inverse or spot, got {category!r}")
        self.category = category
        self.venue = venue or f"bybit-{category}"

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``GET`` every trading instrument of the category (1000 a page, Bybit's most)."""
        query = f"category={self.category}&status=Trading&limit=1000"
        return "GET", f"{base_url}/v5/market/instruments-info?{query}", None

    def parse(self, body: bytes) -> list[Instrument]:
        """Every trading instrument of the answer.

        Raises:
            InstrumentFieldError: a record lacks a field.
            InstrumentError: ``retCode`` is not 0 or there is no ``result.list``.
        """
        data = decode_json(body, self.venue)
        if not isinstance(data, dict) or data.get("retCode") != 0:
            code = data.get("retCode") if isinstance(data, dict) else None
            raise InstrumentError(f"{self.venue} instruments: retCode {code!r}")
        result = data.get("result")
        rows = records(
            result.get("list") if isinstance(result, dict) else None, self.venue, "result.list"
        )
        size_field, notional_field = _FIELDS[self.category]
        out: list[Instrument] = []
        for row in rows:
            symbol = str(need(row, self.venue, "", "symbol"))
            if row.get("status", "Trading") != "Trading":
                continue
            tick = need(row, self.venue, symbol, "priceFilter", "tickSize")
            lot = need(row, self.venue, symbol, "lotSizeFilter", size_field)
            minimum = need(row, self.venue, symbol, "lotSizeFilter", notional_field)
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=symbol,
                    tick_size=step_text(tick, self.venue, symbol, "priceFilter.tickSize"),
                    lot_size=step_text(lot, self.venue, symbol, f"lotSizeFilter.{size_field}"),
                    min_notional=amount_text(
                        minimum, self.venue, symbol, f"lotSizeFilter.{notional_field}"
                    ),
                )
            )
        return out


LINEAR = InstrumentsInfo("linear")
"""USDT perpetuals (``https://api.bybit.com``)."""
SPOT = InstrumentsInfo("spot")
"""Spot pairs."""
