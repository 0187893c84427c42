"""Positions and PnL: hand-computed cases, the cash-flow identity, daily roll-over, rapid loss."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.clock import SimClock
from engine.core.events import Fill, Side
from engine.core.instruments import Instrument
from engine.oms.positions import (
    DAY_NS,
    InvalidFill,
    Portfolio,
    PortfolioView,
    Position,
    fees_to_quote,
)

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", instrument_id=0)
"""Quote currency per tick*lot: 0.1 * 0.01 = 0.001 USDT."""
ETH = Instrument(venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1)

_ids = itertools.count()


def fill(side: Side, price: int, size: int, *, fee: int = 0, inst: int = 0, tid: str = "") -> Fill:
    """A fill of ours with a fresh trade id unless one is given."""
    trade_id = tid or f"t{next(_ids)}"
    return Fill(
        venue="sim",
        instrument=inst,
        client_order_id="test-1",
        venue_order_id="v1",
        trade_id=trade_id,
        side=side,
        price=price,
        size=size,
        fee=fee,
    )


def test_long_adds_then_partial_close_first_in_first_out():
    """Adding to a long averages the entry, and a partial close realises against the oldest lots."""
    pos = Position(BTC)
    pos.apply(fill(Side.BUY, 100, 3))
    pos.apply(fill(Side.BUY, 104, 1))
    assert (pos.net, pos.cost, pos.avg_entry) == (4, 404, Fraction(101))
    pos.apply(fill(Side.SELL, 110, 2))
    assert (pos.net, pos.cost, pos.realised) == (2, 204, 20)
    assert pos.avg_entry == Fraction(102)
    assert pos.unrealised(2 * 105) == 6
    assert pos.realised_quote() == Decimal("0.020")
    assert pos.unrealised_quote(2 * 105) == Decimal("0.006")


def test_short_realises_and_marks_to_a_half_tick_mid():
    """A short gains when the price falls, and a half-tick mid gives an exact half tick*lot."""
    pos = Position(BTC)
    pos.apply(fill(Side.SELL, 200, 5))
    pos.apply(fill(Side.BUY, 190, 2))
    assert (pos.net, pos.cost, pos.realised, pos.avg_entry) == (-3, -600, 20, Fraction(200))
    assert pos.unrealised(390) == 15
    assert pos.unrealised(391) == Fraction(27, 2)
    assert pos.unrealised_quote(391) == Decimal("0.0135")


def test_flip_through_zero_closes_then_opens_at_the_fill_price():
    """A sell larger than the long closes it all and opens a short at the fill price."""
    pos = Position(BTC)
    pos.apply(fill(Side.BUY, 100, 2))
    pos.apply(fill(Side.SELL, 90, 5))
    assert (pos.net, pos.cost, pos.realised, pos.avg_entry) == (-3, -270, -20, Fraction(90))
    pos.apply(fill(Side.BUY, 80, 3))
    assert (pos.net, pos.cost, pos.realised, pos.avg_entry) == (0, 0, 10, None)
    assert pos.unrealised(12345) == 0


def test_average_entry_stays_an_exact_fraction():
    """An entry that is not a whole tick is kept as an exact fraction, not rounded."""
    pos = Position(BTC)
    pos.apply(fill(Side.BUY, 100, 1))
    pos.apply(fill(Side.BUY, 100, 1))
    pos.apply(fill(Side.BUY, 101, 1))
    assert pos.avg_entry == Fraction(301, 3)


def test_fees_and_rebates_net_exactly_in_quote_currency():
    """Taker fees add to fees and maker rebates subtract, converted at 10**-8 exactly."""
    pos = Position(BTC)
    pos.apply(fill(Side.BUY, 100, 1, fee=500))
    pos.apply(fill(Side.SELL, 100, 1, fee=-200))
    assert pos.fees == 300
    assert pos.fees_quote() == Decimal("0.000003")
    assert fees_to_quote(-7) == Decimal("-0.00000007")


def test_the_same_fill_twice_changes_nothing():
    """A fill seen again by (venue, trade id) is refused and leaves the position as it was."""
    pos = Position(BTC)
    first = fill(Side.BUY, 100, 2, fee=10)
    assert pos.apply(first)
    before = (pos.net, pos.cost, pos.realised, pos.fees)
    assert not pos.apply(first)
    assert (pos.net, pos.cost, pos.realised, pos.fees) == before


def test_a_fill_for_another_instrument_or_of_no_size_is_rejected():
    """Fills that cannot belong to the position raise InvalidFill."""
    pos = Position(BTC)
    with pytest.raises(InvalidFill, match="instrument 1"):
        pos.apply(fill(Side.BUY, 100, 1, inst=1))
    with pytest.raises(InvalidFill, match="size 0"):
        pos.apply(fill(Side.BUY, 100, 0))


def test_worst_case_counts_every_pending_order_as_filled():
    """The worst case adds every pending buy to the long extreme and every sell to the short."""
    pos = Position(BTC)
    pos.apply(fill(Side.BUY, 100, 4))
    assert pos.worst_case(pending_buys_lots=3, pending_sells_lots=10) == (7, -6)


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 10**6),
        st.integers(1, 10**4),
        st.integers(-1000, 1000),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(fills_strategy, st.integers(0, 2 * 10**6))
def test_pnl_matches_the_cash_flow_reference_exactly(raw_fills, mid_x2):
    """Realised plus unrealised equals cash flows plus position times mark, exactly, fees apart."""
    pos = Position(BTC)
    fills = [fill(s, p, q, fee=f) for s, p, q, f in raw_fills]
    for f in fills:
        assert pos.apply(f)
    sign = {Side.BUY: 1, Side.SELL: -1}
    cash = -sum(sign[s] * p * q for s, p, q, _ in raw_fills)
    net = sum(sign[s] * q for s, _, q, _ in raw_fills)
    fees = sum(f for *_, f in raw_fills)
    reference = cash + Fraction(net * mid_x2, 2)
    assert pos.net == net
    assert pos.fees == fees
    assert pos.realised + pos.unrealised(mid_x2) == reference
    quote = pos.realised_quote() + pos.unrealised_quote(mid_x2) - pos.fees_quote()
    assert Fraction(quote) == reference * Fraction(1, 1000) - Fraction(fees, 10**8)
    state = (pos.net, pos.cost, pos.realised, pos.fees)
    assert not any(pos.apply(f) for f in fills)
    assert (pos.net, pos.cost, pos.realised, pos.fees) == state


def test_portfolio_totals_sum_positions_in_quote_currency():
    """Totals add realised, marked unrealised and fees across instruments in exact Decimals."""
    book = Portfolio([BTC, ETH], SimClock())
    book.apply(fill(Side.BUY, 650000, 10, fee=1000, inst=0))
    book.apply(fill(Side.SELL, 300000, 5, fee=-50, inst=1))
    book.mark(0, 2 * 650100)
    book.mark(1, 2 * 299000 + 1)
    totals = book.totals()
    # BTC: 10 lots * 100 ticks * 0.001 = 1.0; ETH: 5 lots * 999.5 ticks * 0.00001 = 0.049975
    assert totals.unrealised == Decimal("1.049975")
    assert totals.realised == 0
    assert totals.fees == Decimal("0.0000095")
    assert totals.net == Decimal("1.0499655")


def test_portfolio_totals_follow_every_fill_and_mark():
    """Totals are kept between changes; any fill or mark gives new ones, as adding up afresh."""
    book = Portfolio([BTC], SimClock())
    book.apply(fill(Side.BUY, 650000, 10))
    book.mark(0, 2 * 650100)
    first = book.totals()
    assert book.totals() is first
    book.mark(0, 2 * 650200)
    assert book.totals().unrealised == Decimal("2.000")
    book.position(0).apply(fill(Side.SELL, 650300, 4, fee=300))
    totals = book.totals()
    assert (totals.realised, totals.fees) == (Decimal("1.200"), Decimal("0.000003"))
    assert totals == Portfolio._add_up(book)


def test_portfolio_deduplicates_fills_across_instruments():
    """A (venue, trade id) already booked is refused even when it names another instrument."""
    book = Portfolio([BTC, ETH], SimClock())
    assert book.apply(fill(Side.BUY, 100, 1, inst=0, tid="x1"))
    assert not book.apply(fill(Side.BUY, 100, 1, inst=0, tid="x1"))
    assert not book.apply(fill(Side.BUY, 100, 1, inst=1, tid="x1"))
    assert book.position(1).net == 0
    with pytest.raises(InvalidFill, match="not in the portfolio"):
        book.apply(fill(Side.BUY, 100, 1, inst=7))


def test_daily_pnl_rolls_over_at_midnight_utc():
    """Daily PnL restarts from the marked net value at 00:00 UTC and counts only today's changes."""
    clock = SimClock()
    book = Portfolio([BTC], clock)
    book.apply(fill(Side.BUY, 100, 10))
    book.mark(0, 2 * 110)
    assert book.daily_pnl() == Decimal("0.1")
    clock.advance(DAY_NS - clock.time_ns() % DAY_NS - 1)
    assert book.daily_pnl() == Decimal("0.1")
    clock.advance(1)
    assert book.daily_pnl() == 0
    book.mark(0, 2 * 120)
    assert book.daily_pnl() == Decimal("0.1")
    book.apply(fill(Side.SELL, 120, 10, fee=2_000_000))
    assert book.daily_pnl() == Decimal("0.08")
    assert book.totals().net == Decimal("0.18")


def test_rapid_loss_path_reports_each_step_exactly():
    """Realised loss goes -50, -70, -90, -110 quote, crossing a -100 limit only on the last fill."""
    book = Portfolio([BTC], SimClock())
    book.apply(fill(Side.BUY, 650000, 100))
    book.apply(fill(Side.SELL, 649500, 100))
    assert book.totals().realised == Decimal("-50")
    book.apply(fill(Side.BUY, 650000, 300))
    book.mark(0, 2 * 650000)
    seen = []
    for _ in range(3):
        book.apply(fill(Side.SELL, 649800, 100))
        seen.append(book.daily_pnl())
    assert seen == [Decimal("-70"), Decimal("-90"), Decimal("-110")]
    assert [pnl < Decimal("-100") for pnl in seen] == [False, False, True]
    assert book.totals().realised == Decimal("-110")
    assert book.position(0).realised == -110_000


def test_snapshot_is_frozen_and_round_trips_through_msgspec():
    """The snapshot holds exact figures and encodes and decodes unchanged for the journal."""
    clock = SimClock()
    book = Portfolio([BTC, ETH], clock)
    book.apply(fill(Side.BUY, 100, 1))
    book.apply(fill(Side.BUY, 101, 2))
    book.mark(0, 2 * 102)
    view = book.snapshot()
    btc = view.positions[0]
    assert (btc.key, btc.net_lots, btc.cost, btc.mid_x2) == ("sim:BTCUSDT", 3, 302, 204)
    assert btc.avg_entry == Decimal("10.0666666667")
    assert btc.unrealised == Decimal("0.004")
    assert view.positions[1].avg_entry is None
    assert view.ts_ns == clock.time_ns()
    assert msgspec.json.decode(msgspec.json.encode(view), type=PortfolioView) == view
    with pytest.raises(AttributeError):
        view.net = Decimal(0)  # type: ignore[misc]
