"""Clock fault: the host's wall clock 2 s ahead of or behind the venue's.

The gateway measures the venue's clock and signs with it, so no request is refused for its
timestamp (-1021) and orders and fills agree with the venue's.
"""

from __future__ import annotations

import pytest

from engine.oms.order import OrderStatus
from tests.reliability.conftest import until

pytestmark = pytest.mark.integration

_NS = 1_000_000_000


@pytest.fixture(params=[2 * _NS, -2 * _NS], ids=["ahead-2s", "behind-2s"])
def desk_clock_offset_ns(request):
    """The engine's clock, 2 s off the venue's either way."""
    return request.param


async def test_venue_clock_offset(desk, fault, desk_clock_offset_ns):
    """Orders placed and filled with the host 2 s off: measured, corrected, nothing refused."""
    engine = desk.engine
    gateway = engine.gateway
    assert gateway is not None
    sign = "+" if desk_clock_offset_ns > 0 else "-"
    fault.inject(f"clock offset {sign}2 s (host vs venue)")
    offset = gateway.clock_offset  # type: ignore[attr-defined]
    await until(lambda: offset.synced, "the clock offset to be measured")
    assert abs(offset.offset_ns + desk_clock_offset_ns) < _NS // 5, offset.offset_ns
    fault.detected(f"gateway: clock offset measured ({offset.offset_ns / _NS:+.3f} s)")
    bid, _ = desk.touch()
    resting = desk.place(side="buy", size="0.001", price=desk.price(bid - 2000))
    taker = desk.place(side="buy", size="0.001", type="market")
    await until(
        lambda: (
            engine.oms.orders[resting].status == OrderStatus.ACCEPTED
            and engine.oms.orders[taker].status == OrderStatus.FILLED
        ),
        "both orders through",
    )
    assert engine.cancel_order(resting, "test")
    await until(lambda: engine.oms.orders[resting].status == OrderStatus.CANCELED, "the cancel")
    fault.recovered()
    assert not [o for o in engine.oms.orders.values() if "1021" in o.reason]
    await desk.settled()
    fault.lost(len(desk.mismatches()))
