"""Coinbase Advanced Trade instruments from ``GET /api/v3/brokerage/market/products``.

``products[]`` records carry ``product_id``, ``price_increment`` (tick), ``base_increment``
(lot) and ``quote_min_size`` (the smallest order value in quote). Products with
``trading_disabled`` or ``is_disabled`` set are left out.
"""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.venues.instrument_cache import amount_text, decode_json, need, records, step_text


class Products:
    """Coinbase's public ``market/products``.

    Args:
        venue: the venue name the instruments carry.
    """

    def __init__(self, venue: str = "coinbase") -> None:
        self.venue = venue

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``GET`` every product."""
        return "GET", f"{base_url}/api/v3/brokerage/market/products", None

    def parse(self, body: bytes) -> list[Instrument]:
        """Every tradable product of the answer.

        Raises:
            InstrumentFieldError: a product lacks an increment or its minimum.
            InstrumentError: there is no ``products`` list.
        """
        data = decode_json(body, self.venue)
        rows = records(
            data.get("products") if isinstance(data, dict) else None, self.venue, "products"
        )
        out: list[Instrument] = []
        for row in rows:
            symbol = str(need(row, self.venue, "", "product_id"))
            if row.get("trading_disabled") or row.get("is_disabled"):
                continue
            fields = {
                f: need(row, self.venue, symbol, f)
                for f in ("price_increment", "base_increment", "quote_min_size")
            }
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=symbol,
                    tick_size=step_text(
                        fields["price_increment"], self.venue, symbol, "price_increment"
                    ),
                    lot_size=step_text(
                        fields["base_increment"], self.venue, symbol, "base_increment"
                    ),
                    min_notional=amount_text(
                        fields["quote_min_size"], self.venue, symbol, "quote_min_size"
                    ),
                )
            )
        return out


PRODUCTS = Products()
"""Coinbase Advanced Trade (``https://api.coinbase.com``)."""
