"""Exchange fees for simulated fills, exact in integer fee units (10**-8 of the quote currency).

A fill of ``size_lots`` at ``price_ticks`` is worth ``price_ticks * size_lots * tick * lot`` in
quote currency, so its fee in fee units is

    fee = price_ticks * size_lots * rate * tick * lot * 10**8

with ``rate`` the maker or taker rate as exact decimal text (``"0.0001"`` is 1 bp; a negative
rate such as ``"-0.00005"`` is a rebate). The factor ``rate * tick * lot * 10**8`` is reduced to
an integer fraction ``num / den`` once, when the schedule is made, so each fill costs one integer
multiply and one integer division. Charges round up (the venue never undercharges) and rebates
round toward zero (the venue never overpays): ``ceil`` for a positive factor, ``-floor(|x|)``
for a negative one.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from engine.core.instruments import Instrument
from engine.sim import SimError

FEE_UNITS_PER_QUOTE = 10**8
"""Fee units in one unit of the quote currency (see :mod:`engine.oms.positions`)."""


class FeeRateError(SimError):
    """A fee rate, tick or lot size was not exact decimal text (or not a finite number)."""


def _exact(text: str, what: str) -> Fraction:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise FeeRateError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise FeeRateError(f"{what} {text!r} is not a finite number")
    return Fraction(value)


class _Factor:
    """``value = ceil-or-toward-zero(price * size * num / den)`` for one liquidity flag."""

    __slots__ = ("den", "num")

    def __init__(self, factor: Fraction) -> None:
        self.num = factor.numerator
        self.den = factor.denominator

    def apply(self, notional: int) -> int:
        num = self.num
        if num >= 0:
            return -((-notional * num) // self.den)  # ceiling: charges round up
        return -((notional * -num) // self.den)  # rebates round toward zero


class FeeSchedule:
    """Maker and taker rates for one instrument's fills.

    Args:
        maker_rate: the maker rate as exact decimal text, e.g. ``"0.0001"``; negative for a rebate.
        taker_rate: the taker rate as exact decimal text.
        tick_size: quote currency per tick per lot of base, exact text; ``"1"`` prices in whole
            quote units. :meth:`for_instrument` fills it (and ``lot_size``) from an instrument.
        lot_size: base currency per lot, exact text.

    Raises:
        FeeRateError: a rate, tick or lot is not exact decimal text, or a size is not positive.
    """

    __slots__ = ("_maker", "_taker", "lot_size", "maker_rate", "taker_rate", "tick_size")

    def __init__(
        self, maker_rate: str, taker_rate: str, *, tick_size: str = "1", lot_size: str = "1"
    ) -> None:
        maker = _exact(maker_rate, "maker rate")
        taker = _exact(taker_rate, "taker rate")
        tick = _exact(tick_size, "tick size")
        lot = _exact(lot_size, "lot size")
        if tick <= 0 or lot <= 0:
            raise FeeRateError(f"tick size {tick_size!r} and lot size {lot_size!r} must be > 0")
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.tick_size = tick_size
        self.lot_size = lot_size
        unit = tick * lot * FEE_UNITS_PER_QUOTE
        self._maker = _Factor(maker * unit)
        self._taker = _Factor(taker * unit)

    def for_instrument(self, instrument: Instrument) -> FeeSchedule:
        """The same rates on an instrument's tick and lot grid."""
        return FeeSchedule(
            self.maker_rate,
            self.taker_rate,
            tick_size=instrument.tick_size,
            lot_size=instrument.lot_size,
        )

    def fee_units(self, price_ticks: int, size_lots: int, maker: bool) -> int:
        """The fee of one fill in fee units: positive is paid, negative is a rebate received."""
        factor = self._maker if maker else self._taker
        return factor.apply(price_ticks * size_lots)

    def __repr__(self) -> str:
        return (
            f"FeeSchedule(maker={self.maker_rate}, taker={self.taker_rate}, "
            f"tick={self.tick_size}, lot={self.lot_size})"
        )


NO_FEES = FeeSchedule("0", "0")
"""A schedule that charges nothing."""
