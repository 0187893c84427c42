"""Linear positions on the local venue: netting, exact average entry, realised PnL."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Side
from engine.sim.accounts import Account, AccountSpec
from engine.sim.bybit_ledger import LinearOrder, LinearPosition

UNIT = Fraction("0.01") * Fraction("0.00001") * 10**8
"""Units of 10**-8 USDT per tick-lot of BTCUSDT (tick 0.01, lot 0.00001): one tenth."""


def position() -> LinearPosition:
    """A flat BTCUSDT position of a fresh account."""
    return LinearPosition(Account(AccountSpec("k1", "s1"), uid=1), "BTCUSDT", UNIT)


def test_adding_averages_the_entry_exactly():
    """Two buys at different prices average their entry exactly."""
    held = position()
    assert held.fill(Side.BUY, 100, 3, 1) == (0, 0)
    assert held.fill(Side.BUY, 101, 1, 2) == (0, 0)
    assert (held.size, held.side) == (4, "Buy")
    assert held.avg_ticks == Fraction(401, 4)


def test_reducing_realises_pnl_against_the_average():
    """Selling part of a long realises (exit - average) on the lots closed, rounded down."""
    held = position()
    held.fill(Side.BUY, 6_500_000, 1000, 1)
    closed, pnl = held.fill(Side.SELL, 6_500_100, 400, 2)
    assert closed == 400
    assert pnl == 400_000  # 1.00 USDT on 0.004 BTC: 0.004 USDT
    assert held.size == 600
    assert held.avg_ticks == 6_500_000


def test_a_short_gains_when_the_price_falls_and_flips_through_flat():
    """A short realises gains on a lower buy; a larger buy flips it long at the buy price."""
    held = position()
    held.fill(Side.SELL, 200, 10, 1)
    assert held.side == "Sell"
    closed, pnl = held.fill(Side.BUY, 190, 15, 2)
    assert closed == 10
    assert pnl == int(10 * 10 * UNIT)
    assert held.size == 5
    assert held.avg_ticks == Fraction(190)
    assert held.unrealised(200) == int(5 * 10 * UNIT)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 1000), st.integers(1, 50)), max_size=30))
def test_realised_plus_unrealised_is_the_cash_flow_at_the_last_price(fills):
    """Across any fills, realised PnL plus the open lots at the last price match the cash flow."""
    held = position()
    cash = Fraction(0)
    for n, (buy, price, lots) in enumerate(fills):
        held.fill(Side.BUY if buy else Side.SELL, price, lots, n)
        cash += (-price if buy else price) * lots
    last = fills[-1][1] if fills else 1
    exact = (cash + held.size * last) * UNIT
    total = held.realised + held.unrealised(last)
    assert exact - len(fills) - 1 <= total <= exact  # each close and the mark round down


def test_an_order_reports_leaves_only_while_it_works():
    """Leaves are the unfilled lots of a working order and 0 once it ended."""
    order = LinearOrder(
        Account(AccountSpec("k1", "s1"), uid=1),
        "BTCUSDT",
        "id",
        "l",
        Side.BUY,
        "Limit",
        "GTC",
        100,
        10,
    )
    order.filled = 4
    assert order.leaves == 6
    order.status = "Cancelled"
    assert (order.leaves, order.is_open) == (0, False)
