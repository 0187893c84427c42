"""USD-M's limits and costs, and the REST client made for them, against the local venue."""

from __future__ import annotations

import pytest

from engine.core.clock import LiveClock, SimClock
from engine.core.instruments import Instrument
from engine.errors import AuthError, StatusUnknown
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.binance.rest import RestSigner
from engine.venues.binance_usdm.rest import LIMITS, TIME_PATH, UsdmCosts, usdm_rest
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import RateLimiter

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")


def test_orders_cost_order_counts_and_no_ip_weight():
    """A new order and a modify spend one of each order count; a cancel spends weight only."""
    limiter = RateLimiter("binance-usdm", LIMITS, SimClock())
    costs = UsdmCosts(limiter)
    for cost in (costs.new_order, costs.modify, costs.new_order):
        limiter.reserve(cost)
    limiter.reserve(costs.cancel)
    limiter.reserve(costs.open_orders_all)
    used = {u.name: u.used for u in limiter.usage()}
    assert used == {"REQUEST_WEIGHT": 41, "ORDERS_10S": 3, "ORDERS_1M": 3}


def test_the_limits_read_usdms_headers():
    """Weight per minute and the two order counts, each synced from its own header."""
    assert {(r.name, r.limit, r.window_s, r.header) for r in LIMITS} == {
        ("REQUEST_WEIGHT", 2400, 60.0, "X-MBX-USED-WEIGHT-1M"),
        ("ORDERS_10S", 300, 10.0, "X-MBX-ORDER-COUNT-10S"),
        ("ORDERS_1M", 1200, 60.0, "X-MBX-ORDER-COUNT-1M"),
    }
    limiter = RateLimiter("binance-usdm", LIMITS, SimClock())
    limiter.observe_headers({"x-mbx-order-count-1m": "17", "x-mbx-used-weight-1m": "40"})
    used = {u.name: u.used for u in limiter.usage()}
    assert (used["ORDERS_1M"], used["REQUEST_WEIGHT"]) == (17, 40)


@pytest.mark.integration
async def test_the_client_asks_usdms_time_and_maps_its_errors():
    """Time from /fapi/v1/time; a refused signature is AuthError; no answer is StatusUnknown."""
    venue = SimVenue([BTC], seed=5, autorun=False, accounts=[AccountSpec("k1", "s1")])
    await venue.start()
    clock = LiveClock()
    limiter = RateLimiter("sim", LIMITS, clock)
    rest = usdm_rest(
        venue.rest_url,
        "k1",
        RestSigner(b"wrong"),
        limiter,
        ClockOffset(clock),
        recv_window_ms=5000,
        venue="sim",
        timeout_s=3.0,
    )
    costs = UsdmCosts(limiter)
    await rest.open()
    try:
        assert rest.time_path == TIME_PATH
        assert abs(await rest.server_time_ms(costs.time) - clock.time_ns() // 1_000_000) < 60_000
        with pytest.raises(AuthError) as refused:
            await rest.call("GET", "/fapi/v3/balance", "", costs.balance)
        assert refused.value.code == -1022
        await venue.stop()
        with pytest.raises(StatusUnknown):
            await rest.call("GET", "/fapi/v3/balance", "", costs.balance)
    finally:
        await rest.close()
        await venue.stop()
