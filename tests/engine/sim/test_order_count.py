from __future__ import annotations

import pytest

from engine.sim.order_count import OrderCount, TooManyOrders

S = 1_000_000_000
DAY = 86_400 * S
T0 = 19_000 * DAY + 3 * S  # 3 s into an interval and a UTC day


def test_orders_count_in_fixed_ten_second_intervals():
    """Counts start over at :00, :10, :20 ... not ten seconds after the first order."""
    count = OrderCount(per_10s=5, per_day=100)
    assert count.add(T0) == (1, 1)
    assert count.add(T0 + 6 * S) == (2, 2)
    assert count.add(T0 + 7 * S) == (1, 3)  # a new interval began at T0 + 7 s
    assert count.counts(T0 + DAY) == (0, 0)


def test_going_over_a_limit_is_refused_with_1015_and_the_wait():
    """The order past the 10 s limit gets 429 -1015 and Retry-After up to the interval's end."""
    count = OrderCount(per_10s=2, per_day=100)
    count.add(T0)
    count.add(T0)
    with pytest.raises(TooManyOrders) as info:
        count.check(T0 + S // 2)
    error = info.value
    assert (error.status, error.code, error.retry_after_s) == (429, -1015, 7)
    assert error.msg == "Too many new orders; current limit is 2 orders per 10 SECOND."
    count.check(T0 + 7 * S)  # the next interval has room


def test_the_daily_limit_holds_across_intervals():
    """The day's count refuses once spent, whatever the 10 s count says."""
    count = OrderCount(per_10s=10, per_day=3)
    for n in range(3):
        count.add(T0 + n * 10 * S)
    with pytest.raises(TooManyOrders) as info:
        count.check(T0 + 40 * S)
    assert "per 1 DAY" in info.value.msg


def test_a_first_fill_takes_the_order_back_off_current_counts():
    """An order's first fill decrements the intervals it was placed in, if still current."""
    count = OrderCount()
    count.add(T0)
    count.add(T0)
    count.filled(T0, T0 + S)
    assert count.counts(T0 + S) == (1, 1)
    count.filled(T0, T0 + 20 * S)  # its 10 s interval is over; the day is not
    assert count.counts(T0 + 20 * S) == (0, 0)
    count.filled(T0, T0 + 20 * S)
    assert count.counts(T0 + 20 * S) == (0, 0)


def test_rate_limits_report_both_intervals_with_their_limits() -> None:
    """The ORDERS rateLimits entries carry each interval's limit and the given count."""
    counter = OrderCount(per_10s=5, per_day=50)
    assert counter.rate_limits((2, 7)) == [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 5,
            "count": 2,
        },
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 50, "count": 7},
    ]
