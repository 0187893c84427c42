"""Reconciliation against the paper venue: agreement changes nothing, a difference trips."""

from __future__ import annotations

from pathlib import Path

from engine.core.events import Side
from engine.oms.baseline import InventoryBaseline
from engine.oms.order import OrderStatus
from engine.oms.reconcile import Reconciler
from tests.engine.oms.test_manager import Desk


async def _desk(tmp_path: Path) -> tuple[Desk, Reconciler, list[str]]:
    desk = Desk(tmp_path)
    await desk.gateway.start()
    desk.breaker.open(1)
    desk.book([(499_000, 1000)], [(500_000, 1000)])
    trips: list[str] = []
    reconciler = Reconciler(
        desk.oms,
        desk.portfolio,
        InventoryBaseline(tmp_path / "baseline.json"),
        max_position_diff="0",
        trip=trips.append,
    )
    return desk, reconciler, trips


async def test_a_venue_that_agrees_changes_nothing(tmp_path: Path):
    """Open orders and a position the venue also holds are left as they are."""
    desk, reconciler, trips = await _desk(tmp_path)
    resting = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    desk.oms.submit(desk.order(Side.BUY, 30))
    await desk.settle()
    await reconciler.run(desk.gateway)
    assert resting.status is OrderStatus.ACCEPTED
    assert desk.portfolio.position(0).net == 30
    assert trips == []
    assert desk.oms.link_ok["sim"]
    await desk.gateway.stop()
    desk.journal.close()


async def test_a_position_the_venue_does_not_share_trips_the_breaker(tmp_path: Path):
    """A venue position 5 lots off ours (threshold 0) trips with both figures named."""
    desk, reconciler, trips = await _desk(tmp_path)
    desk.oms.submit(desk.order(Side.BUY, 30))
    await desk.settle()
    desk.core.position_lots += 5  # something traded the account behind our back
    await reconciler.run(desk.gateway)
    assert trips == ["reconciliation mismatch: sim:BTCUSDT: venue position 0.35 vs ours 0.30"]
    await desk.gateway.stop()
    desk.journal.close()


async def test_an_order_the_venue_never_saw_is_rejected_and_one_it_holds_kept(tmp_path: Path):
    """Orders sent but unanswered are settled by asking the venue for each of them."""
    desk, reconciler, _trips = await _desk(tmp_path)
    held = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    await desk.settle()
    lost = desk.oms.submit(desk.order(Side.BUY, 10, 497_000))
    desk.gateway.exchange._inbound.clear()  # the request never reached the venue
    await reconciler.run(desk.gateway)
    assert held.status is OrderStatus.ACCEPTED
    assert lost.status is OrderStatus.REJECTED
    assert "never reached the venue" in lost.reason
    await desk.gateway.stop()
    desk.journal.close()
