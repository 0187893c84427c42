"""Inferring an instrument's grid from the prices and sizes in a capture.

When ``hft-tui data import`` is given no ``--tick``/``--lot``, the step is the coarsest power of
ten that every value in the input is a whole multiple of: ``61837.63`` and ``61837.60`` give
``0.01``; sizes ``0.132`` and ``0.4`` give ``0.001``; integer prices all ending in ``0`` give
``10``. Zero values (deletes) fit every step and do not count.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class StepScan:
    """The finest decimal place seen in a set of values, one value at a time."""

    __slots__ = ("_seen", "exponent", "values")

    def __init__(self) -> None:
        self.exponent: int | None = None
        """Exponent of the least significant non-zero digit over all values (None: none seen)."""
        self.values = 0
        self._seen: set[str] = set()

    def add(self, text: str) -> None:
        """Take one value's decimal text (repeated texts cost a set look-up).

        Raises:
            ValueError: the text is not a finite decimal.
        """
        if text in self._seen:
            return
        if len(self._seen) < 1_000_000:
            self._seen.add(text)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a decimal number") from None
        if not value.is_finite():
            raise ValueError(f"{text!r} is not a decimal number")
        self.values += 1
        if not value:
            return
        exponent = value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        if self.exponent is None or exponent < self.exponent:
            self.exponent = exponent

    def step(self, default: str = "1") -> str:
        """The coarsest power-of-ten step every value fits, as exact text (``default`` if none)."""
        if self.exponent is None:
            return default
        if self.exponent >= 0:
            return str(10**self.exponent)
        return f"0.{'0' * (-self.exponent - 1)}1"
