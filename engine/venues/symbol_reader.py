"""What the OKX, Kraken, Coinbase and Hyperliquid frame readers share: grids by symbol, ignored.

Each reader is built for a set of instruments and finds an instrument's grids by the symbol its
frames name. :class:`SymbolReader` holds them and the count of frames with no market data
(:attr:`SymbolReader.ignored`, by kind); a frame naming a symbol not subscribed here is counted
there as ``unsubscribed:<symbol>``, never an error. :class:`Grids` are the plain price and size
grids of one instrument, for readers that need no text style.
"""

from __future__ import annotations

from collections import Counter
from typing import Generic, TypeVar

from engine.core.instruments import Instrument

G = TypeVar("G")


class Grids:
    """One instrument's price and size grids."""

    __slots__ = ("instrument", "price", "size")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.price = instrument.price_grid()
        self.size = instrument.size_grid()


class SymbolReader(Generic[G]):
    """The grids of the instruments a reader reads, by symbol, and what it ignored.

    Args:
        grids: each subscribed instrument's grids, by the symbol its frames name.
    """

    def __init__(self, grids: dict[str, G]) -> None:
        self._grids = grids
        self.ignored: Counter[str] = Counter()
        """Frames (or events) with no market data for a subscribed instrument, by kind."""

    def _grids_of(self, symbol: str) -> G | None:
        """The symbol's grids; None (counted as ignored) for one not subscribed here."""
        grids = self._grids.get(symbol)
        if grids is None:
            self.ignored[f"unsubscribed:{symbol}"] += 1
        return grids
