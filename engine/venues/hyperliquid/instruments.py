"""Hyperliquid perpetuals from ``POST /info`` with ``{"type":"meta"}``.

``universe[]`` records carry ``name`` (the coin) and ``szDecimals``. Sizes step by one unit of
``szDecimals``. Prices have no fixed tick: the venue takes at most 5 significant figures and at
most ``6 - szDecimals`` decimals (perpetuals), so the grid is one unit of ``6 - szDecimals``
decimals, the finest price the venue can print (books and trades always sit on it; the
significant-figure rule is the order path's to check). Hyperliquid's minimum order value is
10 USDC. Delisted coins (``isDelisted``) are left out.
"""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.venues.instrument_cache import (
    InstrumentFieldError,
    decimals_step,
    decode_json,
    need,
    records,
)

MAX_DECIMALS = 6
"""Perpetual prices have at most ``MAX_DECIMALS - szDecimals`` decimals."""
MIN_NOTIONAL = "10"


class Meta:
    """Hyperliquid's ``meta`` (the perpetuals universe).

    Args:
        venue: the venue name the instruments carry.
    """

    def __init__(self, venue: str = "hyperliquid") -> None:
        self.venue = venue

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``POST /info`` asking for ``meta``."""
        return "POST", f"{base_url}/info", {"type": "meta"}

    def parse(self, body: bytes) -> list[Instrument]:
        """Every listed coin of the answer.

        Raises:
            InstrumentFieldError: a coin lacks ``szDecimals`` or has one past 6.
            InstrumentError: there is no ``universe`` list.
        """
        data = decode_json(body, self.venue)
        rows = records(
            data.get("universe") if isinstance(data, dict) else None, self.venue, "universe"
        )
        out: list[Instrument] = []
        for row in rows:
            coin = str(need(row, self.venue, "", "name"))
            if row.get("isDelisted"):
                continue
            sz = need(row, self.venue, coin, "szDecimals")
            lot = decimals_step(sz, self.venue, coin, "szDecimals")
            if sz > MAX_DECIMALS:
                raise InstrumentFieldError(self.venue, coin, "szDecimals", f"{sz} is past 6")
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=coin,
                    tick_size=decimals_step(MAX_DECIMALS - sz, self.venue, coin, "szDecimals"),
                    lot_size=lot,
                    min_notional=MIN_NOTIONAL,
                )
            )
        return out


META = Meta()
"""Hyperliquid mainnet (``https://api.hyperliquid.xyz``)."""
