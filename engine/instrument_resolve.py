"""At start, ``[[instruments]]`` entries that leave their grids out take them from the venue.

An entry may omit ``tick_size`` and ``lot_size`` (and ``min_notional``): they are the venue's
own, read through the disk cache under the state dir
(:class:`~engine.venues.instrument_cache.InstrumentCache`: a cache younger than a day is used
as is, else the venue's instrument endpoint is asked at ``venue.rest_url`` or its production
host, and an unreachable venue falls back to any cache, however old). A field the entry does
give is kept. :func:`resolve_instruments` returns the config with every grid filled in, before
the engine builds its books; the risk limits are validated then against the real grids.

Start-up stops (:class:`InstrumentsUnresolved`, one line naming venue and symbol) when the venue
cannot be reached and nothing is cached, when the venue does not list a symbol, or when its
answer is broken. ``sim`` never gets here: its entries must carry their grids (the local
venue's address is known only once it runs).
"""

from __future__ import annotations

import logging

import msgspec

from engine.core.config import EngineConfig, InstrumentSection
from engine.core.instruments import Instrument
from engine.errors import EngineError, InstrumentError
from engine.instrument_check import MAX_AGE_S
from engine.venues.instrument_cache import InstrumentCache, InstrumentsUnavailable
from engine.venues.instrument_endpoints import ENDPOINTS

log = logging.getLogger("engine.instruments")


class InstrumentsUnresolved(EngineError):
    """An entry's grids could not be taken from the venue; the message names venue and symbol."""

    def __init__(self, venue: str, symbols: list[str], reason: str) -> None:
        self.venue = venue
        self.symbols = symbols
        super().__init__(
            f"{venue} instrument {', '.join(symbols)}: tick_size/lot_size not in the config "
            f"and {reason}"
        )


def _filled(entry: InstrumentSection, venue: Instrument) -> InstrumentSection:
    """The entry with what it leaves out taken from the venue's instrument."""
    return msgspec.structs.replace(
        entry,
        tick_size=entry.tick_size or venue.tick_size,
        lot_size=entry.lot_size or venue.lot_size,
        min_notional=entry.min_notional or venue.min_notional,
    )


async def resolve_instruments(
    config: EngineConfig, *, cache: InstrumentCache | None = None
) -> EngineConfig:
    """``config`` with every omitted tick, lot and minimum notional taken from the venue.

    Args:
        config: the loaded configuration; returned unchanged when every entry has its grids.
        cache: where the venue's list is cached; the state dir's, refreshed daily, by default.

    Raises:
        InstrumentsUnresolved: the venue cannot be reached and has no cache, does not list a
            symbol, or answered with a broken list; or the risk limits do not fit the grids.
    """
    pending = [i for i in config.instruments if i.from_venue]
    if not pending:
        return config
    venue = config.venue.name
    symbols = [i.symbol for i in pending]
    found = ENDPOINTS.get(venue)
    if found is None:
        raise InstrumentsUnresolved(venue, symbols, f"venue {venue!r} has no instrument endpoint")
    endpoint, base = found
    cache = cache or InstrumentCache(config.state_dir(), max_age_s=MAX_AGE_S)
    try:
        listed = await cache.load(endpoint, config.venue.rest_url or base)
    except InstrumentsUnavailable as exc:
        raise InstrumentsUnresolved(
            venue, symbols, f"the venue cannot be reached and nothing is cached ({exc})"
        ) from None
    except InstrumentError as exc:
        raise InstrumentsUnresolved(venue, symbols, f"the venue's list is broken ({exc})") from None
    theirs = listed.by_symbol()
    missing = [s for s in symbols if s not in theirs]
    if missing:
        raise InstrumentsUnresolved(venue, missing, f"{venue} does not list it")
    entries = [_filled(i, theirs[i.symbol]) if i.from_venue else i for i in config.instruments]
    try:
        resolved = msgspec.structs.replace(config, instruments=entries)
    except ValueError as exc:  # the risk limits, now checked against the venue's grids
        raise InstrumentsUnresolved(
            venue, symbols, f"the config does not fit them: {exc}"
        ) from None
    log.info(
        "instrument grids from the venue",
        extra={
            "venue": venue,
            "symbols": ",".join(symbols),
            "from_cache": listed.from_cache,
            "stale": listed.stale,
        },
    )
    return resolved
