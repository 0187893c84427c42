from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.instruments import DecimalGrid
from engine.errors import InstrumentError


def test_binance_padded_text_converts_exactly():
    """Binance's eight-decimal text becomes exact ticks and lots."""
    assert DecimalGrid("0.01", "price").to_int("65000.01000000") == 6500001
    assert DecimalGrid("0.00001", "size").to_int("0.12300000") == 12300


def test_off_grid_price_raises_instead_of_rounding():
    """A price between ticks is an error, never rounded."""
    with pytest.raises(InstrumentError, match="not a multiple"):
        DecimalGrid("0.01", "price").to_int("65000.015")


def test_non_power_of_ten_tick():
    """A tick of 0.5 accepts multiples of 0.5 and rejects the rest."""
    grid = DecimalGrid("0.5", "price")
    assert grid.to_int("101.5") == 203
    assert grid.to_text(203) == "101.5"
    with pytest.raises(InstrumentError):
        grid.to_int("101.2")


@pytest.mark.parametrize("text", ["", "abc", "1e5", "1_000", " 1", "1.2.3", "nan"])
def test_garbage_text_is_rejected(text):
    """Text that is not a plain decimal number is rejected."""
    with pytest.raises(InstrumentError):
        DecimalGrid("0.01", "price").to_int(text)


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(["0.01", "0.5", "1", "0.00001", "25"]),
)
def test_text_round_trip_is_exact(steps, step):
    """Steps -> text -> steps is the identity, and the text equals the exact Decimal value."""
    grid = DecimalGrid(step, "price")
    text = grid.to_text(steps)
    assert grid.to_int(text) == steps
    assert Decimal(text) == Decimal(step) * steps
