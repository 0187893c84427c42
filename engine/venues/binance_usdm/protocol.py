"""Binance USD-M futures market data, bytes to events: the spot parser with the futures rules.

The frames are spot's with two more fields (``T``, and ``pu``: the previous diff's ``u``), the
snapshot body (``/fapi/v1/depth``) adds ``E`` and ``T``, and trades come as ``@trade``
(undocumented, on ``/public``) or ``@aggTrade`` (on ``/market``). The compiled reader for futures
depth frames (``futures_depth_frame`` in :mod:`engine.venues.binance.kernels`) reads ``pu`` in
the same single pass; see :class:`~engine.venues.binance.protocol.BinanceSpotParser`.
COIN-M (``dstream``, ``/dapi/v1/depth``) frames are the same and parse here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.venues.binance.protocol import BinanceSpotParser

if TYPE_CHECKING:
    from engine.core.instruments import Instrument

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
"""The ``limit`` values ``/fapi/v1/depth`` accepts."""
DEPTH_INTERVALS_MS = (0, 100, 250, 500)
"""Diff cadences: ``@depth@0ms`` (undocumented, captured), 100, 250 (plain ``@depth``), 500."""


class BinanceUsdmParser(BinanceSpotParser):
    """Turns Binance futures frames and snapshots for a set of instruments into events.

    Args:
        instruments: the instruments whose streams are parsed; other streams are ignored.
        venue: the venue name used in errors and logs.
    """

    futures = True

    def __init__(self, instruments: list[Instrument], venue: str = "binance-usdm") -> None:
        super().__init__(instruments, venue)


def depth_limit(levels: int) -> int:
    """The smallest ``limit`` ``/fapi/v1/depth`` accepts that covers ``levels`` (at most 1000)."""
    return next((n for n in DEPTH_LIMITS if n >= levels), DEPTH_LIMITS[-1])


def stream_names(
    instruments: list[Instrument], depth_interval_ms: int = 100, *, trades: str = "trade"
) -> list[str]:
    """Diff depth and trade stream names of every instrument, depth first (as spot's).

    ``depth_interval_ms`` of 250 gives the plain ``<symbol>@depth``; anything else
    ``<symbol>@depth@<n>ms``. ``trades`` is ``trade`` (on ``/public`` with the depth) or
    ``aggTrade`` (on ``/market``).
    """
    depth = "depth" if depth_interval_ms == 250 else f"depth@{depth_interval_ms}ms"
    names: list[str] = []
    for inst in instruments:
        sym = inst.symbol.lower()
        names += [f"{sym}@{depth}", f"{sym}@{trades}"]
    return names
