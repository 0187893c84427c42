"""USD-M request weight per address and order counts per account, in fixed windows."""

from __future__ import annotations

import pytest

from engine.sim.usdm_limits import UsdmLimits, weight
from engine.sim.wire import RestError

SECOND = 1_000_000_000


class Clock:
    """A wall clock the test moves."""

    def __init__(self, now: int = 1_000 * 60 * SECOND) -> None:
        self.now = now

    def __call__(self) -> int:
        """Now, in nanoseconds."""
        return self.now


def test_weights_follow_the_table():
    """New orders cost no IP weight; open orders cost 1 for a symbol and 40 for all."""
    assert weight("POST", "/fapi/v1/order", True) == 0
    assert weight("GET", "/fapi/v1/openOrders", True) == 1
    assert weight("GET", "/fapi/v1/openOrders", False) == 40
    assert weight("GET", "/fapi/v3/positionRisk", False) == 5


def test_the_minute_weight_is_refused_past_the_limit_until_the_minute_turns():
    """Over the limit: 429 -1003 with the seconds left; the next minute starts from zero."""
    clock = Clock()
    limits = UsdmLimits(weight_per_minute=10, clock=clock)
    assert limits.take_weight("a", 10) == 10
    clock.now += 15 * SECOND
    with pytest.raises(RestError) as over:
        limits.take_weight("a", 1)
    assert (over.value.status, over.value.code, over.value.retry_after_s) == (429, -1003, 45)
    assert limits.take_weight("b", 1) == 1  # per address
    clock.now += 45 * SECOND
    assert limits.take_weight("a", 1) == 1


def test_order_counts_are_per_account_in_ten_seconds_and_a_minute():
    """The 10 s count refuses with -1015 and resets next interval; the minute count goes on."""
    clock = Clock()
    limits = UsdmLimits(orders_per_10s=2, orders_per_minute=3, clock=clock)
    assert limits.take_order(1) == (1, 1)
    assert limits.take_order(1) == (2, 2)
    with pytest.raises(RestError) as ten:
        limits.take_order(1)
    assert (ten.value.code, ten.value.retry_after_s) == (-1015, 10)
    assert limits.take_order(2) == (1, 1)
    clock.now += 10 * SECOND
    assert limits.take_order(1) == (1, 3)
    with pytest.raises(RestError) as minute:
        limits.take_order(1)
    assert "1 MINUTE" in minute.value.msg
    assert limits.order_counts(1) == (1, 3)
