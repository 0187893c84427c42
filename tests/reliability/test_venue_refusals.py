"""Refusals are not failures: venue refusals never trip the breaker meant for a failing venue.

A market maker's cancels and replaces often lose the race to a fill; the venue answers -2011
("Unknown order sent"). Those are rejects; only requests that failed (rate limits, unknown
status, garbage, network) count towards ``oms.max_venue_errors_per_minute``.
"""

from __future__ import annotations

import pytest

from engine.oms.order import OrderStatus
from tests.reliability.conftest import until

pytestmark = pytest.mark.integration

LIMIT = 5


@pytest.fixture
def desk_env():
    """A breaker that trips at a handful of venue errors a minute."""
    return {"HFT__OMS__MAX_VENUE_ERRORS_PER_MINUTE": str(LIMIT)}


async def test_refused_cancels_are_rejects_not_venue_errors(desk, fault):
    """Twice the error limit of cancels refused for filled orders: rejects counted, no trip."""
    engine = desk.engine
    gateway = engine.gateway
    assert gateway is not None
    errors, rejects = gateway.stats.errors, gateway.stats.rejects
    fault.inject(f"{2 * LIMIT} cancels refused by the venue (-2011, the order had filled)")
    refused = 0
    for _ in range(2 * LIMIT):
        bid, _ = desk.touch()
        cid = desk.place(side="buy", size="0.001", price=desk.price(bid))
        await until(lambda cid=cid: engine.oms.orders[cid].status == OrderStatus.ACCEPTED, "bid")
        desk.sell_through(bid)  # filled at the venue ...
        engine.cancel_order(cid, "race")  # ... before the engine hears of it
        await until(lambda cid=cid: not engine.oms.orders[cid].is_open, "the race to settle")
        refused += engine.oms.orders[cid].status == OrderStatus.FILLED
    await until(lambda: gateway.stats.rejects >= rejects + refused, "the rejects counted")
    fault.detected(f"gateway: {refused} refusals counted as rejects, not errors")
    assert refused >= LIMIT, "too few cancels lost the race to matter"
    assert gateway.stats.errors == errors
    assert engine.trading == "running", engine.halt_reason
    fault.recovered()
    await desk.settled()
    fault.lost(len(desk.mismatches()))
