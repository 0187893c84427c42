"""Which instrument endpoint each venue has, and its production REST host.

The venue names are the config's (``[venue] name``) plus ``bybit-spot``; ``sim`` has no endpoint
(its instruments are the config's own).
"""

from __future__ import annotations

from engine.venues.binance.instruments import SPOT as BINANCE_SPOT
from engine.venues.binance.instruments import USDM
from engine.venues.bybit.instruments import LINEAR
from engine.venues.bybit.instruments import SPOT as BYBIT_SPOT
from engine.venues.coinbase.instruments import PRODUCTS
from engine.venues.hyperliquid.instruments import META
from engine.venues.instrument_cache import InstrumentEndpoint
from engine.venues.kraken.instruments import PAIRS
from engine.venues.okx.instruments import SPOT as OKX_SPOT

ENDPOINTS: dict[str, tuple[InstrumentEndpoint, str]] = {
    "binance": (BINANCE_SPOT, "https://api.binance.com"),
    "binance-usdm": (USDM, "https://fapi.binance.com"),
    "bybit-linear": (LINEAR, "https://api.bybit.com"),
    "bybit-spot": (BYBIT_SPOT, "https://api.bybit.com"),
    "okx": (OKX_SPOT, "https://www.okx.com"),
    "kraken": (PAIRS, "https://api.kraken.com"),
    "coinbase": (PRODUCTS, "https://api.coinbase.com"),
    "hyperliquid": (META, "https://api.hyperliquid.xyz"),
}
"""Venue name -> (its instrument endpoint, its production REST base)."""


def endpoint_of(venue: str) -> tuple[InstrumentEndpoint, str]:
    """The endpoint and REST base of ``venue``.

    Raises:
        KeyError: the venue has no instrument endpoint (named in the message).
    """
    try:
        return ENDPOINTS[venue]
    except KeyError:
        raise KeyError(
            f"venue {venue!r} has no instrument endpoint; one of {', '.join(ENDPOINTS)}"
        ) from None
