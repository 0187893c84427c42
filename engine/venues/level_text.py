"""Venue decimal text <-> integer steps, and the exact original text of book levels for checksums.

Books hold integer ticks and lots only. Venue checksums (OKX, Kraken) are computed over the
*text* the venue sent, so that text has to be rebuilt exactly from the integers. Each venue writes
numbers in one style:

- :attr:`TextStyle.SHORTEST`: no trailing zeros, no trailing dot (OKX: ``30316``, ``5.16``);
- :attr:`TextStyle.FIXED`: always the grid's number of decimals (Kraken v1: ``354.15000000``).

A :class:`LevelTexts` renders levels in the venue's style from the grid and keeps, per side and
price, only the texts that do not follow it (none in the captures), so no string is kept per
level on the hot path. Measured on the OKX capture (top 25 a side): a checksum rebuilt this way
takes about 17-25 us, against 10-12 us from strings kept per level, which would cost a further
7 us per message to maintain and 22-132 KiB per book (136-800 levels).
"""

from __future__ import annotations

import enum
from decimal import Decimal

from engine.core.instruments import DecimalGrid
from engine.errors import InstrumentError, MalformedMessage

INT64_MAX = (1 << 63) - 1


class TextStyle(enum.Enum):
    """How a venue writes its decimal numbers."""

    SHORTEST = "shortest"
    """No trailing zeros after the point and no bare point: ``30316``, ``5.16``, ``0.08``."""
    FIXED = "fixed"
    """Exactly the grid's number of decimals: ``354.15000000``, ``0.042870``."""


def steps(
    text: str, grid: DecimalGrid, venue: str, stream: str, where: str, raw: bytes = b""
) -> int:
    """Exact steps of ``text`` on ``grid``: a plain non-negative ASCII decimal that fits int64.

    ``raw`` is the frame, for the error's excerpt.

    Raises:
        MalformedMessage: the text is not such a decimal, is off the grid or out of range.
    """
    if not text.isascii() or text[:1] in ("-", "+"):
        raise MalformedMessage(venue, stream, f"{where} {grid.what} {text!r} is not a decimal", raw)
    try:
        value = grid.to_int(text)
    except InstrumentError as exc:
        raise MalformedMessage(venue, stream, f"{where} {exc}", raw) from None
    if value > INT64_MAX:
        raise MalformedMessage(venue, stream, f"{where} {grid.what} {text!r} is out of range", raw)
    return value


def decimal_steps(
    value: Decimal, grid: DecimalGrid, venue: str, stream: str, where: str, raw: bytes = b""
) -> int:
    """Exact steps of a JSON number read as :class:`~decimal.Decimal` (Kraken v2).

    Raises:
        MalformedMessage: the number is negative, not finite, off the grid or out of range.
    """
    if not value.is_finite() or value < 0:
        raise MalformedMessage(
            venue, stream, f"{where} {grid.what} {value} is not a size/price", raw
        )
    count = value / grid.step
    if count != count.to_integral_value():
        raise MalformedMessage(
            venue, stream, f"{where} {grid.what} {value} is not a multiple of {grid.step}", raw
        )
    result = int(count)
    if result > INT64_MAX:
        raise MalformedMessage(venue, stream, f"{where} {grid.what} {value} is out of range", raw)
    return result


def follows(text: str, style: TextStyle, decimals: int) -> bool:
    """True when ``text`` (already known to be a plain decimal) is written in ``style``."""
    whole, dot, frac = text.partition(".")
    if len(whole) > 1 and whole[0] == "0":
        return False
    if style is TextStyle.SHORTEST:
        return not dot or (bool(frac) and frac[-1] != "0")
    return len(frac) == decimals and (bool(dot) == (decimals > 0))


MEMO_SIZE = 4096
"""Texts a :class:`StyledGrid` remembers before it starts again (prices and sizes near the touch
repeat from message to message, so checksums mostly look texts up instead of formatting)."""


class StyledGrid:
    """A grid that writes steps back as text in a venue's style."""

    __slots__ = ("_memo", "decimals", "grid", "style")

    def __init__(self, grid: DecimalGrid, style: TextStyle) -> None:
        self.grid = grid
        self.style = style
        self.decimals = grid.decimals
        self._memo: dict[int, str] = {}

    def text(self, count: int) -> str:
        """The venue's text for ``count`` steps."""
        memo = self._memo
        text = memo.get(count)
        if text is None:
            text = self.grid.to_text(count)
            if self.style is TextStyle.SHORTEST and self.decimals:
                text = text.rstrip("0").rstrip(".")
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[count] = text
        return text

    def follows(self, text: str) -> bool:
        """True when the venue's text for its value is exactly ``text``."""
        return follows(text, self.style, self.decimals)


OddLevel = tuple[int, int, int, str, str]
"""A level whose text does not follow the venue's style: (side 0 bid / 1 ask, price ticks,
size lots, price text, size text)."""


class LevelTexts:
    """The original text of every level of one book, rebuilt from ticks and lots.

    Args:
        price: the tick grid in the venue's style.
        size: the lot grid in the venue's style.
    """

    __slots__ = ("_prices", "_sizes", "price", "size")

    def __init__(self, price: StyledGrid, size: StyledGrid) -> None:
        self.price = price
        self.size = size
        self._prices: tuple[dict[int, str], dict[int, str]] = ({}, {})
        self._sizes: tuple[dict[int, str], dict[int, str]] = ({}, {})

    @property
    def kept(self) -> int:
        """Texts kept because they do not follow the style."""
        return sum(map(len, self._prices)) + sum(map(len, self._sizes))

    def clear(self) -> None:
        """Forget every kept text (the book was replaced)."""
        for table in (*self._prices, *self._sizes):
            table.clear()

    def update(self, bid_px: list[int], ask_px: list[int], odd: list[OddLevel]) -> None:
        """Follow one applied update: its levels' old texts go, its odd texts are kept."""
        if not self.empty:
            for ticks in bid_px:
                self.forget(0, ticks)
            for ticks in ask_px:
                self.forget(1, ticks)
        if odd:
            self.note(odd)

    def note(self, odd: list[OddLevel]) -> None:
        """Keep the texts of levels that do not follow the style (after they were applied)."""
        for side, ticks, lots, price_text, size_text in odd:
            if not lots:
                self.forget(side, ticks)
                continue
            if not self.size.follows(size_text):
                self._sizes[side][ticks] = size_text
            else:
                self._sizes[side].pop(ticks, None)
            if self.price.follows(price_text):
                self._prices[side].pop(ticks, None)
            else:
                self._prices[side][ticks] = price_text

    def forget(self, side: int, ticks: int) -> None:
        """A level changed to text that follows the style, or was deleted."""
        self._prices[side].pop(ticks, None)
        self._sizes[side].pop(ticks, None)

    @property
    def empty(self) -> bool:
        """True when no text is kept (every level follows the style)."""
        return not any(self._prices) and not any(self._sizes)

    def price_text(self, side: int, ticks: int) -> str:
        """The venue's text for a price on a side."""
        kept = self._prices[side].get(ticks)
        return kept if kept is not None else self.price.text(ticks)

    def size_text(self, side: int, ticks: int, lots: int) -> str:
        """The venue's text for the size at a price on a side."""
        kept = self._sizes[side].get(ticks)
        return kept if kept is not None else self.size.text(lots)
