"""The only place in the UI where numbers become text.

Prices and sizes arrive as integer ticks and lots and leave as exact decimal text (through
:class:`~engine.core.instruments.DecimalGrid`, never through a float); the ticket's size presets
go the other way here too. PnL arrives as exact quote-currency text and keeps every digit; only
its sign is added, and :func:`pnl_class` names its colour. Rates, ages, counts and percentages are
display figures and are rounded here, once, the same way on every screen.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

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

    def signed_size(self, lots: int) -> str:
        """A position: ``"+0.00300"`` long, ``"-0.00300"`` short, ``"0"`` flat."""
        if lots == 0:
            return "0"
        text = self._lot.to_text(lots)
        return text if lots < 0 else "+" + text

    def lots(self, text: str) -> int:
        """Exact size text -> lots, e.g. ``"0.001"`` -> ``100``.

        Raises:
            InstrumentError: the text is not a decimal number or falls between lots.
        """
        return self._lot.to_int(text)

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


def size_or_lots(text: BookText | None, lots: int, *, signed: bool = False) -> str:
    """A size on the instrument's grid (signed when asked), or bare lots while it is unknown.

    An instrument's grid is known from its first book page on.
    """
    if text is None:
        return str(lots)
    return text.signed_size(lots) if signed else text.size(lots)


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


def micros(us: float) -> str:
    """A latency in µs, compact: ``"38µs"``, ``"1.25ms"``, ``"2.5s"``."""
    if us < 1_000:
        return f"{us:.0f}µs" if us >= 10 else f"{us:.1f}µs"
    if us < 1_000_000:
        return f"{us / 1_000:.3g}ms"
    return f"{us / 1_000_000:.3g}s"


def ring_fill(depth: int, capacity: int) -> str:
    """Ring occupancy as ``"depth/capacity"`` with compact counts."""
    return f"{count(depth)}/{count(capacity)}"


def dimensions(width: int, height: int) -> str:
    """A terminal size as ``"80x24"``."""
    return f"{width}x{height}"


# ---- orders ---------------------------------------------------------------------------------

_SIDES = {1: "BUY", 2: "SELL"}
_STATUS = {
    "new": "new",
    "submitted": "sent",
    "accepted": "working",
    "partially_filled": "partial",
    "filled": "filled",
    "pending_cancel": "cancelling",
    "canceled": "canceled",
    "pending_replace": "replacing",
    "rejected": "REJECTED",
    "expired": "expired",
}
_TYPES = {"limit": "LMT", "market": "MKT"}
_TIF = {"gtc": "GTC", "ioc": "IOC", "fok": "FOK", "post_only": "POST"}


def side(code: int) -> str:
    """An order side code (1 buy, 2 sell) as ``"BUY"`` / ``"SELL"``; anything else as ``"?"``."""
    return _SIDES.get(code, "?")


def order_status(status: str) -> str:
    """An order status as a trader reads it: ``accepted`` -> ``working``, ``rejected`` loud."""
    return _STATUS.get(status, status)


def order_style(order_type: str, time_in_force: str) -> str:
    """Type and time in force: ``"LMT GTC"``, ``"MKT IOC"``, ``"LMT POST"``."""
    kind = _TYPES.get(order_type, order_type.upper())
    return f"{kind} {_TIF.get(time_in_force, time_in_force.upper())}"


def order_price(text: BookText, ticks: int) -> str:
    """A limit price on the grid, or ``"market"`` for a market order (price 0)."""
    return text.price(ticks) if ticks else "market"


def liquidity(maker: bool) -> str:
    """``"maker"`` or ``"taker"``."""
    return "maker" if maker else "taker"


# ---- money ----------------------------------------------------------------------------------

PnlClass = Literal["profit", "loss", "flat"]


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def money(text: str) -> str:
    """Exact quote-currency text with its sign: ``"+1.25"``, ``"-0.5"``, ``"0"``.

    Every digit the engine sent is kept; text that is not a number is shown as it came.
    """
    value = _decimal(text)
    if value is None:
        return text or "?"
    if value == 0:
        return "0"
    plain = f"{value.normalize():f}"
    return plain if value < 0 else "+" + plain


def amount(text: str) -> str:
    """Exact quote-currency text without a forced sign (fees paid): ``"0.013"``, ``"-0.002"``."""
    value = _decimal(text)
    if value is None:
        return text or "?"
    return "0" if value == 0 else f"{value.normalize():f}"


def pnl_class(text: str) -> PnlClass:
    """Which colour a PnL figure gets: ``profit`` above zero, ``loss`` below, else ``flat``."""
    value = _decimal(text)
    if value is None or value == 0:
        return "flat"
    return "profit" if value > 0 else "loss"


def net_pnl(realised: str, unrealised: str, fees: str) -> str:
    """``realised + unrealised - fees`` exactly, as :func:`money` text (``"?"`` if unreadable)."""
    parts = [_decimal(realised), _decimal(unrealised), _decimal(fees)]
    if any(p is None for p in parts):
        return "?"
    real, unreal, paid = (p if p is not None else Decimal(0) for p in parts)
    return money(f"{real + unreal - paid:f}")


def loss_used(daily: str, limit: str) -> str:
    """How much of the daily loss limit today's PnL has used: ``"12.5%"``, ``"0%"`` when up."""
    value, cap = _decimal(daily), _decimal(limit)
    if value is None or cap is None or cap <= 0:
        return "?"
    if value >= 0:
        return "0%"
    return percent(-value, cap)


def loss_gauge(daily: str, limit: str, width: int) -> tuple[str, bool] | None:
    """Today's loss against the daily loss limit as a :func:`gauge`, and whether it is near.

    Near means three quarters of the limit or more is lost (a gain uses none of it).

    Returns:
        The bar and the near flag, or None when the PnL or the limit is not a number.
    """
    value, cap = _decimal(daily), _decimal(limit)
    if value is None or cap is None:
        return None
    loss = max(Decimal(0), -value)
    return gauge(loss, cap, width), cap > 0 and loss * 4 >= cap * 3


def percent(used: Decimal | int, limit: Decimal | int) -> str:
    """``used`` as a share of ``limit``: ``"12.5%"`` (one decimal, rounded down)."""
    if limit <= 0:
        return "?"
    tenths = int(Decimal(used) * 1000 / Decimal(limit))
    return f"{tenths // 10}.{tenths % 10}%"


def gauge(used: Decimal | int, limit: Decimal | int, width: int) -> str:
    """A ``width``-cell bar of ``used`` out of ``limit``: ``"███░░░░░"``; full at 100% and over."""
    if width <= 0:
        return ""
    filled = width if limit <= 0 else min(width, int(Decimal(used) * width / Decimal(limit)))
    filled = max(0, filled)
    return "█" * filled + "░" * (width - filled)


def limit_value(value: object) -> str:
    """A risk limit's value from the control plane as text (numbers stay exact)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
