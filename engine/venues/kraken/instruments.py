"""Kraken spot instruments from ``GET /0/public/AssetPairs``.

``result`` maps Kraken's pair names to records with ``wsname`` (``XBT/USD``, the v1 name),
``pair_decimals``, ``lot_decimals``, ``tick_size`` (newer answers) and ``costmin`` (the smallest
order value in quote). The symbol kept is the **v2** name: ``wsname`` with Kraken's legacy
asset codes written as v2 does (``XBT`` -> ``BTC``, ``XDG`` -> ``DOGE``). The price step is
``tick_size`` when given, else one unit of ``pair_decimals``; the size step is one unit of
``lot_decimals``. Those are the decimals the book checksum is written at. A non-empty
``error`` list is an error naming it.
"""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.venues.instrument_cache import (
    amount_text,
    decimals_step,
    decode_json,
    need,
    step_text,
)

_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


def v2_symbol(wsname: str) -> str:
    """The v2 WebSocket name of a v1 ``wsname`` (``XBT/USD`` -> ``BTC/USD``)."""
    return "/".join(_V2_ASSETS.get(part, part) for part in wsname.split("/"))


class AssetPairs:
    """Kraken's ``AssetPairs``.

    Args:
        venue: the venue name the instruments carry.
    """

    def __init__(self, venue: str = "kraken") -> None:
        self.venue = venue

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``GET`` every pair."""
        return "GET", f"{base_url}/0/public/AssetPairs", None

    def parse(self, body: bytes) -> list[Instrument]:
        """Every online pair of the answer, under its v2 name.

        Raises:
            InstrumentFieldError: a pair lacks ``wsname`` or its decimals.
            InstrumentError: ``error`` is not empty or ``result`` is not an object.
        """
        data = decode_json(body, self.venue)
        if (
            not isinstance(data, dict)
            or data.get("error")
            or not isinstance(data.get("result"), dict)
        ):
            error = data.get("error") if isinstance(data, dict) else None
            raise InstrumentError(f"{self.venue} instruments: error {error!r}, no result")
        out: list[Instrument] = []
        for name, row in data["result"].items():
            if not isinstance(row, dict):
                raise InstrumentError(f"{self.venue} instruments: pair {name} is not an object")
            if row.get("status", "online") != "online":
                continue
            symbol = v2_symbol(str(need(row, self.venue, name, "wsname")))
            tick_raw = row.get("tick_size")
            tick = (
                step_text(tick_raw, self.venue, symbol, "tick_size")
                if tick_raw is not None
                else decimals_step(
                    need(row, self.venue, symbol, "pair_decimals"),
                    self.venue,
                    symbol,
                    "pair_decimals",
                )
            )
            lot = decimals_step(
                need(row, self.venue, symbol, "lot_decimals"), self.venue, symbol, "lot_decimals"
            )
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=symbol,
                    tick_size=tick,
                    lot_size=lot,
                    min_notional=amount_text(
                        row.get("costmin", "0"), self.venue, symbol, "costmin"
                    ),
                )
            )
        return out


PAIRS = AssetPairs()
"""Kraken spot (``https://api.kraken.com``)."""
