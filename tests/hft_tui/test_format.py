"""format.py: exact prices, sizes, spread and mid; ages, counts and times for the status line."""

from __future__ import annotations

import pytest

from engine.errors import InstrumentError
from hft_tui import format as fmt


@pytest.fixture
def btc() -> fmt.BookText:
    """BTCUSDT grids: a 0.01 tick and a 0.00001 lot."""
    return fmt.book_text("0.01", "0.00001")


def test_prices_and_sizes_are_exact_text(btc):
    """Ticks and lots become exact decimal text with the grid's decimals."""
    assert btc.price(6_500_001) == "65000.01"
    assert btc.price(0) == "0.00"
    assert btc.size(123) == "0.00123"
    assert btc.size(250_000) == "2.50000"


def test_mid_is_exact_including_half_ticks(btc):
    """The mid keeps the grid on whole ticks and shows exactly one more digit on half ticks."""
    assert btc.mid(6_500_000 + 6_500_002) == "65000.01"
    assert btc.mid(6_500_000 + 6_500_001) == "65000.005"


def test_mid_on_a_coarse_tick():
    """A 0.5 tick puts a half-tick mid on the quarter: 1.5 and 2.0 give 1.75."""
    text = fmt.book_text("0.5", "1")
    assert text.mid(3 + 4) == "1.75"
    assert text.mid(2 + 4) == "1.5"


def test_spread_in_price_and_ticks(btc):
    """The spread reads as a price and a tick count, singular for one tick."""
    assert btc.spread(1) == "0.01 (1 tick)"
    assert btc.spread(12) == "0.12 (12 ticks)"


def test_book_text_is_shared_per_grid():
    """The same tick and lot give the same formatter, so widgets can compare it cheaply."""
    assert fmt.book_text("0.01", "0.001") is fmt.book_text("0.01", "0.001")


def test_clock_time_is_utc_with_milliseconds():
    """Epoch nanoseconds become the UTC time of day with milliseconds."""
    assert fmt.clock_time(1_700_000_000_123_456_789) == "22:13:20.123"
    assert fmt.clock_time(0) == "00:00:00.000"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (-5, "0.00s"),
        (50_000_000, "0.05s"),
        (3_210_000_000, "3.2s"),
        (42_000_000_000, "42s"),
        (13 * 60 * 1_000_000_000, "13m"),
        (5 * 3600 * 1_000_000_000, "5h"),
    ],
)
def test_age_stays_short(ns, text):
    """Ages read in the unit that keeps them short; a negative age reads as zero."""
    assert fmt.age(ns) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(987, "987"), (9999, "9999"), (12_345, "12.3k"), (999_999, "999k"), (4_567_890, "4.56M")],
)
def test_counts_fit_five_characters(n, text):
    """Counters are compact and round down, never up."""
    assert fmt.count(n) == text


def test_rates_ring_fill_and_dimensions():
    """Rates are whole per-second numbers; ring fill and sizes read as a/b and WxH."""
    assert fmt.rate(411.6) == "412/s"
    assert fmt.ring_fill(3, 16_384) == "3/16.3k"
    assert fmt.dimensions(80, 24) == "80x24"


def test_sizes_on_the_ticket_go_both_ways_exactly(btc):
    """Preset text becomes lots on the grid; a position gets its sign; off-grid text is refused."""
    assert btc.lots("0.001") == 100
    assert btc.lots("0.10000") == 10_000
    assert btc.signed_size(300) == "+0.00300"
    assert btc.signed_size(-300) == "-0.00300"
    assert btc.signed_size(0) == "0"
    with pytest.raises(InstrumentError, match="not a multiple"):
        btc.lots("0.000001")


def test_pnl_keeps_every_digit_and_gets_a_sign_and_a_class():
    """Money text is exact with a sign; net PnL adds up exactly; classes name the colour."""
    assert fmt.money("1.2500") == "+1.25"
    assert fmt.money("-0.00000005") == "-0.00000005"
    assert fmt.money("0.000") == "0"
    assert fmt.money("n/a") == "n/a"
    assert fmt.amount("0.0390") == "0.039"
    assert fmt.net_pnl("1.25", "-0.0075", "0.039") == "+1.2035"
    assert fmt.net_pnl("1", "x", "0") == "?"
    assert [fmt.pnl_class(t) for t in ("2", "-2", "0", "")] == ["profit", "loss", "flat", "flat"]


def test_the_daily_loss_limit_use_and_gauges():
    """A loss uses a share of the limit (rounded down to a tenth); a profit uses none."""
    assert fmt.loss_used("-12.5", "2000") == "0.6%"
    assert fmt.loss_used("-1600", "2000") == "80.0%"
    assert fmt.loss_used("5", "2000") == "0%"
    assert fmt.loss_used("-1", "0") == "?"
    assert fmt.percent(1, 3) == "33.3%"
    assert fmt.gauge(1, 4, 8) == "██░░░░░░"
    assert fmt.gauge(9, 4, 4) == "████"  # over the limit: full
    assert fmt.gauge(1, 4, 0) == ""


def test_the_daily_loss_gauge_turns_near_at_three_quarters():
    """The loss gauge fills with today's loss, is near from 75% used, and refuses non-numbers."""
    assert fmt.loss_gauge("-1499.99", "2000", 4) == ("██░░", False)
    assert fmt.loss_gauge("-1500", "2000", 4) == ("███░", True)
    assert fmt.loss_gauge("25", "2000", 4) == ("░░░░", False)  # a gain uses none of the limit
    assert fmt.loss_gauge("-1", "0", 4) == ("████", False)
    assert fmt.loss_gauge("oops", "2000", 4) is None
    assert fmt.loss_gauge("-1", "NaN", 4) is None


def test_sizes_without_a_grid_show_bare_lots(btc):
    """A size is exact text on a known grid (signed when asked) and bare lots before one."""
    assert fmt.size_or_lots(btc, 300) == "0.00300"
    assert fmt.size_or_lots(btc, 300, signed=True) == "+0.00300"
    assert fmt.size_or_lots(btc, -300, signed=True) == "-0.00300"
    assert fmt.size_or_lots(None, 300) == "300"
    assert fmt.size_or_lots(None, -300, signed=True) == "-300"


def test_order_words():
    """Sides, states, types and market prices as a trader reads them."""
    btc = fmt.book_text("0.01", "0.00001")
    assert (fmt.side(1), fmt.side(2), fmt.side(0)) == ("BUY", "SELL", "?")
    assert fmt.order_status("accepted") == "working"
    assert fmt.order_status("rejected") == "REJECTED"
    assert fmt.order_status("something_new") == "something_new"
    assert fmt.order_style("limit", "post_only") == "LMT POST"
    assert fmt.order_style("market", "ioc") == "MKT IOC"
    assert fmt.order_price(btc, 0) == "market"
    assert fmt.order_price(btc, 6_500_000) == "65000.00"
    assert fmt.limit_value(True) == "yes"
