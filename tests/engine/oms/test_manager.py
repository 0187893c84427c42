"""The order manager on the real paper gateway and matching core: the whole order path.

Orders go through the risk pipeline into the in-process matching core; its reports come back
through the manager into orders, positions, the journal and the breaker. Venue reports the core
would never send (duplicates, unknown ids, a fill before its ack) are fed to the manager as a
venue would deliver them.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from engine.core.clock import SimClock
from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import (
    AlertLevel,
    Fill,
    OrderUpdate,
    OrderUpdateKind,
    Side,
    Trade,
)
from engine.core.instruments import Instrument
from engine.oms import records
from engine.oms.ids import ClientOrderIds
from engine.oms.journal import Journal, replay_decoded
from engine.oms.manager import OrderManager
from engine.oms.order import OrderStatus
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState, RejectReason
from engine.risk.circuit_breaker import CircuitBreaker
from engine.risk.limits import Limits, RiskLimits
from engine.risk.pipeline import RiskPipeline
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.venues.base import VenueOrder

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", min_notional="1")
"""One tick*lot is 0.001 quote: 20 lots 1,000 ticks lower is a loss of exactly 20."""
LIMITS = RiskLimits(
    daily_loss_limit="100",
    max_drawdown="1000",
    defaults=Limits(
        max_order_size="10",
        max_order_notional="1000000",
        max_market_order_size="10",
        max_market_order_notional="1000000",
        max_position="100",
        max_open_orders=100,
        max_orders_per_second=1000,
        max_orders_per_minute=10000,
        price_band_bps=500,
        post_only_band_bps=500,
        max_data_age_ms=60_000,
    ),
)
_tid = itertools.count(1)


class Desk:
    """The engine's trading wiring, on the paper gateway, without the process around it."""

    def __init__(
        self, state: Path, *, fees: FeeSchedule | None = None, limits: RiskLimits = LIMITS
    ) -> None:
        self.state = state
        self.clock = SimClock()
        self.portfolio = Portfolio([BTC], self.clock)
        self.risk = RiskPipeline([BTC], limits, self.clock, self.portfolio)
        self.breaker = CircuitBreaker(state, self.clock)
        self.journal = Journal(state / "journal", "t")
        self.tasks: list[asyncio.Task[int]] = []
        self.oms = OrderManager(
            [BTC],
            clock=self.clock,
            risk=self.risk,
            portfolio=self.portfolio,
            ids=ClientOrderIds("t", state / "ids.json"),
            journal=self.journal,
            market=self.market,
            breaker_tripped=lambda: self.breaker.tripped,
            on_trip=self.trip,
        )
        self.core = MatchingCore(BTC, fees=fees or FeeSchedule("0", "0"))
        self.gateway = PaperGateway([BTC], self.oms, self.clock, SimulatedExchange({0: self.core}))
        self.oms.attach(self.gateway)
        self.bid = self.ask = 0

    def trip(self, reason: str) -> None:
        """What the engine does when the breaker trips: halt, then cancel everything."""
        if self.breaker.trip(reason):
            self.risk.halt(reason)
            self.tasks.append(asyncio.get_running_loop().create_task(self.oms.cancel_all(reason)))

    def market(self, instrument: int) -> MarketState:
        """The book's top, always fresh."""
        return MarketState(
            best_bid=self.bid, best_ask=self.ask, live=True, recv_ts=self.clock.time_ns()
        )

    def book(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """Set the whole public book."""
        self.bid, self.ask = bids[0][0], asks[0][0]
        self.gateway.on_snapshot(0, bids, asks)

    def trade(self, price: int, size: int, aggressor: Side) -> None:
        """A public trade prints."""
        self.clock.advance(1000)
        ts = self.clock.time_ns()
        self.gateway.on_trade(
            Trade(
                instrument=0,
                trade_id=next(_tid),
                price=price,
                size=size,
                aggressor=aggressor,
                exch_ts=ts,
                recv_ts=ts,
            )
        )

    def order(self, side: Side, size: int, price: int = 0, **kw: object) -> SubmitOrder:
        """A command with a fresh id (market when no price)."""
        return SubmitOrder(
            client_order_id=self.oms.new_id(),
            instrument=0,
            side=side,
            size_lots=size,
            price_ticks=price,
            order_type=OrderType.LIMIT if price else OrderType.MARKET,
            **kw,  # type: ignore[arg-type]
        )

    async def settle(self) -> None:
        """Let the paper venue answer everything sent so far."""
        await self.gateway.open_orders()


@pytest.fixture
async def desk(tmp_path: Path):
    """A started desk with a two-level book: bids 49,900.0 / 49,800.0, asks 50,000.0 / 50,100.0."""
    d = Desk(tmp_path)
    await d.gateway.start()
    d.breaker.open(1)
    d.book([(499_000, 1000), (498_000, 1000)], [(500_000, 1000), (501_000, 1000)])
    yield d
    await d.gateway.stop()
    d.journal.close()


def venue_fill(cid: str, size: int, price: int = 500_000, trade_id: str = "") -> Fill:
    """A fill as a venue would report it."""
    return Fill(
        venue="sim",
        instrument=0,
        client_order_id=cid,
        venue_order_id="v1",
        trade_id=trade_id or f"x{next(_tid)}",
        side=Side.BUY,
        price=price,
        size=size,
        fee=0,
    )


async def test_resting_order_fills_in_three_parts_then_filled(desk: Desk):
    """A bid behind 1000 lots fills as trades eat the queue: three partials, then filled."""
    order = desk.oms.submit(desk.order(Side.BUY, 400, 499_000))
    await desk.settle()
    assert order.status is OrderStatus.ACCEPTED
    desk.trade(499_000, 1100, Side.SELL)
    desk.trade(499_000, 100, Side.SELL)
    desk.trade(499_000, 100, Side.SELL)
    await desk.settle()
    assert (order.status, order.filled_lots) == (OrderStatus.PARTIALLY_FILLED, 300)
    desk.trade(499_000, 100, Side.SELL)
    await desk.settle()
    kinds = [t.to_status for t in order.history]
    assert kinds.count(OrderStatus.PARTIALLY_FILLED) == 3
    assert order.status is OrderStatus.FILLED
    assert desk.portfolio.position(0).net == 400
    assert desk.risk.open_orders(0) == 0


async def test_a_risk_rejection_never_reaches_the_venue(desk: Desk):
    """An order over the size limit is rejected with the check's reason and nothing is sent."""
    order = desk.oms.submit(desk.order(Side.BUY, 5000, 499_000))
    assert order.status is OrderStatus.REJECTED
    assert order.reason.startswith(str(RejectReason.ORDER_SIZE))
    assert desk.gateway.stats.requests == 0
    desk.journal.flush()
    kinds = [type(m) for _, m in replay_decoded(desk.state / "journal", "t", records.DECODER)]
    assert kinds == [records.Refused]


async def test_the_same_fill_twice_changes_nothing(desk: Desk):
    """A fill delivered again (REST answer and user stream) is counted once."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 499_000))
    await desk.settle()
    fill = venue_fill(order.client_order_id, 4, 499_000, trade_id="dup-1")
    desk.oms.on_fill(fill)
    desk.oms.on_fill(fill)
    assert order.filled_lots == 4
    assert desk.portfolio.position(0).net == 4
    assert desk.oms.duplicates == 1


async def test_a_duplicate_ack_is_ignored_quietly(desk: Desk):
    """A second ACCEPTED for the same venue order changes nothing and raises no alert."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 499_000))
    await desk.settle()
    desk.oms.on_order_update(
        OrderUpdate(
            venue="sim",
            instrument=0,
            client_order_id=order.client_order_id,
            kind=OrderUpdateKind.ACCEPTED,
            venue_order_id=order.venue_order_id,
        )
    )
    assert order.status is OrderStatus.ACCEPTED
    assert not order.anomalies
    assert desk.oms.duplicates == 1
    assert not desk.oms.alerts


async def test_a_fill_before_its_ack_implies_the_ack(desk: Desk):
    """An execution report that overtakes the ack accepts the order first, then fills it."""
    cmd = desk.order(Side.BUY, 10, 498_000)
    desk.oms.submit(cmd)
    order = desk.oms.orders[cmd.client_order_id]
    desk.oms.on_fill(venue_fill(cmd.client_order_id, 10, 498_000))
    assert order.status is OrderStatus.FILLED
    assert not order.anomalies


async def test_a_fill_for_an_order_never_sent_moves_the_position_and_alerts(desk: Desk):
    """The venue is the truth: a foreign fill is booked and raises an alert."""
    desk.oms.on_fill(venue_fill("someone-else-1", 7))
    assert desk.portfolio.position(0).net == 7
    assert desk.oms.unknown_reports == 1
    assert desk.oms.alerts[-1].level is AlertLevel.WARNING
    assert "never sent" in desk.oms.alerts[-1].message


async def test_a_fill_reported_after_the_cancel_counts_on_the_canceled_order(desk: Desk):
    """It matched before the cancel: position and order both hold it, the order stays canceled."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 499_000))
    await desk.settle()
    desk.oms.cancel(order.client_order_id)
    await desk.settle()
    assert order.status is OrderStatus.CANCELED
    alerts = len(desk.oms.alerts)
    desk.oms.on_fill(venue_fill(order.client_order_id, 3, 499_000))
    assert desk.portfolio.position(0).net == 3
    assert order.status is OrderStatus.CANCELED
    assert order.filled_lots == 3
    assert order.fill_notional == 3 * 499_000
    assert not order.needs_reconcile
    assert desk.oms.late_fills == 1
    assert len(desk.oms.alerts) == alerts


async def test_an_overfill_reported_after_the_cancel_is_booked_and_flagged(desk: Desk):
    """More lots than the order had: the position moves, the order does not, reconcile checks."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 499_000))
    await desk.settle()
    desk.oms.cancel(order.client_order_id)
    await desk.settle()
    desk.oms.on_fill(venue_fill(order.client_order_id, 11, 499_000))
    assert desk.portfolio.position(0).net == 11
    assert order.filled_lots == 0
    assert order.needs_reconcile
    assert desk.oms.alerts[-1].level is AlertLevel.WARNING


@pytest.mark.parametrize(
    "kind", [OrderUpdateKind.CANCEL_REJECTED, OrderUpdateKind.REPLACE_REJECTED]
)
async def test_a_cancel_or_replace_refused_after_the_fill_is_a_benign_late_report(
    desk: Desk, kind: OrderUpdateKind
):
    """The request raced the fill: the refusal is journaled and counted, no alert, no reconcile."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 499_000))
    await desk.settle()
    cid = order.client_order_id
    if kind is OrderUpdateKind.CANCEL_REJECTED:
        assert desk.oms.cancel(cid)
    else:
        replace = ReplaceOrder(client_order_id=cid, instrument=0, price_ticks=498_000, size_lots=10)
        assert desk.oms.replace(replace) is None
    desk.oms.on_fill(venue_fill(cid, 10, 499_000))
    assert order.status is OrderStatus.FILLED
    late = OrderUpdate(
        venue="sim", instrument=0, client_order_id=cid, kind=kind, reason="Unknown order sent."
    )
    desk.oms.on_order_update(late)
    assert order.status is OrderStatus.FILLED
    assert (order.anomalies, order.needs_reconcile) == ([], False)
    assert desk.oms.late_reports == 1
    assert not desk.oms.alerts
    desk.journal.flush()
    updates = [
        m.update
        for _, m in replay_decoded(desk.state / "journal", "t", records.DECODER)
        if isinstance(m, records.Update)
    ]
    assert updates[-1] == late


async def test_replay_rebuilds_orders_and_positions_exactly(desk: Desk, tmp_path: Path):
    """A new manager replaying the journal has the same orders, states and position."""
    resting = desk.oms.submit(desk.order(Side.BUY, 50, 498_000))
    taken = desk.oms.submit(desk.order(Side.BUY, 30))
    await desk.settle()
    desk.oms.submit(desk.order(Side.BUY, 99_999, 499_000))  # refused
    desk.journal.flush()

    clock = SimClock()
    portfolio = Portfolio([BTC], clock)
    risk = RiskPipeline([BTC], LIMITS, clock, portfolio)
    again = OrderManager(
        [BTC],
        clock=clock,
        risk=risk,
        portfolio=portfolio,
        ids=ClientOrderIds("t", tmp_path / "ids.json"),
        journal=None,
        market=desk.market,
        breaker_tripped=lambda: False,
        on_trip=lambda reason: None,
    )
    assert again.replay(desk.state / "journal", "t") == []
    assert {c: (o.status, o.filled_lots) for c, o in again.orders.items()} == {
        c: (o.status, o.filled_lots) for c, o in desk.oms.orders.items()
    }
    assert again.orders[resting.client_order_id].status is OrderStatus.ACCEPTED
    assert again.orders[taken.client_order_id].status is OrderStatus.FILLED
    assert portfolio.position(0).net == desk.portfolio.position(0).net == 30
    assert portfolio.position(0).cost == desk.portfolio.position(0).cost
    assert risk.open_orders(0) == 1
    assert risk.pending_lots(0) == (50, 0)


async def test_replay_reports_a_corrupt_record_and_keeps_the_rest(desk: Desk):
    """A flipped byte in one record is reported with its offset; the others still replay."""
    for _ in range(3):
        desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    await desk.settle()
    desk.journal.close()
    path = next((desk.state / "journal").glob("*.journal"))
    data = bytearray(path.read_bytes())
    data[30] ^= 0xFF  # inside the first record's payload
    path.write_bytes(bytes(data))
    clock = SimClock()
    portfolio = Portfolio([BTC], clock)
    again = OrderManager(
        [BTC],
        clock=clock,
        risk=RiskPipeline([BTC], LIMITS, clock, portfolio),
        portfolio=portfolio,
        ids=ClientOrderIds("t", desk.state / "ids2.json"),
        journal=None,
        market=desk.market,
        breaker_tripped=lambda: False,
        on_trip=lambda reason: None,
    )
    problems = again.replay(desk.state / "journal", "t")
    assert len(problems) == 1
    assert problems[0].offset == 0
    assert len(again.orders) == 2


async def test_reconciliation_adopts_unknown_and_closes_missing_orders(desk: Desk):
    """The venue is the truth: its unknown order is adopted, our order it lacks is closed."""
    ours = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    await desk.settle()
    theirs = VenueOrder(
        instrument=0,
        client_order_id="t-other-9",
        venue_order_id="77",
        side=Side.SELL,
        price_ticks=502_000,
        size_lots=20,
        filled_lots=5,
    )
    adopted, closed = desk.oms.reconcile_orders("sim", [theirs])
    assert (adopted, closed) == (1, 1)
    assert ours.status is OrderStatus.CANCELED
    adopted_order = desk.oms.orders["t-other-9"]
    assert (adopted_order.status, adopted_order.filled_lots) == (OrderStatus.PARTIALLY_FILLED, 5)
    assert desk.risk.pending_lots(0) == (0, 15)


async def test_a_bad_link_holds_orders_until_reconciled(desk: Desk):
    """While the order link is bad no order leaves; reconciliation makes it good again."""
    desk.oms.on_gateway_link("sim", False, "user stream lost")
    held = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    assert held.status is OrderStatus.REJECTED
    assert "link is bad" in held.reason
    desk.oms.reconcile_orders("sim", await desk.gateway.open_orders())
    sent = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    assert sent.status is OrderStatus.SUBMITTED


async def test_the_breaker_flag_is_checked_again_at_the_gateway(desk: Desk):
    """With the pipeline still open but the breaker tripped, the order is refused at the gateway."""
    desk.breaker.trip("test")
    order = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    assert order.status is OrderStatus.REJECTED
    assert "checked at the gateway" in order.reason
    assert desk.gateway.stats.requests == 0


async def test_replace_passes_the_risk_checks(desk: Desk):
    """Replacing an order to a size over the limit is refused and the order is unchanged."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    await desk.settle()
    refused = desk.oms.replace(
        ReplaceOrder(
            client_order_id=order.client_order_id,
            instrument=0,
            price_ticks=498_000,
            size_lots=5000,
        )
    )
    assert refused is not None
    assert refused.startswith(str(RejectReason.ORDER_SIZE))
    assert (
        desk.oms.replace(
            ReplaceOrder(
                client_order_id=order.client_order_id,
                instrument=0,
                price_ticks=497_000,
                size_lots=20,
            )
        )
        is None
    )
    await desk.settle()
    assert (order.price_ticks, order.size_lots, order.status) == (
        497_000,
        20,
        OrderStatus.ACCEPTED,
    )
    assert desk.risk.pending_lots(0) == (20, 0)


async def test_post_only_that_would_take_is_rejected_with_the_venue_reason(desk: Desk):
    """A post-only bid at the ask comes back rejected with the matching core's reason."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 500_000, time_in_force=TimeInForce.POST_ONLY))
    await desk.settle()
    assert order.status is OrderStatus.REJECTED
    assert "would immediately match" in order.reason


async def test_rapid_loss_trips_the_breaker_cancels_and_rejects(tmp_path: Path):
    """-50, then three losing fills of -20 each: at -110 (limit -100) the breaker trips.

    Every open order is canceled at the venue, the next order is rejected as halted, and a
    critical alert names the daily loss.
    """
    desk = Desk(tmp_path)
    await desk.gateway.start()
    desk.breaker.open(1)
    desk.book([(497_500, 10_000)], [(500_000, 10_000)])
    resting = desk.oms.submit(desk.order(Side.BUY, 10, 490_000))
    desk.oms.submit(desk.order(Side.BUY, 100))
    await desk.settle()
    desk.oms.submit(desk.order(Side.SELL, 20))
    await desk.settle()
    assert desk.portfolio.daily_pnl() == Decimal(-50)
    desk.book([(499_000, 10_000)], [(500_000, 10_000)])
    seen = []
    for _ in range(3):
        assert not desk.breaker.tripped
        desk.oms.submit(desk.order(Side.SELL, 20))
        await desk.settle()
        seen.append(desk.portfolio.daily_pnl())
    assert seen == [Decimal(-70), Decimal(-90), Decimal(-110)]
    assert desk.breaker.tripped
    assert await desk.tasks[0] == 0
    assert resting.status is OrderStatus.CANCELED
    assert desk.core.open_orders() == []
    nxt = desk.oms.submit(desk.order(Side.BUY, 1, 499_000))
    assert nxt.status is OrderStatus.REJECTED
    assert nxt.reason.startswith(str(RejectReason.HALTED))
    critical = [a for a in desk.oms.alerts if a.level is AlertLevel.CRITICAL]
    assert critical
    assert "daily loss" in critical[0].message
    await desk.gateway.stop()
    desk.journal.close()


async def test_a_link_that_comes_back_asks_for_reconciliation(tmp_path: Path):
    """A healthy report after a bad one calls back once, and orders stay held until reconciled."""
    desk = Desk(tmp_path)
    asked: list[str] = []
    desk.oms._on_link_back = asked.append
    desk.oms.on_gateway_link("sim", False, "user stream lost")
    desk.oms.on_gateway_link("sim", True, "")
    desk.oms.on_gateway_link("sim", True, "")
    assert asked == ["sim"]
    assert not desk.oms.link_ok["sim"]
    desk.oms.reconcile_orders("sim", [])
    assert desk.oms.link_ok["sim"]
    desk.journal.close()


async def test_reconciliation_accepts_an_order_whose_ack_was_lost(desk: Desk):
    """An order still SUBMITTED here but open at the venue is accepted with the venue's id."""
    cmd = desk.order(Side.BUY, 10, 498_000)
    order = desk.oms.submit(cmd)  # reconciled before the paper venue's ack can arrive
    theirs = VenueOrder(
        instrument=0,
        client_order_id=cmd.client_order_id,
        venue_order_id="42",
        side=Side.BUY,
        price_ticks=498_000,
        size_lots=10,
        filled_lots=0,
    )
    assert order.status is OrderStatus.SUBMITTED
    assert desk.oms.reconcile_orders("sim", [theirs]) == (0, 0)
    assert (order.status, order.venue_order_id) == (OrderStatus.ACCEPTED, "42")


async def test_an_unacknowledged_order_the_venue_never_saw_is_rejected(desk: Desk):
    """Sent but unknown to the venue: rejected here, and no longer counted as open."""
    order = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    desk.oms.resolve_unacknowledged(order, None)
    assert order.status is OrderStatus.REJECTED
    assert "never reached the venue" in order.reason
    assert desk.risk.open_orders(0) == 0


async def test_an_unacknowledged_order_the_venue_holds_is_accepted(desk: Desk):
    """Sent and held by the venue: accepted with the venue's id, ready for its fills."""
    cmd = desk.order(Side.BUY, 10, 498_000)
    order = desk.oms.submit(cmd)
    found = VenueOrder(
        instrument=0,
        client_order_id=cmd.client_order_id,
        venue_order_id="77",
        side=Side.BUY,
        price_ticks=498_000,
        size_lots=10,
        filled_lots=10,
        open=False,
    )
    desk.oms.resolve_unacknowledged(order, found)
    assert (order.status, order.venue_order_id) == (OrderStatus.ACCEPTED, "77")
    desk.oms.on_fill(venue_fill(cmd.client_order_id, 10, 498_000))
    assert order.status is OrderStatus.FILLED


async def test_a_drawdown_past_its_limit_trips_the_breaker(tmp_path: Path):
    """Net PnL 50 below its peak (limit 30) trips the breaker on the mark, with an alert."""
    desk = Desk(tmp_path, limits=msgspec.structs.replace(LIMITS, max_drawdown="30"))
    await desk.gateway.start()
    desk.breaker.open(1)
    desk.book([(499_000, 10_000)], [(500_000, 10_000)])
    desk.oms.submit(desk.order(Side.BUY, 100))
    await desk.settle()
    for mid_x2 in (1_002_000, 1_001_000):  # +100 at the peak, then +50
        desk.portfolio.mark(0, mid_x2)
        desk.risk.on_pnl()
        desk.oms.check_loss_limits()
    assert desk.breaker.tripped
    assert desk.breaker.reason.startswith("drawdown limit: 50 below")
    assert [a.level for a in desk.oms.alerts] == [AlertLevel.CRITICAL]
    await desk.gateway.stop()
    desk.journal.close()


async def test_controls_are_journaled_for_the_audit_trail(desk: Desk):
    """Kills, trips, resets and limit changes are journal records; replay acts on none."""
    desk.oms.record_control("kill", "ui")
    desk.oms.record_control("reset", "http 127.0.0.1")
    desk.journal.flush()
    got = [m for _, m in replay_decoded(desk.state / "journal", "t", records.DECODER)]
    assert got == [records.Control("kill", "ui"), records.Control("reset", "http 127.0.0.1")]


async def test_the_open_index_follows_every_way_an_order_ends(desk: Desk):
    """Open orders are kept as orders change state; finished ones move to the recent list."""
    resting = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    taken = desk.oms.submit(desk.order(Side.BUY, 10))
    refused = desk.oms.submit(desk.order(Side.BUY, 99_999, 498_000))
    await desk.settle()
    assert desk.oms.open_orders() == [resting]
    assert list(desk.oms.recent_closed) == [refused, taken]
    desk.oms.cancel(resting.client_order_id)
    await desk.settle()
    assert desk.oms.open_orders() == []
    assert list(desk.oms.recent_closed)[-1] is resting
    assert [o for o in desk.oms.orders.values() if o.is_open] == desk.oms.open_orders()


async def test_finished_orders_beyond_the_limit_are_forgotten_and_their_late_fills_count_once(
    desk: Desk, tmp_path: Path
):
    """Open orders are never forgotten; the oldest finished ones go, their late reports harmless."""
    desk.oms.keep_finished = 3
    resting = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    taken = [desk.oms.submit(desk.order(Side.BUY, 10)) for _ in range(5)]
    await desk.settle()
    assert all(o.status is OrderStatus.FILLED for o in taken)
    known = set(desk.oms.orders)
    assert known == {resting.client_order_id} | {o.client_order_id for o in taken[2:]}
    assert desk.oms.forgotten == 2
    net = desk.portfolio.position(0).net
    desk.journal.flush()
    first = taken[0].client_order_id
    fills = [
        m.fill
        for _, m in replay_decoded(desk.state / "journal", "t", records.DECODER)
        if isinstance(m, records.Filled) and m.fill.client_order_id == first
    ]
    assert fills
    unknown = desk.oms.unknown_reports
    for fill in fills:
        desk.oms.on_fill(fill)  # the venue repeats a fill of a forgotten order
    assert desk.portfolio.position(0).net == net  # booked once, when it happened
    assert desk.oms.unknown_reports == unknown + len(fills)
    desk.journal.flush()
    replayed = Desk(tmp_path / "again")
    replayed.oms.keep_finished = 3
    replayed.oms.replay(desk.state / "journal", "t")
    assert set(replayed.oms.orders) == known  # the journal has them all; memory keeps the newest
    assert replayed.portfolio.position(0).net == net
    replayed.journal.close()


async def test_an_order_acknowledged_while_the_venue_list_travelled_is_kept(desk: Desk):
    """The venue's list was taken before this order's ack came: its absence proves nothing."""
    older = desk.oms.submit(desk.order(Side.BUY, 10, 498_000))
    await desk.settle()
    acked = desk.oms.acknowledged("sim")  # the list is asked for now ...
    newer = desk.oms.submit(desk.order(Side.BUY, 10, 497_000))
    await desk.settle()  # ... and this order is acknowledged before it arrives
    assert acked == {older.client_order_id}
    assert newer.status is OrderStatus.ACCEPTED
    assert desk.oms.reconcile_orders("sim", [], acked) == (0, 1)
    assert older.status is OrderStatus.CANCELED  # acknowledged before: really gone
    assert newer.status is OrderStatus.ACCEPTED


async def test_the_paper_gateway_reports_the_queue_ahead_of_each_resting_order(desk: Desk):
    """A bid joining 1000 lots has 1000 ahead; a 300-lot trade at its price leaves 700."""
    order = desk.oms.submit(desk.order(Side.BUY, 400, 499_000))
    market = desk.oms.submit(desk.order(Side.BUY, 10))
    await desk.settle()
    assert desk.gateway.queue_ahead() == {order.client_order_id: 1000}
    desk.trade(499_000, 300, Side.SELL)
    await desk.settle()
    assert desk.gateway.queue_ahead()[order.client_order_id] == 700
    assert market.client_order_id not in desk.gateway.queue_ahead()
