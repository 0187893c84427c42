from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.instruments import Instrument
from engine.sim.fees import NO_FEES, FeeRateError, FeeSchedule

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")


def test_fee_is_exact_when_the_rate_divides_evenly():
    """1 bp on 1,000 USDT of notional is exactly 0.1 USDT, 10,000,000 fee units."""
    fees = FeeSchedule("0.0001", "0.0001")
    assert fees.fee_units(1000, 1, maker=False) == 10_000_000


def test_charges_round_up_to_the_next_fee_unit():
    """A taker charge worth a fraction of a fee unit is rounded up, never down."""
    fees = FeeSchedule("0", "0.0004").for_instrument(BTC)
    # one tick*lot is 1e-7 quote = 10 fee units; 0.0004 of 10 units is 0.004 units
    assert fees.fee_units(1, 1, maker=False) == 1
    assert fees.fee_units(250, 1, maker=False) == 1
    assert fees.fee_units(251, 1, maker=False) == 2


def test_rebates_round_toward_zero():
    """A maker rebate is negative and loses its fraction of a fee unit."""
    fees = FeeSchedule("-0.00005", "0.001").for_instrument(BTC)
    assert fees.fee_units(1, 1, maker=True) == 0
    assert fees.fee_units(2000, 1, maker=True) == -1
    assert fees.fee_units(3999, 1, maker=True) == -1
    assert fees.fee_units(4000, 1, maker=True) == -2


def test_maker_and_taker_rates_are_separate():
    """The maker flag picks the maker rate, otherwise the taker rate."""
    fees = FeeSchedule("0.0002", "0.0005").for_instrument(BTC)
    # 1 BTC at 65,000.00 USDT
    assert fees.fee_units(6_500_000, 100_000, maker=True) == 1_300_000_000  # 13 USDT
    assert fees.fee_units(6_500_000, 100_000, maker=False) == 3_250_000_000  # 32.5 USDT


def test_no_fees_charges_nothing():
    """The zero schedule gives 0 for any fill."""
    assert NO_FEES.fee_units(123_456, 789, maker=False) == 0
    assert NO_FEES.fee_units(123_456, 789, maker=True) == 0


@pytest.mark.parametrize("rate", ["abc", "", "NaN", "Infinity", "1e"])
def test_bad_rate_text_is_refused_naming_the_rate(rate):
    """A rate that is not a finite decimal raises FeeRateError naming it."""
    with pytest.raises(FeeRateError, match="maker rate"):
        FeeSchedule(rate, "0")


def test_non_positive_grid_is_refused():
    """A zero tick or lot size cannot price a fee."""
    with pytest.raises(FeeRateError, match="must be > 0"):
        FeeSchedule("0", "0", tick_size="0")


@settings(max_examples=200, deadline=None)
@given(
    price=st.integers(1, 10**9),
    size=st.integers(1, 10**9),
    rate=st.decimals(min_value=Decimal("-0.01"), max_value=Decimal("0.01"), places=6),
)
def test_fee_matches_exact_decimal_rounding(price, size, rate):
    """The integer fee equals the exact Decimal fee rounded up (charge) or toward zero (rebate)."""
    fees = FeeSchedule(str(rate), str(rate)).for_instrument(BTC)
    exact = Decimal(price) * Decimal(size) * Decimal("0.01") * Decimal("0.00001") * rate * 10**8
    expected = int(exact.to_integral_value(rounding="ROUND_CEILING" if rate >= 0 else "ROUND_DOWN"))
    assert fees.fee_units(price, size, maker=True) == expected
