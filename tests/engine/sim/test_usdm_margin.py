"""The USD-M margin model: initial margin rounds up, closing lots need none, -2019 when short."""

from __future__ import annotations

from fractions import Fraction

import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.usdm_ledger import MarginState
from engine.sim.usdm_margin import check_margin, initial_margin, room
from engine.sim.usdm_wire import FuturesText
from engine.sim.wire import RestError

TEXT = FuturesText(Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001"))


def state(available: int) -> MarginState:
    """A USDT margin state with ``available`` units free."""
    return MarginState(
        asset="USDT", wallet=available, unrealized=0, position_margin=0, order_margin=0
    )


def test_room_is_what_closes_the_position_and_no_more():
    """A buy may reduce a short by its size; nothing reduces a long by buying."""
    assert (room(-5, Side.BUY), room(-5, Side.SELL), room(7, Side.SELL), room(0, Side.BUY)) == (
        5,
        0,
        7,
        0,
    )


def test_initial_margin_is_notional_over_leverage_rounded_up():
    """0.001 BTC at 65000.01 is 65.00001 USDT; at 20x that is 3.2500005 USDT, rounded up."""
    assert TEXT.unit == Fraction(1000)
    assert initial_margin(TEXT.unit, 6_500_001, 1) == 325_000_050
    assert initial_margin(TEXT.unit, 1, 1) == 50


def test_closing_lots_need_no_margin_and_opening_lots_must_fit():
    """Short 3 lots: buying 3 needs nothing; buying 4 needs one lot's margin."""
    check_margin(state(0), TEXT, -3, Side.BUY, 3, 6_500_000)
    check_margin(state(325_000_000), TEXT, -3, Side.BUY, 4, 6_500_000)
    with pytest.raises(RestError) as short:
        check_margin(state(324_999_999), TEXT, -3, Side.BUY, 4, 6_500_000)
    assert (short.value.code, short.value.msg) == (-2019, "Margin is insufficient.")


def test_available_is_the_margin_balance_less_margins_in_use():
    """Wallet plus unrealised PnL, less position and order margins."""
    got = MarginState(asset="USDT", wallet=100, unrealized=-10, position_margin=20, order_margin=5)
    assert (got.margin_balance, got.available) == (90, 65)
