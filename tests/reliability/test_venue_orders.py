"""Order-side faults from the venue: every order and fill ends up exactly as the venue has it.

Rate-limit answers, slow answers, a user stream cut while orders work, a fill reported before
the order's own answer, and a cancel that races a fill. After each, the engine's orders (state
and filled size), its fills and its position must equal the venue's, with nothing doubled.
"""

from __future__ import annotations

import asyncio

import pytest

from engine.oms.order import OrderStatus
from tests.reliability.conftest import SYMBOL, until

pytestmark = pytest.mark.integration


def _fills_booked(desk) -> int:
    """Fills the engine booked, counted once per venue trade id."""
    return sum(len(o.fill_ids) for o in desk.engine.oms.orders.values())


async def test_429_then_418(desk, fault):
    """A 429 refuses one order; a 418 bans the link until it ends; then orders flow again."""
    engine, faults = desk.engine, desk.venue.faults.trading
    assert engine.gateway is not None
    bid, _ = desk.touch()
    far = desk.price(bid - 2000)
    errors = engine.gateway.stats.errors
    fault.inject("429 then 418 on order entry")
    faults.order_rate_limit_next(1, retry_after_s=1)
    limited = desk.place(side="buy", size="0.001", price=far)
    await until(lambda: engine.oms.orders[limited].status == OrderStatus.REJECTED, "the 429")
    fault.detected("gateway: rate-limit answer (order rejected, requests wait Retry-After)")
    await until(lambda: desk.ready(), "the link after the 429")
    faults.order_rate_limit_next(1, retry_after_s=1, banned=True)
    banned = desk.place(side="buy", size="0.001", price=far)
    await until(lambda: engine.oms.orders[banned].status == OrderStatus.REJECTED, "the 418")
    assert engine.gateway.stats.errors >= errors + 2
    await until(lambda: desk.ready(), "the link once the ban is over")
    later = desk.place(side="buy", size="0.001", price=far)
    await until(lambda: engine.oms.orders[later].status == OrderStatus.ACCEPTED, "a later order")
    fault.recovered()
    await desk.settled()
    at_venue = {r.client_order_id for r in desk.venue.desk.orders(desk.account, SYMBOL)}
    assert limited not in at_venue
    assert banned not in at_venue
    fault.lost(len(desk.mismatches()))


async def test_slow_rest(desk, fault):
    """REST answers held 1.5 s: orders wait for them, nothing is sent twice, state agrees."""
    engine = desk.engine
    bid, _ = desk.touch()
    fault.inject("slow REST (1.5 s answers)")
    desk.venue.faults.slow_rest(1.5, count=3)
    ids = [desk.place(side="buy", size="0.001", price=desk.price(bid - 2000 - n)) for n in range(3)]
    await until(
        lambda: all(engine.oms.orders[i].status == OrderStatus.ACCEPTED for i in ids),
        "the slow orders to be accepted",
    )
    fault.detected("gateway: answers awaited (user stream reports first)")
    await until(lambda: desk.venue.faults.armed().slow == 0, "every slow answer")
    await asyncio.sleep(1.6)  # the held answers arrive after the stream's reports
    fault.recovered()
    await desk.settled()
    names = [r.client_order_id for r in desk.venue.desk.orders(desk.account, SYMBOL)]
    assert len(names) == len(set(names))
    fault.lost(len(desk.mismatches()))


async def test_user_stream_dropped_while_orders_work(desk, fault):
    """The user stream is cut while orders rest and one fills: reconciled, fill booked once."""
    engine, venue = desk.engine, desk.venue
    assert engine.gateway is not None
    bid, ask = desk.touch()
    resting = desk.place(side="sell", size="0.002", price=desk.price(ask + 2000))
    victim = desk.place(side="buy", size="0.001", price=desk.price(bid))
    await desk.settled("the orders to rest")
    fault.inject("user stream dropped while orders work")
    assert venue.faults.trading.disconnect_user_streams() >= 1
    await until(lambda: not engine.gateway.stats.healthy, "the link to be seen as bad", 5)
    fault.detected("gateway: user stream lost (link bad, orders held)")
    desk.sell_through(bid)  # fills the bid while nobody listens
    await until(desk.ready, "the link back and reconciled")
    await until(
        lambda: engine.oms.orders[victim].status == OrderStatus.FILLED, "the missed fill booked"
    )
    fault.recovered()
    await desk.settled()
    assert engine.oms.orders[resting].status == OrderStatus.ACCEPTED
    fault.lost(len(desk.mismatches()))


async def test_fill_before_ack(desk, fault):
    """The fill comes on the user stream before the order's REST answer: booked once."""
    engine = desk.engine
    fills = _fills_booked(desk)
    fault.inject("fill arriving before its ack")
    desk.venue.faults.trading.slow_orders(1.0, count=1)
    taker = desk.place(side="buy", size="0.001", type="market")
    await until(lambda: _fills_booked(desk) > fills, "the fill from the user stream")
    fault.detected("OMS: fill applied to a submitted order (ack implied)")
    await until(lambda: engine.oms.orders[taker].status == OrderStatus.FILLED, "the order filled")
    await asyncio.sleep(1.2)  # the late answer repeats the fill
    fault.recovered()
    order = engine.oms.orders[taker]
    assert not order.anomalies, order.anomalies
    await desk.settled()
    fault.lost(len(desk.mismatches()))


async def test_cancel_racing_a_fill(desk, fault):
    """A cancel and a fill cross: whichever the venue takes first stands, in the engine too.

    The fill goes first, in the same moment, and a few milliseconds after the cancel was sent.
    """
    engine = desk.engine
    outcomes = []
    fault.inject("cancel racing a fill")
    for lead_s in (None, 0.0, 0.005):
        bid, _ = desk.touch()
        cid = desk.place(side="buy", size="0.001", price=desk.price(bid))
        await until(
            lambda cid=cid: engine.oms.orders[cid].status == OrderStatus.ACCEPTED, "the bid"
        )
        if lead_s is None:
            desk.sell_through(bid)
            engine.cancel_order(cid, "race")
        else:
            engine.cancel_order(cid, "race")
            await asyncio.sleep(lead_s)
            desk.sell_through(bid)
        await until(lambda cid=cid: not engine.oms.orders[cid].is_open, "the race to settle")
        outcomes.append(str(engine.oms.orders[cid].status))
    fault.detected(f"OMS: venue's outcome taken ({', '.join(outcomes)})")
    fault.recovered()
    await desk.settled()
    fault.lost(len(desk.mismatches()))
