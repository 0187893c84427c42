"""Number types and the window check shared by the indicators."""

from __future__ import annotations

from fractions import Fraction

Exact = int | Fraction
"""Values indicators keep exact: integer ticks and lots, and exact ratios of them."""
Real = int | float | Fraction
"""Any value an indicator takes in."""


def window(n: int, name: str) -> int:
    """``n`` when it can be a window length.

    Raises:
        ValueError: ``n`` below 1, naming the indicator.
    """
    if n < 1:
        raise ValueError(f"{name}: window {n} must be at least 1")
    return n
