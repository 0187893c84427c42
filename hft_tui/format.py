"""The only place in the UI where numbers become text.

Prices and sizes arrive as integer ticks and lots and leave as exact decimal text (through
:class:`~engine.core.instruments.DecimalGrid`, never through a float). Rates, ages and counts are
display figures and are rounded here, once, the same way on every screen.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from engine.core.instruments import DecimalGrid

_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000
_S_PER_DAY = 86_400


class BookText:
    """Exact text for one instrument's prices, sizes, spread and mid.

    Args:
        tick_size: the price step as exact decimal text, e.g. ``"0.01"``.
        lot_size: the size step as exact decimal text, e.g. ``"0.00001"``.
    """

    __slots__ = ("_half_tick", "_lot", "_tick")

    def __init__(self, tick_size: str, lot_size: str) -> None:
        self._tick = DecimalGrid(tick_size, "price")
        self._lot = DecimalGrid(lot_size, "size")
        half = self._tick.step / 2
        self._half_tick = DecimalGrid(format(half, "f"), "price")

    def price(self, ticks: int) -> str:
        """``6500001`` ticks of ``0.01`` -> ``"65000.01"``."""
        return self._tick.to_text(ticks)

    def size(self, lots: int) -> str:
        """``123`` lots of ``0.00001`` -> ``"0.00123"``."""
        return self._lot.to_text(lots)

    def mid(self, mid_x2: int) -> str:
        """The mid from ``best_bid + best_ask`` in ticks, exactly.

        A whole number of ticks keeps the grid's decimals; a half tick gets exactly the digits it
        needs (``65000.005`` for bid ``65000.00`` and ask ``65000.01``).
        """
        if mid_x2 % 2 == 0:
            return self._tick.to_text(mid_x2 // 2)
        return self._half_tick.to_text(mid_x2)

    def spread(self, ticks: int) -> str:
        """``"0.01 (1 tick)"``: the spread as a price and in ticks."""
        unit = "tick" if ticks == 1 else "ticks"
        return f"{self._tick.to_text(ticks)} ({ticks} {unit})"


@lru_cache(maxsize=64)
def book_text(tick_size: str, lot_size: str) -> BookText:
    """The (cached) :class:`BookText` for an instrument's tick and lot size."""
    return BookText(tick_size, lot_size)


def clock_time(ns: int) -> str:
    """Time of day in UTC with milliseconds, ``"HH:MM:SS.mmm"``, from epoch nanoseconds."""
    ms = (ns // _NS_PER_MS) % 1000
    secs = (ns // _NS_PER_S) % _S_PER_DAY
    hours, rest = divmod(secs, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def age(ns: int) -> str:
    """How old something is: ``"0.05s"``, ``"3.2s"``, ``"42s"``, ``"12m"``, ``"5h"``.

    A negative age (clocks a hair apart) reads as zero.
    """
    ns = max(ns, 0)
    if ns < 10 * _NS_PER_S:
        hundredths = ns // (_NS_PER_S // 100)
        if hundredths < 100:
            return f"{hundredths // 100}.{hundredths % 100:02d}s"
        tenths = ns // (_NS_PER_S // 10)
        return f"{tenths // 10}.{tenths % 10}s"
    secs = ns // _NS_PER_S
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    return f"{secs // 3600}h"


def count(n: int) -> str:
    """A counter in at most five characters: ``"987"``, ``"12.3k"``, ``"4.56M"``."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return _scaled(n, 1_000, "k")
    if n < 1_000_000_000:
        return _scaled(n, 1_000_000, "M")
    return _scaled(n, 1_000_000_000, "G")


def _scaled(n: int, unit: int, suffix: str) -> str:
    value = Decimal(n) / unit
    if value >= 100:
        return f"{int(value)}{suffix}"
    places = Decimal("0.01") if value < 10 else Decimal("0.1")
    return f"{value.quantize(places, rounding=ROUND_DOWN)}{suffix}"


def rate(per_s: float) -> str:
    """Events per second, whole numbers: ``"412/s"``."""
    return f"{round(per_s)}/s"


def ring_fill(depth: int, capacity: int) -> str:
    """Ring occupancy as ``"depth/capacity"`` with compact counts."""
    return f"{count(depth)}/{count(capacity)}"


def dimensions(width: int, height: int) -> str:
    """A terminal size as ``"80x24"``."""
    return f"{width}x{height}"
