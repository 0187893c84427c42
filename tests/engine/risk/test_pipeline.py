"""The risk pipeline: first rejection wins and is logged, and its bookkeeping adds up.

Covered: accumulation across orders, sliding rate windows, drawdown and daily loss from the
portfolio, live limit swaps and halting.
"""

from __future__ import annotations

import itertools
import logging

import msgspec
import pytest

from engine.core.clock import SimClock
from engine.core.commands import OrderType, SubmitOrder
from engine.core.events import Fill, Side
from engine.core.instruments import Instrument
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState, RejectReason
from engine.risk.limits import Limits, LimitsError, RiskLimits
from engine.risk.pipeline import RiskPipeline

BTC = Instrument(
    venue="sim",
    symbol="BTCUSDT",
    tick_size="0.1",
    lot_size="0.01",
    min_notional="10",
    instrument_id=0,
)
"""One tick of mid on 100 lots (1 BTC) moves PnL by 0.1 quote."""

_ids = itertools.count()


def order(size: int = 1, price: int = 500_000, side: Side = Side.BUY, **kw: object) -> SubmitOrder:
    """A BTC order with a fresh client order id."""
    return SubmitOrder(
        client_order_id=f"t-{next(_ids)}",
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=price,
        **kw,  # type: ignore[arg-type]
    )


def fill(side: Side, price: int, size: int, client_order_id: str = "t-x") -> Fill:
    """A fill of ours with a fresh trade id."""
    return Fill(
        venue="sim",
        instrument=0,
        client_order_id=client_order_id,
        venue_order_id="v",
        trade_id=f"f{next(_ids)}",
        side=side,
        price=price,
        size=size,
        fee=0,
    )


class Desk:
    """A pipeline over BTC with a simulated clock and a portfolio, as the engine wires it."""

    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.clock = SimClock()
        self.portfolio = Portfolio([BTC], self.clock)
        self.risk = RiskPipeline([BTC], limits or RiskLimits(), self.clock, self.portfolio)

    def market(self, mid: int = 500_000) -> MarketState:
        """A live book one tick either side of ``mid``, just received."""
        return MarketState(
            best_bid=mid - 1, best_ask=mid + 1, live=True, recv_ts=self.clock.time_ns()
        )

    def check(self, o: SubmitOrder) -> RejectReason | None:
        """The rejection reason for ``o`` against a fresh market, or None."""
        got = self.risk.check(o, self.market())
        return None if got is None else got.reason

    def send(self, o: SubmitOrder) -> RejectReason | None:
        """Check ``o`` and, when it passes, count it as sent."""
        got = self.check(o)
        if got is None:
            self.risk.on_submitted(o)
        return got

    def mark(self, mid: int) -> None:
        """Mark BTC at ``mid`` ticks and tell risk the PnL changed."""
        self.portfolio.mark(0, 2 * mid)
        self.risk.on_pnl()


def with_limits(**fields: object) -> RiskLimits:
    """Default risk limits with some instrument defaults replaced."""
    return RiskLimits(defaults=msgspec.structs.replace(Limits(), **fields))


def test_a_clean_order_passes():
    """A small limit order near mid on a live book passes every check."""
    assert Desk().check(order()) is None


def test_first_rejection_wins_and_is_logged_with_numbers(caplog):
    """An order both too big and outside the band is rejected for size, and the log says so."""
    desk = Desk()
    caplog.set_level(logging.INFO, logger="engine.risk")
    got = desk.risk.check(order(size=101, price=900_000), desk.market())
    assert got is not None
    assert got.reason is RejectReason.ORDER_SIZE
    [record] = [r for r in caplog.records if r.name == "engine.risk"]
    assert record.levelno == logging.INFO
    assert "order_size" in record.getMessage()
    assert "1.01 (101 lots) exceeds 1.00 (100 lots)" in record.getMessage()
    assert (record.limit, record.value) == (100, 101)
    assert desk.risk.rejections[RejectReason.ORDER_SIZE] == 1


def test_open_orders_accumulate_and_free_up_when_done():
    """With a limit of 3, the fourth working order rejects until one of the three is done."""
    desk = Desk(with_limits(max_open_orders=3))
    sent = [order() for _ in range(3)]
    assert [desk.send(o) for o in sent] == [None, None, None]
    assert desk.risk.open_orders(0) == 3
    assert desk.send(order()) is RejectReason.OPEN_ORDERS
    assert desk.risk.on_done(sent[0].client_order_id)
    assert desk.send(order()) is None


def test_worst_case_position_accumulates_over_pending_orders_and_fills():
    """Pending buys count toward the long limit; fills move lots from pending to the position."""
    desk = Desk(with_limits(max_position="1"))  # 100 lots
    first, second = order(size=40), order(size=40)
    assert desk.send(first) is None
    assert desk.send(second) is None
    assert desk.check(order(size=21)) is RejectReason.POSITION
    assert desk.check(order(size=20)) is None  # 40 + 40 + 20 = 100, the limit
    assert desk.check(order(size=100, side=Side.SELL)) is None  # sells do not add to the long
    desk.portfolio.apply(fill(Side.BUY, 500_000, 30, first.client_order_id))
    desk.risk.on_fill(first.client_order_id, 30)
    assert desk.risk.pending_lots(0) == (50, 0)
    assert desk.check(order(size=21)) is RejectReason.POSITION  # 30 held + 50 pending + 21
    desk.risk.on_done(first.client_order_id)  # the unfilled 10 lots are canceled
    assert desk.risk.pending_lots(0) == (40, 0)
    assert desk.check(order(size=30)) is None  # 30 held + 40 pending + 30 = 100
    assert desk.check(order(size=31)) is RejectReason.POSITION


def test_rate_per_second_slides_with_the_clock():
    """Three orders at once fill a limit of 3 per second; the window frees exactly 1 s later."""
    desk = Desk(with_limits(max_orders_per_second=3))
    for _ in range(3):
        assert desk.send(order()) is None
    assert desk.check(order()) is RejectReason.RATE_PER_SECOND
    desk.clock.advance(999_999_999)
    assert desk.check(order()) is RejectReason.RATE_PER_SECOND
    desk.clock.advance(1)
    assert desk.check(order()) is None


def test_rate_per_minute_counts_orders_across_seconds():
    """Orders spread over seconds still add up against the per-minute limit."""
    desk = Desk(with_limits(max_orders_per_second=2, max_orders_per_minute=3))
    assert desk.send(order()) is None
    assert desk.send(order()) is None
    assert desk.send(order()) is RejectReason.RATE_PER_SECOND
    desk.clock.advance(1_000_000_000)
    assert desk.send(order()) is None
    assert desk.send(order()) is RejectReason.RATE_PER_MINUTE
    desk.clock.advance(59_000_000_000)  # the first two are now a minute old
    assert desk.send(order()) is None


def test_stale_market_data_rejects_past_the_age_limit():
    """A book update exactly max_data_age old passes; one nanosecond older rejects."""
    desk = Desk()
    market = desk.market()
    desk.clock.advance(5_000_000_000)
    assert desk.risk.check(order(), market) is None
    desk.clock.advance(1)
    got = desk.risk.check(order(), market)
    assert got is not None
    assert got.reason is RejectReason.MARKET_DATA_STALE


def test_below_min_notional_is_rejected_before_leaving_the_engine():
    """An order worth less than the instrument's minimum notional is refused with its reason."""
    desk = Desk()
    assert desk.check(order(size=1, price=499_000)) is None  # 499.0 quote, band ok
    got = desk.risk.check(
        order(size=1, price=0, order_type=OrderType.MARKET),
        MarketState(best_bid=900, best_ask=1000, live=True, recv_ts=desk.clock.time_ns()),
    )
    assert got is not None
    assert got.reason is RejectReason.MIN_NOTIONAL  # 0.01 at the 100.0 ask is 1.0 < 10


def test_drawdown_from_the_window_peak():
    """A drop equal to the 1000 limit passes, a tick more rejects, and the peak ages out."""
    desk = Desk()
    desk.portfolio.apply(fill(Side.BUY, 500_000, 100))
    desk.mark(510_000)  # +1000
    desk.mark(500_000)  # back to 0: a drop of exactly 1000
    assert desk.check(order()) is None
    desk.mark(499_999)  # 1000.1 below the peak
    assert desk.check(order()) is RejectReason.DRAWDOWN
    desk.clock.advance(3600 * 10**9)  # the peak leaves the one-hour window
    assert desk.check(order()) is None


def test_daily_loss_rejects_at_the_limit():
    """Losing 1999.9 today passes; losing exactly the 2000 limit rejects."""
    desk = Desk(RiskLimits(max_drawdown="100000"))
    desk.portfolio.apply(fill(Side.BUY, 500_000, 100))
    desk.mark(480_001)
    assert desk.check(order(price=480_000)) is None
    desk.mark(480_000)
    got = desk.risk.check(order(price=480_000), desk.market(480_000))
    assert got is not None
    assert got.reason is RejectReason.DAILY_LOSS
    assert "-2000" in got.message


def test_halted_pipeline_rejects_everything_until_resumed(caplog):
    """While halted every order, even a clean one, is rejected as HALTED and logged at WARNING."""
    desk = Desk()
    desk.risk.halt("kill switch (ui)")
    assert desk.risk.halted
    caplog.set_level(logging.INFO, logger="engine.risk")
    got = desk.risk.check(order(), desk.market())
    assert got is not None
    assert got.reason is RejectReason.HALTED
    assert "kill switch (ui)" in got.message
    assert caplog.records[-1].levelno == logging.WARNING
    desk.risk.resume()
    assert desk.check(order()) is None


def test_invalid_limits_are_refused_and_the_old_ones_kept():
    """set_limits with a negative size raises and leaves the previous limits in force."""
    desk = Desk()
    old = desk.risk.limits
    with pytest.raises(LimitsError, match="max_order_size"):
        desk.risk.set_limits(with_limits(max_order_size="-1"))
    assert desk.risk.limits is old
    assert desk.check(order(size=100)) is None


def test_valid_limits_take_effect_at_once():
    """A tighter max order size put in force live rejects the next order above it."""
    desk = Desk()
    desk.risk.set_limits(with_limits(max_order_size="0.5", max_market_order_size="0.1"))
    assert desk.check(order(size=50)) is None
    assert desk.check(order(size=51)) is RejectReason.ORDER_SIZE


def test_unknown_instrument_and_duplicate_bookkeeping():
    """An order for an instrument without limits rejects; counting an order twice is refused."""
    desk = Desk()
    stray = msgspec.structs.replace(order(), instrument=7)
    assert desk.check(stray) is RejectReason.UNKNOWN_INSTRUMENT
    assert not desk.risk.on_submitted(stray)
    o = order()
    assert desk.risk.on_submitted(o)
    assert not desk.risk.on_submitted(o)
    assert not desk.risk.on_fill("nobody", 1)
    assert desk.risk.open_orders(0) == 1
