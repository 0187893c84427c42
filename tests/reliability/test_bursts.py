"""Burst: 100 fills within one second, each reported twice (the order's answer and the stream).

Every fill is booked exactly once, the position equals the venue's, and the journal holds one
fill record per venue trade.
"""

from __future__ import annotations

import time

import pytest

from engine.oms import records
from engine.oms.journal import replay_decoded
from tests.reliability.conftest import SYMBOL, until

pytestmark = pytest.mark.integration

FILLS = 100


@pytest.fixture
def desk_env():
    """Order-rate limits above the burst, on both sides."""
    return {
        "HFT__RISK__DEFAULTS__MAX_ORDERS_PER_SECOND": "500",
        "HFT__RISK__DEFAULTS__MAX_ORDERS_PER_MINUTE": "5000",
        "HFT__RISK__DEFAULTS__MAX_OPEN_ORDERS": "500",
    }


@pytest.fixture
def desk_venue():
    """A venue that lets one account place the burst."""
    return {"orders_per_10s": 1000}


def _fills(desk) -> int:
    return sum(len(o.fill_ids) for o in desk.engine.oms.orders.values())


async def test_100_fills_in_one_second(desk, fault):
    """100 market orders of 0.0001 BTC sent at once; every fill booked once, within a second."""
    engine = desk.engine
    before = _fills(desk)
    fault.inject(f"{FILLS} fills in one second")
    started = time.monotonic()
    ids = [desk.place(side="buy", size="0.0001", type="market") for _ in range(FILLS)]
    await until(lambda: _fills(desk) >= before + FILLS, f"{FILLS} fills booked")
    booked_s = time.monotonic() - started
    fault.detected(
        f"OMS: {FILLS} fills booked in {booked_s:.2f} s (answers and stream deduplicated)"
    )
    await until(lambda: not any(engine.oms.orders[i].is_open for i in ids), "every order done")
    fault.recovered()
    await desk.settled()
    trades = desk.venue.desk.trades(desk.account, SYMBOL)
    engine.journal.flush()
    journaled = {
        (m.fill.venue, m.fill.trade_id)
        for _, m in replay_decoded(
            engine.journal.directory, engine.config.engine.instance, records.DECODER
        )
        if isinstance(m, records.Filled)
    }
    missing = len(trades) - len(journaled)
    assert _fills(desk) - before == len(trades), "fills booked twice or missed"
    fault.lost(len(desk.mismatches()), missing)
