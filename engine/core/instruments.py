"""Instruments and the exact conversion between venue decimal text and integer ticks and lots.

On the hot path prices are integer ticks and sizes integer lots. Text from a venue becomes an
integer here, exactly (no float ever touches it), and integers become text here on the way out.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from engine.errors import InstrumentError


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


class DecimalGrid:
    """A grid of exact steps (a tick or a lot) with fast text <-> integer conversion.

    ``to_int("65000.01000000")`` with a step of ``0.01`` gives ``6500001``; text that falls
    between steps raises :class:`InstrumentError` instead of rounding.

    Args:
        step: the grid step as exact decimal text, e.g. ``"0.01"`` or ``"0.5"``.
        what: ``"price"`` or ``"size"``, used in error messages.
    """

    __slots__ = ("_scale", "_unit", "decimals", "step", "what")

    def __init__(self, step: str, what: str) -> None:
        try:
            dec = Decimal(step)
        except InvalidOperation as exc:
            raise InstrumentError(f"{what} step {step!r} is not a decimal number") from exc
        if not dec.is_finite() or dec <= 0:
            raise InstrumentError(f"{what} step {step!r} must be a positive number")
        self.step = dec
        self.what = what
        self.decimals = _decimals(dec)
        self._scale = 10**self.decimals
        #: the step expressed in units of 10**-decimals (1 for steps that are powers of ten)
        self._unit = int(dec * self._scale)

    def to_int(self, text: str) -> int:
        """Convert venue decimal text to an exact number of steps.

        Raises:
            InstrumentError: when the text is not a plain decimal or is off the grid.
        """
        whole, _, frac = text.partition(".")
        decimals = self.decimals
        if len(frac) > decimals:
            if frac[decimals:].strip("0"):
                raise InstrumentError(f"{self.what} {text!r} is not a multiple of {self.step}")
            frac = frac[:decimals]
        try:
            units = int(whole + frac.ljust(decimals, "0"))
        except ValueError:
            raise InstrumentError(f"{self.what} {text!r} is not a decimal number") from None
        if whole in ("", "-", "+") or "_" in text or " " in text:
            raise InstrumentError(f"{self.what} {text!r} is not a decimal number")
        unit = self._unit
        if unit == 1:
            return units
        steps, rest = divmod(units, unit)
        if rest:
            raise InstrumentError(f"{self.what} {text!r} is not a multiple of {self.step}")
        return steps

    def to_text(self, steps: int) -> str:
        """Exact decimal text for a number of steps, with the grid's number of decimals."""
        units = steps * self._unit
        if not self.decimals:
            return str(units)
        sign = "-" if units < 0 else ""
        whole, frac = divmod(abs(units), self._scale)
        return f"{sign}{whole}.{frac:0{self.decimals}d}"

    def to_decimal(self, steps: int) -> Decimal:
        """The exact Decimal value of a number of steps."""
        return self.step * steps


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable instrument on one venue, with its price and size grids."""

    venue: str
    """Venue name as in the config, e.g. ``"sim"`` or ``"binance"``."""
    symbol: str
    """The venue's symbol, upper case, e.g. ``"BTCUSDT"``."""
    tick_size: str
    """Smallest price step, exact decimal text."""
    lot_size: str
    """Smallest size step, exact decimal text."""
    min_notional: str = "0"
    """Smallest order value in quote currency, exact decimal text."""
    instrument_id: int = 0
    """Dense id used in IPC records and arrays; assigned in config order."""

    @property
    def key(self) -> str:
        """``venue:symbol``, the instrument's name in logs and status."""
        return f"{self.venue}:{self.symbol}"

    def price_grid(self) -> DecimalGrid:
        """The tick grid for prices."""
        return DecimalGrid(self.tick_size, "price")

    def size_grid(self) -> DecimalGrid:
        """The lot grid for sizes."""
        return DecimalGrid(self.lot_size, "size")
