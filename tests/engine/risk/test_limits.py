"""Risk limits: exact conversion to integer units, and every insane value refused by name."""

from __future__ import annotations

import msgspec
import pytest

from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.risk.limits import Limits, LimitsError, RiskLimits, compile_limits, validate_limits

BTC = Instrument(
    venue="sim",
    symbol="BTCUSDT",
    tick_size="0.1",
    lot_size="0.01",
    min_notional="10",
    instrument_id=0,
)
"""Quote currency per tick*lot: 0.001; per half tick*lot: 0.0005."""
ETH = Instrument(venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1)


def _refused(limits: RiskLimits) -> LimitsError:
    with pytest.raises(LimitsError) as info:
        compile_limits(limits, [BTC, ETH])
    return info.value


def test_defaults_convert_to_exact_integer_units():
    """The default limits become lots, half tick*lots, counts, ns and 10**-8 PnL units."""
    got = compile_limits(RiskLimits(), [BTC, ETH])
    btc = got.instruments[0]
    assert (btc.max_lots, btc.max_market_lots, btc.max_position_lots) == (100, 10, 500)
    assert btc.max_notional_x2 == 100_000_000  # 50000 / 0.0005
    assert btc.max_market_notional_x2 == 10_000_000
    assert btc.min_notional_x2 == 20_000
    assert btc.max_data_age_ns == 5_000_000_000
    assert (btc.max_drawdown, btc.daily_loss_limit) == (100_000_000_000, 200_000_000_000)
    assert got.account.drawdown_window_ns == 3600 * 10**9
    assert got.instruments[1].max_lots == 1000


def test_maximums_round_down_and_minimum_notional_rounds_up():
    """A maximum between lots rounds down to whole lots; a minimum notional rounds up."""
    tiny = Instrument(
        venue="sim", symbol="X", tick_size="0.1", lot_size="0.01", min_notional="0.0001"
    )
    limits = RiskLimits(defaults=Limits(max_order_size="1.009", max_order_notional="50000.0004"))
    got = compile_limits(limits, [tiny]).instruments[0]
    assert got.max_lots == 100
    assert got.max_notional_x2 == 100_000_000
    assert got.min_notional_x2 == 1  # 0.0001 / 0.0005 = 0.2, rounded up


def test_per_instrument_limits_replace_the_defaults_for_that_instrument_only():
    """A per-instrument entry is that instrument's whole set; others keep the defaults."""
    limits = RiskLimits(per_instrument={"sim:ETHUSDT": Limits(max_order_size="0.5")})
    assert limits.for_instrument("sim:ETHUSDT").max_order_size == "0.5"
    assert limits.for_instrument("sim:BTCUSDT") is limits.defaults
    got = compile_limits(limits, [BTC, ETH])
    assert (got.instruments[0].max_lots, got.instruments[1].max_lots) == (100, 500)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_order_size", "-1", "must be positive"),
        ("max_order_size", "0", "must be positive"),
        ("max_order_size", "abc", "not a decimal"),
        ("max_order_size", "NaN", "not a finite"),
        ("max_order_size", "0.001", "less than one lot"),
        ("max_position", "-5", "must be positive"),
        ("max_order_notional", "5", "below the minimum notional"),
        ("max_market_order_size", "2", "must not exceed max_order_size"),
        ("max_market_order_notional", "60000", "must not exceed max_order_notional"),
        ("max_open_orders", 0, "between 1 and"),
        ("max_orders_per_second", -1, "between 1 and"),
        ("max_orders_per_second", 601, "must not exceed max_orders_per_minute"),
        ("price_band_bps", 5001, "between 1 and"),
        ("post_only_band_bps", 501, "must not exceed price_band_bps"),
        ("max_data_age_ms", 0, "between 1 and"),
    ],
)
def test_insane_instrument_limits_are_refused_naming_field_and_value(field, value, problem):
    """Each bad instrument limit raises LimitsError with the instrument, field and value."""
    bad = msgspec.structs.replace(Limits(), **{field: value})
    err = _refused(RiskLimits(defaults=bad))
    assert (err.where, err.field, err.value) == ("sim:BTCUSDT", field, value)
    assert problem in str(err)
    assert field in str(err)
    assert repr(value) in str(err)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_drawdown", "-1", "must be positive"),
        ("daily_loss_limit", "0", "must be positive"),
        ("daily_loss_limit", "0.000000001", "more decimals"),
        ("drawdown_window_s", 0, "between 1 and"),
    ],
)
def test_insane_account_limits_are_refused(field, value, problem):
    """Bad loss limits or drawdown window raise LimitsError naming the account field."""
    err = _refused(msgspec.structs.replace(RiskLimits(), **{field: value}))
    assert (err.where, err.field, err.value) == ("account", field, value)
    assert problem in str(err)


def test_limits_for_an_unknown_instrument_are_refused():
    """A per-instrument key that names no tradable instrument is an error, not ignored."""
    err = _refused(RiskLimits(per_instrument={"sim:DOGEUSDT": Limits()}))
    assert err.field == "per_instrument"
    assert "sim:DOGEUSDT" in str(err)


def test_limits_error_is_an_engine_value_error():
    """LimitsError is caught as EngineError and as ValueError."""
    with pytest.raises(EngineError):
        validate_limits(RiskLimits(max_drawdown="-1"), [BTC])
    with pytest.raises(ValueError, match="max_drawdown"):
        validate_limits(RiskLimits(max_drawdown="-1"), [BTC])


def test_unknown_limit_fields_are_refused_when_decoded():
    """A misspelt limit in config text is an error, never silently dropped."""
    with pytest.raises(msgspec.ValidationError, match="max_order_sise"):
        msgspec.convert({"defaults": {"max_order_sise": "1"}}, RiskLimits)
    decoded = msgspec.convert({"defaults": {"max_order_size": "2"}}, RiskLimits)
    assert decoded.defaults.max_order_size == "2"
