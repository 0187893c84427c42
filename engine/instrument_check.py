"""At start, the configured instruments are checked against the venue's own list.

Prices and sizes become integer ticks and lots with the config's ``tick_size`` and
``lot_size``; if those disagree with the venue, every price read or sent is wrong by a factor.
:func:`check_instruments` reads the venue's list through the disk cache under the state dir
(:class:`~engine.venues.instrument_cache.InstrumentCache`, refreshed when older than a day,
the cache used when the venue is unreachable) and raises a critical alert for an instrument the
venue does not list or whose tick, lot or minimum notional differs. It never stops the engine:
a venue with no reachable list is logged and the config is trusted. ``sim`` is not checked
(its instruments are the config's own).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.core.events import AlertLevel
from engine.errors import InstrumentError
from engine.venues.instrument_cache import InstrumentCache, InstrumentsUnavailable
from engine.venues.instrument_endpoints import ENDPOINTS

if TYPE_CHECKING:
    from engine.core.instruments import Instrument
    from engine.engine import Engine

log = logging.getLogger("engine.instruments")

MAX_AGE_S = 24 * 3600.0
"""A cached list younger than this is used without asking the venue."""


def differences(ours: Instrument, theirs: Instrument) -> list[str]:
    """What the config says differently from the venue, one phrase per field."""
    out: list[str] = []
    for field in ("tick_size", "lot_size", "min_notional"):
        mine, venue = getattr(ours, field), getattr(theirs, field)
        if Decimal(mine) != Decimal(venue):
            out.append(f"{field} {mine} (the venue lists {venue})")
    return out


async def check_instruments(engine: Engine, rest_url: str = "") -> int:
    """Compare the engine's instruments with the venue's list; returns the alerts raised."""
    name = engine.config.venue.name
    found = ENDPOINTS.get(name)
    if found is None:
        return 0
    endpoint, base = found
    cache = InstrumentCache(engine.config.state_dir(), max_age_s=MAX_AGE_S)
    try:
        listed = await cache.load(endpoint, rest_url or base)
    except (InstrumentsUnavailable, InstrumentError) as exc:
        log.warning("instrument list unavailable; trusting the config", extra={"error": str(exc)})
        return 0
    theirs = listed.by_symbol()
    raised = 0
    for inst in engine.instruments:
        venue_inst = theirs.get(inst.symbol)
        if venue_inst is None:
            problems = [f"not listed by {name}"]
        else:
            problems = differences(inst, venue_inst)
        if problems:
            raised += 1
            engine.oms.alert(
                AlertLevel.CRITICAL,
                "instruments",
                f"{inst.key}: config {'; '.join(problems)}",
            )
    return raised
