"""Store hashes of risk limits and breaker state: names, exact text, and strict reading back."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.instruments import Instrument
from engine.risk.limits import Limits, RiskLimits
from engine.risk.limits_layout import (
    ACCOUNT,
    StoreValueError,
    account_fields,
    breaker_fields,
    breaker_tripped,
    hash_name,
    limits_fields,
    with_hash,
)

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01")
ETH = Instrument(venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1)


def test_hash_name_is_venue_dot_symbol():
    """An instrument's hash is its key with the colon written as a dot."""
    assert hash_name(BTC) == "sim.BTCUSDT"
    assert hash_name(Instrument(venue="binance", symbol="ETH_USDT-1", tick_size="1", lot_size="1"))


def test_instrument_that_cannot_name_a_hash_is_refused():
    """A venue or symbol with characters a store name cannot hold is refused by name."""
    odd = Instrument(venue="sim", symbol="BTC*USDT", tick_size="0.1", lot_size="0.01")
    with pytest.raises(ValueError, match=r"sim:BTC\*USDT"):
        hash_name(odd)


def test_fields_are_exact_text():
    """Every field is text: decimals as configured, counts as plain digits."""
    fields = limits_fields(Limits(max_position="0.50", max_open_orders=7))
    assert fields["max_position"] == "0.50"
    assert fields["max_open_orders"] == "7"
    assert set(fields) == set(Limits.__struct_fields__)
    assert account_fields(RiskLimits()) == {
        "daily_loss_limit": "2000",
        "max_drawdown": "1000",
        "drawdown_window_s": "3600",
    }


@settings(max_examples=50, deadline=None)
@given(
    position=st.decimals(min_value=1, max_value=10**6, places=3).map(str),
    orders=st.integers(min_value=1, max_value=100_000),
)
def test_an_instrument_hash_reads_back_as_written(position: str, orders: int) -> None:
    """Writing an instrument's limits and reading the hash back gives the same limits."""
    mine = Limits(max_position=position, max_open_orders=orders)
    got = with_hash(RiskLimits(), "sim.ETHUSDT", ETH, limits_fields(mine))
    assert got.for_instrument(ETH.key) == mine
    assert got.for_instrument(BTC.key) == Limits()


def test_fields_a_hash_does_not_name_keep_their_values():
    """A hash with one field changes that field and keeps the rest of the set in force."""
    eth = Limits(max_position="2", price_band_bps=300)
    limits = RiskLimits(per_instrument={ETH.key: eth})
    got = with_hash(limits, "sim.ETHUSDT", ETH, {"max_position": "3"})
    assert got.for_instrument(ETH.key) == msgspec.structs.replace(eth, max_position="3")
    account = with_hash(limits, ACCOUNT, None, {"daily_loss_limit": "10"})
    assert (account.daily_loss_limit, account.max_drawdown) == ("10", "1000")


def test_a_set_equal_to_the_defaults_is_no_override():
    """An instrument whose hash equals the defaults has no per-instrument entry."""
    limits = RiskLimits(per_instrument={ETH.key: Limits(max_position="2")})
    got = with_hash(limits, "sim.ETHUSDT", ETH, limits_fields(Limits()))
    assert got.per_instrument == {}


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_leverage", "3", "unknown field"),
        ("max_open_orders", "5.5", "not a whole number"),
        ("max_open_orders", "1e3", "not a whole number"),
        ("max_position", " 5", "padded with spaces"),
        ("max_position", "", "empty"),
    ],
)
def test_a_field_in_the_wrong_form_is_refused_by_hash_field_and_value(
    field: str, value: str, problem: str
) -> None:
    """An unknown field, a non-integer count or padded text names the hash, field and value."""
    with pytest.raises(StoreValueError) as info:
        with_hash(RiskLimits(), "sim.ETHUSDT", ETH, {field: value})
    assert (info.value.hash, info.value.field, info.value.value) == ("sim.ETHUSDT", field, value)
    assert problem in str(info.value)
    assert f"limits/sim.ETHUSDT field {field} = {value!r}" in str(info.value)


def test_breaker_state_reads_back_and_garbage_is_unreadable():
    """The breaker hash says tripped or not; anything else reads as unknown."""
    assert breaker_tripped(breaker_fields(True, "daily loss", 5, "engine")) is True
    assert breaker_tripped(breaker_fields(False, "", 0, "operator")) is False
    assert breaker_tripped({"tripped": "maybe"}) is None
    assert breaker_tripped({"reason": "no state"}) is None
