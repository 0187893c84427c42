"""format.py: exact prices, sizes, spread and mid; ages, counts and times for the status line."""

from __future__ import annotations

import pytest

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
