"""Which replayer rebuilds which venue's books from a capture: the data tools' venue registry.

Binance spot, USD-M and COIN-M are built in (:mod:`engine.data.binance`). Every other venue
plugs in through its own ``engine/venues/<package>/replay.py``, which exports ``VENUE`` and a
replayer class (named in ``__all__``) taking the capture's instruments and following
:class:`~engine.venues.replaying.Replayer`. A venue whose module is not there (yet) is named
in the error, with the venues that are.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from engine.core.instruments import Instrument
from engine.data.binance import COINM, SPOT, USDM, BinanceReplay
from engine.errors import EngineError
from engine.venues.replaying import Replayer


class UnknownVenue(EngineError, ValueError):
    """No replayer is registered (or installed) for a venue."""


class VenueEntry(NamedTuple):
    """One venue the data tools know: its name and where its replayer lives."""

    name: str
    module: str
    """``engine.data.binance`` (built in) or ``engine.venues.<package>.replay``."""
    needs_grid: bool
    """True when symbols, tick and lot must be given (the capture cannot name them here)."""


REGISTRY: dict[str, VenueEntry] = {
    SPOT: VenueEntry(SPOT, "engine.data.binance", needs_grid=False),
    USDM: VenueEntry(USDM, "engine.data.binance", needs_grid=False),
    COINM: VenueEntry(COINM, "engine.data.binance", needs_grid=False),
    "okx": VenueEntry("okx", "engine.venues.okx.replay", needs_grid=True),
    "kraken": VenueEntry("kraken", "engine.venues.kraken.replay", needs_grid=True),
    "coinbase": VenueEntry("coinbase", "engine.venues.coinbase.replay", needs_grid=True),
    "hyperliquid": VenueEntry("hyperliquid", "engine.venues.hyperliquid.replay", needs_grid=True),
    "bybit": VenueEntry("bybit", "engine.venues.bybit.replay", needs_grid=True),
    "bybit-linear": VenueEntry("bybit-linear", "engine.venues.bybit.replay", needs_grid=True),
    "bybit-spot": VenueEntry("bybit-spot", "engine.venues.bybit.replay", needs_grid=True),
}


def register(entry: VenueEntry) -> None:
    """Add (or replace) a venue."""
    REGISTRY[entry.name] = entry


def is_binance(venue: str) -> bool:
    """True for the built-in Binance venues."""
    return venue in (SPOT, USDM, COINM)


def available() -> list[str]:
    """The venues whose replayer can be loaded now."""
    names = []
    for name, entry in REGISTRY.items():
        try:
            importlib.import_module(entry.module)
        except ImportError:
            continue
        names.append(name)
    return names


def entry(venue: str) -> VenueEntry:
    """The registry entry of ``venue``.

    Raises:
        UnknownVenue: naming the venues there are.
    """
    found = REGISTRY.get(venue)
    if found is None:
        raise UnknownVenue(f"no replayer for venue {venue!r}; known: {', '.join(REGISTRY)}")
    return found


def replayer(venue: str, instruments: list[Instrument]) -> Replayer:
    """A fresh replayer of ``venue`` for ``instruments``.

    Raises:
        UnknownVenue: the venue is unknown, or its replay module is not installed.
    """
    found = entry(venue)
    if is_binance(venue):
        return BinanceReplay(instruments, venue)
    try:
        module = importlib.import_module(found.module)
    except ImportError:
        raise UnknownVenue(
            f"the {venue} replayer ({found.module}) is not available; "
            f"available: {', '.join(available())}"
        ) from None
    names = [n for n in getattr(module, "__all__", ()) if n != "VENUE"]
    cls = getattr(module, names[0], None) if names else None
    if cls is None or not hasattr(cls, "feed"):
        raise UnknownVenue(f"{found.module} exports no replayer class in __all__")
    made: Replayer = cls(instruments)
    return made
