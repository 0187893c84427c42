"""The risk limits document as rows, their use now, and one edit to it."""

from __future__ import annotations

import msgspec
import pytest

from engine.risk.limits import Limits, RiskLimits
from hft_tui.limits import LimitInputError, limit_rows, with_value


@pytest.fixture
def doc():
    """The engine's default limits with one per-instrument replacement, as JSON decodes them."""
    limits = RiskLimits(per_instrument={"sim:ETHUSDT": Limits(max_position="50")})
    return msgspec.json.decode(msgspec.json.encode(limits))


def test_rows_list_account_then_defaults_then_each_instrument(doc):
    """Account limits first, then every default, then the instrument's own set."""
    rows = limit_rows(doc)
    assert [r.key for r in rows[:3]] == ["daily_loss_limit", "max_drawdown", "drawdown_window_s"]
    assert rows[3].key == "defaults.max_order_size"
    scopes = [r.scope for r in rows]
    assert scopes.count("defaults") == scopes.count("sim:ETHUSDT") == len(Limits.__struct_fields__)
    own = next(r for r in rows if r.key == "per_instrument.sim:ETHUSDT.max_position")
    assert own.value == "50"


def test_an_edit_keeps_counts_whole_and_decimals_exact_text(doc):
    """Counts become integers, decimal limits stay text; the original is not touched."""
    new = with_value(doc, ("defaults", "max_open_orders"), " 12 ")
    assert new["defaults"]["max_open_orders"] == 12
    new = with_value(doc, ("per_instrument", "sim:ETHUSDT", "max_position"), "2.50")
    assert new["per_instrument"]["sim:ETHUSDT"]["max_position"] == "2.50"
    assert doc["per_instrument"]["sim:ETHUSDT"]["max_position"] == "50"
    msgspec.json.decode(msgspec.json.encode(new), type=RiskLimits)  # still the engine's schema


def test_a_count_must_be_a_whole_number_and_the_path_must_exist(doc):
    """Text in a count field, or a limit that is not in the document, is refused with its name."""
    with pytest.raises(LimitInputError, match="max_open_orders must be a whole number"):
        with_value(doc, ("defaults", "max_open_orders"), "1.5")
    with pytest.raises(LimitInputError, match=r"no limit defaults\.max_postion"):
        with_value(doc, ("defaults", "max_postion"), "1")
