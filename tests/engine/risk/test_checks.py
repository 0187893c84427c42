"""Each pre-trade check below, at and above its limit, on hand-set integer state."""

from __future__ import annotations

import msgspec
import pytest

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.risk.checks import (
    CHECKS,
    Check,
    CheckState,
    MarketState,
    RejectReason,
    check_daily_loss,
    check_drawdown,
    check_market_data,
    check_min_notional,
    check_open_orders,
    check_order_notional,
    check_order_size,
    check_order_valid,
    check_position,
    check_price_band,
    check_rate_per_minute,
    check_rate_per_second,
)
from engine.risk.limits import RiskLimits, compile_limits

BTC = Instrument(
    venue="sim",
    symbol="BTCUSDT",
    tick_size="0.1",
    lot_size="0.01",
    min_notional="10",
    instrument_id=0,
)
LIMITS = compile_limits(RiskLimits(), [BTC]).instruments[0]
"""Defaults: 100 lots (50000 quote) per limit order, 10 lots (5000) per market order, 500 lots
position, 50 open orders, 20/s, 600/min, 500 bps band, 200 bps post-only, 5 s data age, drawdown
1000, daily loss 2000, minimum notional 10."""
NOW = 1_700_000_000_000_000_000
MARKET = MarketState(best_bid=499_999, best_ask=500_001, live=True, recv_ts=NOW)
"""Mid 500000 ticks = 50000.0 quote."""


def order(
    size: int = 1,
    price: int = 500_000,
    side: Side = Side.BUY,
    kind: OrderType = OrderType.LIMIT,
    tif: TimeInForce = TimeInForce.GTC,
) -> SubmitOrder:
    """A BTC order, limit by default."""
    return SubmitOrder(
        client_order_id="t-1",
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=0 if kind is OrderType.MARKET else price,
        order_type=kind,
        time_in_force=tif,
    )


def state(**fields: object) -> CheckState:
    """A check state at NOW on MARKET with the given figures set."""
    st = CheckState(fields.pop("market", MARKET))  # type: ignore[arg-type]
    st.now_ns = NOW
    for name, value in fields.items():
        setattr(st, name, value)
    return st


def reason(check: Check, o: SubmitOrder, st: CheckState) -> RejectReason | None:
    """The check's rejection reason, or None when it passes."""
    got = check(o, st, LIMITS)
    return None if got is None else got.reason


def test_order_valid_needs_positive_size_and_limit_price():
    """Size 1 passes and 0 rejects; a limit order needs a positive price, a market order none."""
    assert reason(check_order_valid, order(size=1), state()) is None
    assert reason(check_order_valid, order(size=0), state()) is RejectReason.INVALID_ORDER
    assert reason(check_order_valid, order(price=0), state()) is RejectReason.INVALID_ORDER
    assert reason(check_order_valid, order(kind=OrderType.MARKET), state()) is None


@pytest.mark.parametrize(
    ("daily", "expected"),
    [(-LIMITS.daily_loss_limit + 1, None), (-LIMITS.daily_loss_limit, RejectReason.DAILY_LOSS)],
)
def test_daily_loss_rejects_at_the_limit(daily, expected):
    """Daily PnL one unit above minus the limit passes; at or below it rejects."""
    assert reason(check_daily_loss, order(), state(daily_pnl=daily)) is expected
    below = reason(check_daily_loss, order(), state(daily_pnl=-LIMITS.daily_loss_limit - 1))
    assert below is RejectReason.DAILY_LOSS


def test_daily_loss_rejection_states_the_numbers():
    """The message gives today's PnL and the limit in quote currency."""
    got = check_daily_loss(order(), state(daily_pnl=-LIMITS.daily_loss_limit), LIMITS)
    assert got is not None
    assert "-2000.00000000" in got.message
    assert (got.limit, got.value) == (-LIMITS.daily_loss_limit, -LIMITS.daily_loss_limit)


def test_drawdown_passes_at_the_limit_and_rejects_above():
    """A drop equal to the limit passes; one unit more rejects."""
    limit = LIMITS.max_drawdown
    assert reason(check_drawdown, order(), state(drawdown=limit - 1)) is None
    assert reason(check_drawdown, order(), state(drawdown=limit)) is None
    assert reason(check_drawdown, order(), state(drawdown=limit + 1)) is RejectReason.DRAWDOWN


def test_market_data_must_be_live_two_sided_and_uncrossed():
    """A book that is not live, one-sided or crossed rejects every order."""
    for market in (
        msgspec.structs.replace(MARKET, live=False),
        msgspec.structs.replace(MARKET, best_bid=0),
        msgspec.structs.replace(MARKET, best_bid=500_001),
    ):
        got = reason(check_market_data, order(), state(market=market))
        assert got is RejectReason.MARKET_DATA_DOWN
    assert reason(check_market_data, order(), state()) is None


def test_market_data_age_passes_at_the_limit_and_rejects_above():
    """Data exactly max_data_age old passes; one nanosecond older rejects."""
    age = LIMITS.max_data_age_ns
    assert reason(check_market_data, order(), state(now_ns=NOW + age - 1)) is None
    assert reason(check_market_data, order(), state(now_ns=NOW + age)) is None
    stale = reason(check_market_data, order(), state(now_ns=NOW + age + 1))
    assert stale is RejectReason.MARKET_DATA_STALE


def test_order_size_passes_at_the_limit_and_rejects_above():
    """100 lots passes for a limit order and 101 rejects; market orders stop at 10 lots."""
    assert reason(check_order_size, order(size=99), state()) is None
    assert reason(check_order_size, order(size=100), state()) is None
    assert reason(check_order_size, order(size=101), state()) is RejectReason.ORDER_SIZE
    market = OrderType.MARKET
    assert reason(check_order_size, order(size=10, kind=market), state()) is None
    got = check_order_size(order(size=11, kind=market), state(), LIMITS)
    assert got is not None
    assert (got.reason, got.limit, got.value) == (RejectReason.ORDER_SIZE, 10, 11)
    assert "0.11 (11 lots)" in got.message
    assert "0.10 (10 lots)" in got.message


def test_min_notional_passes_at_the_minimum_and_rejects_below():
    """0.1 BTC at 100.0 is worth exactly the minimum 10 and passes; 0.09 BTC rejects."""
    assert reason(check_min_notional, order(size=11, price=1000), state()) is None
    assert reason(check_min_notional, order(size=10, price=1000), state()) is None
    got = check_min_notional(order(size=9, price=1000), state(), LIMITS)
    assert got is not None
    assert got.reason is RejectReason.MIN_NOTIONAL
    assert "notional 9.0000 is below the minimum 10.0000" in got.message


def test_order_notional_passes_at_the_limit_and_rejects_above():
    """1 BTC at 50000.0 is exactly the 50000 limit and passes; one tick higher rejects."""
    assert reason(check_order_notional, order(size=100, price=499_999), state()) is None
    assert reason(check_order_notional, order(size=100, price=500_000), state()) is None
    got = check_order_notional(order(size=100, price=500_001), state(), LIMITS)
    assert got is not None
    assert got.reason is RejectReason.ORDER_NOTIONAL
    assert (got.limit, got.value) == (100_000_000, 100_000_200)


def test_market_order_notional_is_valued_at_the_touch_against_the_tighter_limit():
    """A market buy is valued at the ask and a sell at the bid, against the 5000 limit."""
    at_limit = msgspec.structs.replace(MARKET, best_ask=500_000)
    market = OrderType.MARKET
    buy = order(size=10, kind=market)
    assert reason(check_order_notional, buy, state(market=at_limit)) is None
    assert reason(check_order_notional, buy, state()) is RejectReason.ORDER_NOTIONAL
    sell = order(size=10, kind=market, side=Side.SELL)
    assert reason(check_order_notional, sell, state()) is None  # bid 499999 is under the limit


@pytest.mark.parametrize(
    ("price", "tif", "expected"),
    [
        (525_000, TimeInForce.GTC, None),  # exactly 500 bps above mid
        (525_001, TimeInForce.GTC, RejectReason.PRICE_BAND),
        (475_000, TimeInForce.GTC, None),  # exactly 500 bps below mid
        (474_999, TimeInForce.GTC, RejectReason.PRICE_BAND),
        (524_000, TimeInForce.GTC, None),
        (510_000, TimeInForce.POST_ONLY, None),  # exactly 200 bps: the tighter post-only band
        (510_001, TimeInForce.POST_ONLY, RejectReason.PRICE_BAND),
        (489_999, TimeInForce.POST_ONLY, RejectReason.PRICE_BAND),
    ],
)
def test_price_band_around_mid(price, tif, expected):
    """Prices at the band edge pass and one tick outside rejects; post-only is tighter."""
    assert reason(check_price_band, order(price=price, tif=tif), state()) is expected


def test_price_band_skips_market_orders_and_reports_bps():
    """A market order has no price to band; a rejection reports the distance in bps."""
    assert reason(check_price_band, order(kind=OrderType.MARKET), state()) is None
    got = check_price_band(order(price=600_000), state(), LIMITS)
    assert got is not None
    assert (got.limit, got.value) == (500, 2000)


@pytest.mark.parametrize(
    ("side", "size", "expected"),
    [
        (Side.BUY, 49, None),
        (Side.BUY, 50, None),  # 400 held + 50 pending + 50 = 500, the limit
        (Side.BUY, 51, RejectReason.POSITION),
        (Side.SELL, 500, None),  # 400 - 30 pending sells - 500 = -130
    ],
)
def test_worst_case_position_counts_pending_orders_on_the_same_side(side, size, expected):
    """The position if every pending order on the order's side filled may reach the limit."""
    st = state(position_lots=400, pending_buy_lots=50, pending_sell_lots=30)
    assert reason(check_position, order(size=size, side=side), st) is expected


def test_worst_case_short_position_is_limited_too():
    """A sell that would take the worst-case short past -500 lots rejects."""
    st = state(position_lots=-400, pending_buy_lots=90, pending_sell_lots=50)
    assert reason(check_position, order(size=50, side=Side.SELL), st) is None
    got = check_position(order(size=51, side=Side.SELL), st, LIMITS)
    assert got is not None
    assert (got.reason, got.limit, got.value) == (RejectReason.POSITION, 500, 501)


def test_open_orders_pass_at_the_limit_and_reject_above():
    """The 50th open order passes; the 51st rejects."""
    assert reason(check_open_orders, order(), state(open_orders=48)) is None
    assert reason(check_open_orders, order(), state(open_orders=49)) is None
    assert reason(check_open_orders, order(), state(open_orders=50)) is RejectReason.OPEN_ORDERS


def test_order_rates_pass_at_the_limit_and_reject_above():
    """The 20th order in a second and the 600th in a minute pass; one more rejects."""
    assert reason(check_rate_per_second, order(), state(sent_last_second=18)) is None
    assert reason(check_rate_per_second, order(), state(sent_last_second=19)) is None
    over = reason(check_rate_per_second, order(), state(sent_last_second=20))
    assert over is RejectReason.RATE_PER_SECOND
    assert reason(check_rate_per_minute, order(), state(sent_last_minute=599)) is None
    over = reason(check_rate_per_minute, order(), state(sent_last_minute=600))
    assert over is RejectReason.RATE_PER_MINUTE


def test_every_check_passes_a_clean_order():
    """A small limit order near mid on a fresh book passes every check."""
    assert all(check(order(), state(), LIMITS) is None for check in CHECKS)
