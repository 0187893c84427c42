"""Bybit rate limits on the local venue: a rolling second per account and endpoint, and per IP."""

from __future__ import annotations

from engine.sim.bybit_limits import ENDPOINT_LIMITS, BybitLimits


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.ns = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        """Now, in ns."""
        return self.ns

    def advance_ms(self, ms: int) -> None:
        """Move on ``ms`` milliseconds."""
        self.ns += ms * 1_000_000


def test_defaults_are_bybits_linear_limits():
    """Order entry is 10 per second, queries 50."""
    assert ENDPOINT_LIMITS["/v5/order/create"] == 10
    assert ENDPOINT_LIMITS["/v5/order/cancel-all"] == 10
    assert ENDPOINT_LIMITS["/v5/position/list"] == 50


def test_the_limit_counts_down_then_refuses_until_the_oldest_request_is_a_second_old():
    """Requests count down X-Bapi-Limit-Status; the next is refused until a slot returns."""
    clock = Clock()
    limits = BybitLimits({"/v5/order/create": 3}, clock=clock)
    states = [limits.take(1, "/v5/order/create") for _ in range(3)]
    assert [s.remaining for s in states] == [2, 1, 0]
    assert all(s.allowed for s in states)
    start_ms = clock() // 1_000_000
    clock.advance_ms(400)
    refused = limits.take(1, "/v5/order/create")
    assert not refused.allowed
    assert refused.reset_ms == start_ms + 1000
    assert refused.headers() == {
        "X-Bapi-Limit": "3",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": str(start_ms + 1000),
    }
    clock.advance_ms(600)
    assert limits.take(1, "/v5/order/create").allowed


def test_accounts_and_endpoints_count_apart():
    """Each account and each endpoint has its own count; unlimited paths always pass."""
    limits = BybitLimits({"/v5/order/create": 1, "/v5/order/cancel": 1}, clock=Clock())
    assert limits.take(1, "/v5/order/create").allowed
    assert not limits.take(1, "/v5/order/create").allowed
    assert limits.take(2, "/v5/order/create").allowed
    assert limits.take(1, "/v5/order/cancel").allowed
    assert limits.take(1, "/v5/market/time").allowed


def test_the_address_limit_covers_a_longer_window():
    """One address may send ip_limit requests per window; then it waits for the window."""
    clock = Clock()
    limits = BybitLimits(ip_limit=2, ip_window_ms=5000, clock=clock)
    assert limits.take_ip("127.0.0.1")
    assert limits.take_ip("127.0.0.1")
    assert not limits.take_ip("127.0.0.1")
    assert limits.take_ip("127.0.0.2")
    clock.advance_ms(5000)
    assert limits.take_ip("127.0.0.1")
