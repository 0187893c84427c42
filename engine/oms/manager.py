"""The order manager: every order's way from a command to a venue and every report's way back.

```
submit ─► own checks (grid, notional) ─► risk pipeline (every order, no bypass) ─► journal
       ─► halt checked again at the gateway ─► Gateway.submit
venue report ─► Order state machine ─► portfolio ─► risk bookkeeping ─► journal
             ─► loss limits ─► circuit breaker (trip: halt, cancel everything, verify)
```

One manager serves every mode: the gateway behind a venue name is a real venue's, the paper
matching core's, or the backtest's. What the venue says wins: a fill for an order we had
canceled, or never sent, still moves the position; anything the state machine does not allow is
an :class:`~engine.core.events.Alert` and marks the order for reconciliation, never a crash.
A report seen twice (the REST answer and the user stream both carry it) changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from engine.core.clock import Clock
from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import Alert, AlertLevel, Fill, OrderUpdate, OrderUpdateKind
from engine.core.instruments import Instrument
from engine.oms import records
from engine.oms.ids import ClientOrderIds
from engine.oms.journal import Journal, JournalCorrupt, RecordKind, replay_decoded
from engine.oms.order import Anomaly, LateFill, LateReport, Order, OrderEventKind, OrderStatus
from engine.oms.positions import InvalidFill, Portfolio
from engine.risk.checks import MarketState, Rejection, RejectReason
from engine.risk.pipeline import RiskPipeline
from engine.venues.base import Gateway, VenueOrder

log = logging.getLogger("engine.oms")

RECENT_CLOSED = 100
"""Finished orders kept in :attr:`OrderManager.recent_closed` for the UI's order list."""
KEEP_FINISHED = 10_000
"""Finished orders the OMS keeps by default (``[oms] keep_finished_orders``) for late reports,
``/orders?all=1`` and reconciliation; older ones live on in the journal only."""

_KIND = {
    OrderUpdateKind.ACCEPTED: OrderEventKind.ACCEPTED,
    OrderUpdateKind.REJECTED: OrderEventKind.REJECTED,
    OrderUpdateKind.CANCELED: OrderEventKind.CANCELED,
    OrderUpdateKind.CANCEL_REJECTED: OrderEventKind.CANCEL_REJECTED,
    OrderUpdateKind.REPLACED: OrderEventKind.REPLACED,
    OrderUpdateKind.REPLACE_REJECTED: OrderEventKind.REPLACE_REJECTED,
    OrderUpdateKind.EXPIRED: OrderEventKind.EXPIRED,
}
_FINAL_OF = {
    OrderUpdateKind.CANCELED: OrderStatus.CANCELED,
    OrderUpdateKind.EXPIRED: OrderStatus.EXPIRED,
    OrderUpdateKind.REJECTED: OrderStatus.REJECTED,
}
_ACKED = frozenset(
    {
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)
"""States that already imply the venue's ack: a second ACCEPTED there is a duplicate."""
_IMPLY_ACK = frozenset({OrderUpdateKind.CANCELED, OrderUpdateKind.EXPIRED})
"""Reports that prove the venue took an order: on one still waiting for its ack, ack it first."""
_EVENT_RECORDS = (records.Update, records.Filled)
"""Records journaled as events (venue reports); every other record is a command."""


class OrderManager:
    """Orders, positions and their journal for one engine; the gateways' listener.

    Args:
        instruments: every tradable instrument (their ``venue`` picks the gateway).
        clock: wall time for timestamps.
        risk: the pre-trade pipeline every order passes.
        portfolio: positions and PnL, moved by fills.
        ids: the client order id source.
        journal: where every command and report is recorded; None records nothing (tests).
        market: the market an order is checked against, per instrument id.
        breaker_tripped: the circuit breaker's own flag, checked again just before sending.
        on_trip: called with a reason when a loss limit or reconciliation says trading must stop.
        on_alert: called with every alert raised (the engine publishes them).
        on_booked: called with every fill booked into a position (the engine publishes them).
        on_link_back: called with the venue when its order link is healthy again after being bad;
            the engine reconciles with it then (orders stay held until that succeeds).
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        *,
        clock: Clock,
        risk: RiskPipeline,
        portfolio: Portfolio,
        ids: ClientOrderIds,
        journal: Journal | None,
        market: Callable[[int], MarketState],
        breaker_tripped: Callable[[], bool],
        on_trip: Callable[[str], None],
        on_alert: Callable[[Alert], None] | None = None,
        on_booked: Callable[[Fill], None] | None = None,
        on_link_back: Callable[[str], None] | None = None,
        keep_finished: int | None = KEEP_FINISHED,
    ) -> None:
        self.instruments = {i.instrument_id: i for i in instruments}
        self.clock = clock
        self.risk = risk
        self.portfolio = portfolio
        self.ids = ids
        self.journal = journal
        self._market = market
        self._breaker_tripped = breaker_tripped
        self._on_trip = on_trip
        self._on_alert = on_alert
        self._on_booked = on_booked
        self._on_link_back = on_link_back
        self._reconciling: set[str] = set()
        self.gateways: dict[str, Gateway] = {}
        self.orders: dict[str, Order] = {}
        """Every open order and the ``keep_finished`` most recently finished ones, by client
        order id (replayed ones included); all of them when ``keep_finished`` is None."""
        self.keep_finished = keep_finished
        self._finished: deque[str] = deque()
        """Client ids of the finished orders in :attr:`orders`, oldest finished first."""
        self.forgotten = 0
        """Finished orders dropped from :attr:`orders` to keep it bounded."""
        self._open: dict[str, Order] = {}
        """The orders of :attr:`orders` not yet final, oldest first (kept by :meth:`_track`)."""
        self.recent_closed: deque[Order] = deque(maxlen=RECENT_CLOSED)
        """The orders that became final most recently, oldest first."""
        self.link_ok: dict[str, bool] = {}
        """Per venue: False while its order link is bad and new orders are held back."""
        self.alerts: deque[Alert] = deque(maxlen=500)
        """The most recent alerts, newest last."""
        self.duplicates = 0
        """Reports seen a second time and ignored."""
        self.unknown_reports = 0
        """Reports for orders this engine never sent."""
        self.late_reports = 0
        """Cancel or replace refusals that reached an order already ended (the request raced
        a fill or the order's end): journaled, counted, otherwise ignored."""
        self.late_fills = 0
        """Fills reported after their order's cancel or expiry (matched before it): booked and
        counted on the order, which stays canceled or expired."""
        self.base_fees: dict[int, Decimal] = {}
        """Per instrument, commissions the venue took in the base asset (exact, base units)."""

    # ---- wiring ------------------------------------------------------------------------------

    def attach(self, gateway: Gateway) -> None:
        """Route orders for instruments on ``gateway.venue`` to it."""
        self.gateways[gateway.venue] = gateway
        self.link_ok.setdefault(gateway.venue, True)

    def link_healthy(self, venue: str) -> bool:
        """True while orders may go to ``venue``: its gateway is healthy and reconciled."""
        gateway = self.gateways.get(venue)
        return gateway is not None and gateway.stats.healthy and self.link_ok.get(venue, True)

    def open_orders(self, instrument: int = -1) -> list[Order]:
        """Orders not yet final, on one instrument or (-1) on all, oldest first."""
        if instrument < 0:
            return list(self._open.values())
        return [o for o in self._open.values() if o.instrument == instrument]

    def _track(self, order: Order) -> None:
        """Keep the open index in step after ``order`` was stored or changed state."""
        cid = order.client_order_id
        if order.is_open:
            self._open.setdefault(cid, order)
        elif self._open.pop(cid, None) is not None or not order.history[:-1]:
            # it just became final (or was refused straight away): newest of the closed
            self.recent_closed.append(order)
            self._finished.append(cid)
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        """Drop the oldest finished orders beyond ``keep_finished`` from :attr:`orders`.

        A market maker finishes orders all day; kept forever they would grow the engine without
        bound. The journal keeps every one; positions dedup fills on their own, so a very late
        report of a forgotten order is counted as unknown and changes nothing twice.
        """
        keep = self.keep_finished
        if keep is None:
            return
        finished, orders = self._finished, self.orders
        while len(finished) > keep:
            cid = finished.popleft()
            order = orders.get(cid)
            if order is not None and not order.is_open:
                del orders[cid]
                self.forgotten += 1

    # ---- commands ----------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh client order id, unique across restarts."""
        return self.ids.next_id()

    def submit(self, cmd: SubmitOrder) -> Order:
        """Check and send one order; the returned order is REJECTED (with ``reason``) or SUBMITTED.

        Refusals are journaled and logged with their numbers; nothing refused reaches a venue.
        """
        now = self.clock.time_ns()
        inst = self.instruments.get(cmd.instrument)
        venue = inst.venue if inst is not None else "?"
        order = Order(
            cmd.client_order_id,
            venue,
            cmd.instrument,
            cmd.side,
            max(cmd.size_lots, 1),
            cmd.price_ticks,
            cmd.order_type,
            cmd.time_in_force,
        )
        rejection = self._refusal(cmd, inst)
        if rejection is not None:
            order.apply(OrderEventKind.REJECTED, now, reason=rejection)
            if cmd.client_order_id not in self.orders:
                self.orders[cmd.client_order_id] = order
                self._track(order)
            self._record(records.Refused(venue, cmd, rejection), now)
            return order
        gateway = self.gateways[venue]
        self.orders[cmd.client_order_id] = order
        order.apply(OrderEventKind.SUBMIT, now)
        self._track(order)
        self.risk.on_submitted(cmd)
        self._record(records.Sent(venue, cmd), now)
        gateway.submit(cmd)
        return order

    def _refusal(self, cmd: SubmitOrder, inst: Instrument | None) -> str | None:
        """Why ``cmd`` (on ``inst``, None when unknown) may not leave the engine, or None."""
        if cmd.client_order_id in self.orders:
            return f"duplicate client order id {cmd.client_order_id}"
        if inst is None:
            return f"unknown instrument {cmd.instrument}"
        if cmd.size_lots <= 0:
            return f"size {cmd.size_lots} lots must be positive"
        gateway = self.gateways.get(inst.venue)
        if gateway is None:
            return f"no gateway for venue {inst.venue}"
        rejection: Rejection | None = self.risk.check(cmd, self._market(cmd.instrument))
        if rejection is not None:
            return f"{rejection.reason}: {rejection.message}"
        # The gateway's own halt check: the breaker's flag, not the pipeline's, so that a bug in
        # one cannot let an order out while the other says halted.
        if self._breaker_tripped():
            self.risk.rejections[RejectReason.HALTED] += 1
            return "halted: the circuit breaker is tripped (checked at the gateway)"
        if not self.link_ok.get(inst.venue, True):
            return f"venue {inst.venue} order link is bad; held until reconciliation succeeds"
        return None

    def cancel(self, client_order_id: str, reason: str = "") -> bool:
        """Ask the venue to cancel one open order; False when it is unknown or already final.

        An order not yet acknowledged (or with a request pending) is asked for anyway: the venue
        may hold it, and its answer decides.
        """
        order = self.orders.get(client_order_id)
        if order is None or not order.is_open:
            return False
        if order.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            order.apply(OrderEventKind.CANCEL_REQUEST, self.clock.time_ns())
        self._send_cancel(order, reason)
        return True

    def _send_cancel(self, order: Order, reason: str) -> None:
        gateway = self.gateways.get(order.venue)
        if gateway is None:
            return
        self._record(
            records.CancelSent(order.venue, order.client_order_id, reason), self.clock.time_ns()
        )
        gateway.cancel(
            CancelOrder(client_order_id=order.client_order_id, instrument=order.instrument)
        )

    def replace(self, cmd: ReplaceOrder) -> str | None:
        """Ask the venue to change an open order; returns why it was refused, or None if sent.

        The changed order passes the risk pipeline as a new order would (size, notional, band,
        position), so a replace can never carry an order past a limit.
        """
        order = self.orders.get(cmd.client_order_id)
        if order is None or order.status not in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ):
            return f"order {cmd.client_order_id} is not open and acknowledged"
        if cmd.size_lots <= order.filled_lots:
            return f"new size {cmd.size_lots} lots <= filled {order.filled_lots} lots"
        probe = SubmitOrder(  # the working part at the new price and size, as risk counts it
            client_order_id=order.client_order_id,
            instrument=order.instrument,
            side=order.side,
            size_lots=cmd.size_lots - order.filled_lots,
            price_ticks=cmd.price_ticks,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
        )
        rejection = self.risk.check(probe, self._market(order.instrument))
        if rejection is not None:
            return f"{rejection.reason}: {rejection.message}"
        if self._breaker_tripped():
            return "halted: the circuit breaker is tripped (checked at the gateway)"
        now = self.clock.time_ns()
        order.apply(OrderEventKind.REPLACE_REQUEST, now)
        self._record(records.ReplaceSent(order.venue, cmd), now)
        self.gateways[order.venue].replace(cmd)
        return None

    async def cancel_all(
        self, reason: str, *, attempts: int = 5, retry_s: float = 0.2, timeout_s: float = 5.0
    ) -> int:
        """Cancel every open order on every venue, then verify with the venue until none is left.

        Each round sends cancel-all to every venue, asks each for its open orders and cancels any
        that remain one by one; it stops when every venue reports none, or after ``attempts``
        rounds ``retry_s`` apart.

        Returns:
            The open orders the venues still report after the last round (0 on success).
        """
        remaining = 0
        for attempt in range(1, attempts + 1):
            # Every venue at once: the slowest venue sets the time, not the sum of them.
            left = await asyncio.gather(
                *(
                    self._cancel_all_on(venue, gateway, attempt, timeout_s)
                    for venue, gateway in list(self.gateways.items())
                )
            )
            remaining = sum(left)
            if remaining == 0:
                log.warning("every open order canceled", extra={"reason": reason})
                return 0
            await asyncio.sleep(retry_s)
        self.alert(
            AlertLevel.CRITICAL,
            "oms",
            f"cancel-all ({reason}): {remaining} orders still open after {attempts} rounds",
        )
        return remaining

    async def _cancel_all_on(
        self, venue: str, gateway: Gateway, attempt: int, timeout_s: float
    ) -> int:
        """One round on one venue: cancel-all, then cancel whatever it still reports open.

        Returns:
            How many orders the venue still reported open (1 when it did not answer).
        """
        try:
            async with asyncio.timeout(timeout_s):
                await gateway.cancel_all(-1)
                left = await gateway.open_orders()
        except Exception as exc:  # one venue failing must not stop the others
            log.warning(
                "cancel-all failed; retrying",
                extra={"venue": venue, "attempt": attempt, "error": repr(exc)},
            )
            return 1
        for venue_order in left:
            gateway.cancel(
                CancelOrder(
                    client_order_id=venue_order.client_order_id,
                    instrument=venue_order.instrument,
                )
            )
        return len(left)

    # ---- gateway listener ----------------------------------------------------------------------

    def on_order_update(self, update: OrderUpdate) -> None:
        """Apply a venue's report about one order."""
        now = self.clock.time_ns()
        order = self.orders.get(update.client_order_id)
        if order is None:
            self.unknown_reports += 1
            self._record(records.Update(update), now)
            self.alert(
                AlertLevel.WARNING,
                "oms",
                f"{update.venue}: {update.kind} for order {update.client_order_id} that this "
                "engine never sent; reconciliation will decide",
                update.client_order_id,
            )
            return
        if self._is_duplicate(order, update):
            self.duplicates += 1
            return
        self._record(records.Update(update), now)
        self._apply_update(order, update)

    def _is_duplicate(self, order: Order, update: OrderUpdate) -> bool:
        kind = update.kind
        if kind is OrderUpdateKind.ACCEPTED:
            same = not update.venue_order_id or update.venue_order_id == order.venue_order_id
            return order.status in _ACKED and same
        final = _FINAL_OF.get(kind)
        return final is not None and order.status is final

    def _apply_update(self, order: Order, update: OrderUpdate) -> None:
        ts = update.exch_ts or update.recv_ts or self.clock.time_ns()
        _ack_implied_by(order, update, ts)
        result = order.apply(
            _KIND[update.kind],
            ts,
            venue_order_id=update.venue_order_id,
            reason=update.reason,
            price_ticks=update.price_ticks or None,
            size_lots=update.size_lots or None,
        )
        if isinstance(result, LateReport):
            self.late_reports += 1
            log.debug(
                "late report on an order already ended",
                extra={
                    "client_order_id": order.client_order_id,
                    "venue": update.venue,
                    "order_event": str(update.kind),
                    "status": str(order.status),
                    "reason": update.reason,
                },
            )
            return
        self._track(order)
        if isinstance(result, Anomaly):
            self.alert(
                AlertLevel.WARNING,
                "oms",
                f"order {order.client_order_id}: {update.kind} in state {order.status}: "
                f"{result.reason}",
                order.client_order_id,
            )
            return
        if update.kind is OrderUpdateKind.REPLACED and order.is_open:
            self._recount(order)
        if not order.is_open:
            self.risk.on_done(order.client_order_id)
        if update.kind is OrderUpdateKind.REJECTED:
            log.info(
                "order rejected by the venue",
                extra={
                    "client_order_id": order.client_order_id,
                    "venue": update.venue,
                    "code": update.code,
                    "reason": update.reason,
                },
            )

    def _recount(self, order: Order) -> None:
        """Re-count a replaced order's pending lots in the pipeline at its new size."""
        self.risk.on_done(order.client_order_id)
        self.risk.on_submitted(_working_part(order))

    def on_fill(self, fill: Fill) -> None:
        """Book one execution: order, position, risk bookkeeping, loss limits."""
        now = self.clock.time_ns()
        order = self.orders.get(fill.client_order_id)
        if order is not None and (fill.venue, fill.trade_id) in order.fill_ids:
            self.duplicates += 1
            return
        self._record(records.Filled(fill), now)
        self._book_fill(order, fill)
        self.check_loss_limits()

    def _book_fill(self, order: Order | None, fill: Fill) -> None:
        if order is not None and order.status is OrderStatus.SUBMITTED:
            # The fill proves the venue took the order: its ack is late or was lost.
            order.apply(
                OrderEventKind.ACCEPTED,
                fill.exch_ts or fill.recv_ts,
                venue_order_id=fill.venue_order_id,
            )
        anomaly = ""
        if order is None:
            self.unknown_reports += 1
            anomaly = f"fill {fill.trade_id} for order {fill.client_order_id} never sent"
        else:
            result = order.apply_fill(fill)
            self._track(order)
            if isinstance(result, Anomaly):
                anomaly = result.reason
            elif isinstance(result, LateFill):
                self.late_fills += 1
                log.info(
                    "fill reported after the order ended",
                    extra={
                        "client_order_id": order.client_order_id,
                        "venue": fill.venue,
                        "trade_id": fill.trade_id,
                        "status": str(order.status),
                    },
                )
        try:
            booked = self.portfolio.apply(fill)
        except InvalidFill as exc:
            self.alert(AlertLevel.CRITICAL, "oms", f"fill {fill.trade_id} not booked: {exc}")
            return
        if not booked:
            return
        if anomaly:
            # The venue is the truth: the position moved even though the order says otherwise.
            self.alert(
                AlertLevel.WARNING,
                "oms",
                f"{fill.venue}: {anomaly}; the position was moved, reconciliation will check",
                fill.client_order_id,
            )
        self._count_base_fee(fill)
        self.risk.on_fill(fill.client_order_id, fill.size)
        if order is not None and not order.is_open:
            self.risk.on_done(order.client_order_id)
        self.risk.on_pnl()
        if self._on_booked is not None:
            self._on_booked(fill)

    def _count_base_fee(self, fill: Fill) -> None:
        if fill.fee_base:
            try:
                amount = Decimal(fill.fee_base)
            except ArithmeticError:
                return
            self.base_fees[fill.instrument] = (
                self.base_fees.get(fill.instrument, Decimal(0)) + amount
            )

    def base_fee_lots(self, instrument: int) -> int:
        """Base-asset commissions paid on ``instrument``, in whole lots (nearest)."""
        amount = self.base_fees.get(instrument)
        inst = self.instruments.get(instrument)
        if not amount or inst is None:
            return 0
        return int((amount / inst.size_grid().step).to_integral_value())

    def check_loss_limits(self) -> None:
        """Trip the breaker when daily loss or drawdown is past its limit (after fills, marks)."""
        breach = self.risk.loss_breach()
        if breach and not self._breaker_tripped():
            self.alert(AlertLevel.CRITICAL, "risk", f"loss limit breached: {breach}")
            self._on_trip(breach)

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """A venue's order link went bad (orders held) or came back (reconcile first)."""
        was = self.link_ok.get(venue, True)
        if not healthy:
            self.link_ok[venue] = False
            if was:
                self.alert(AlertLevel.WARNING, f"gateway:{venue}", f"order link bad: {reason}")
            return
        if not was and venue not in self._reconciling:
            log.info("order link back; reconciling before trading", extra={"venue": venue})
            self._reconciling.add(venue)
            if self._on_link_back is not None:
                self._on_link_back(venue)

    # ---- reconciliation -----------------------------------------------------------------------

    def resolve_unacknowledged(self, order: Order, found: VenueOrder | None) -> None:
        """Settle an order sent but never acknowledged with what the venue says of it.

        The venue has no record: it never reached the venue, so it is rejected here. The venue
        has it: it is accepted with the venue's id (its fills are booked from the venue's trade
        list and a finished order is closed by reconciliation).
        """
        now = self.clock.time_ns()
        if found is None:
            kind, reason, venue_id = (
                OrderUpdateKind.REJECTED,
                "never reached the venue (reconciliation)",
                "",
            )
        else:
            kind, reason, venue_id = (
                OrderUpdateKind.ACCEPTED,
                "found at the venue (reconciliation)",
                found.venue_order_id,
            )
        update = OrderUpdate(
            venue=order.venue,
            instrument=order.instrument,
            client_order_id=order.client_order_id,
            kind=kind,
            venue_order_id=venue_id,
            reason=reason,
        )
        self._record(records.Update(update), now)
        self._apply_update(order, update)

    def reconcile_failed(self, venue: str, reason: str) -> None:
        """A reconciliation attempt failed: the link stays bad and a later attempt may run."""
        self._reconciling.discard(venue)
        self.link_ok[venue] = False
        self.alert(AlertLevel.WARNING, "reconcile", f"{venue}: reconciliation failed: {reason}")

    def acknowledged(self, venue: str) -> set[str]:
        """Client ids of the open orders on ``venue`` the venue has acknowledged, as of now."""
        return {
            o.client_order_id
            for o in self._open.values()
            if o.venue == venue and o.status is not OrderStatus.SUBMITTED
        }

    def reconcile_orders(
        self, venue: str, theirs: list[VenueOrder], acked: Collection[str] | None = None
    ) -> tuple[int, int]:
        """Make our open orders on ``venue`` match the venue's list (the venue is the truth).

        Orders the venue holds that we do not are adopted; orders we hold open that the venue does
        not are closed. Both are journaled and alerted. The link is healthy again afterwards.

        Args:
            venue: the venue the list came from.
            theirs: its open orders.
            acked: :meth:`acknowledged` taken just before the list was asked for; only those
                orders are closed when missing, as a later ack may not be in the list yet.
                None: every open order that is not still in flight.

        Returns:
            ``(adopted, closed)``.
        """
        now = self.clock.time_ns()
        known = {o.client_order_id: o for o in theirs}
        adopted = closed = 0
        for venue_order in theirs:
            ours = self.orders.get(venue_order.client_order_id)
            if ours is not None and ours.is_open:
                if ours.status is OrderStatus.SUBMITTED:
                    # Its ack was lost (or we died before it came): the venue holds it.
                    update = OrderUpdate(
                        venue=venue,
                        instrument=venue_order.instrument,
                        client_order_id=venue_order.client_order_id,
                        kind=OrderUpdateKind.ACCEPTED,
                        venue_order_id=venue_order.venue_order_id,
                        reason="open at the venue (reconciliation)",
                    )
                    self._record(records.Update(update), now)
                    self._apply_update(ours, update)
                ours.needs_reconcile = False
                continue
            self._record(records.Adopted(venue, venue_order), now)
            self._adopt(venue, venue_order, now)
            adopted += 1
            self.alert(
                AlertLevel.WARNING,
                "reconcile",
                f"{venue}: open order {venue_order.client_order_id} was not known here; adopted",
                venue_order.client_order_id,
            )
        for order in self.open_orders():
            if order.venue != venue or order.client_order_id in known:
                continue
            if order.status is OrderStatus.SUBMITTED and not order.venue_order_id:
                continue  # still in flight: the venue's answer decides
            if acked is not None and order.client_order_id not in acked:
                continue  # acknowledged after the list was taken: the list cannot show it
            reason = "not open at the venue (reconciliation)"
            self._record(records.Closed(venue, order.client_order_id, reason), now)
            self._close(order, reason, now)
            closed += 1
            self.alert(
                AlertLevel.WARNING,
                "reconcile",
                f"{venue}: order {order.client_order_id} was open here but not at the venue; "
                "closed",
                order.client_order_id,
            )
        self.link_ok[venue] = True
        self._reconciling.discard(venue)
        return adopted, closed

    def _adopt(self, venue: str, vo: VenueOrder, now: int) -> None:
        order = Order(
            vo.client_order_id,
            venue,
            vo.instrument,
            vo.side,
            vo.size_lots,
            vo.price_ticks,
            vo.order_type,
            vo.time_in_force,
        )
        order.apply(OrderEventKind.SUBMIT, now)
        order.apply(OrderEventKind.ACCEPTED, now, venue_order_id=vo.venue_order_id)
        order.filled_lots = vo.filled_lots
        if vo.filled_lots:
            order.status = OrderStatus.PARTIALLY_FILLED
        self.orders[vo.client_order_id] = order
        self._track(order)
        self.risk.on_submitted(_working_part(order))

    def _close(self, order: Order, reason: str, now: int) -> None:
        if order.status is OrderStatus.SUBMITTED:
            order.apply(OrderEventKind.ACCEPTED, now)
        order.apply(OrderEventKind.CANCELED, now, reason=reason)
        self._track(order)
        self.risk.on_done(order.client_order_id)

    def position_mismatches(
        self, venue: str, theirs: Mapping[int, int], threshold_lots: Mapping[int, int]
    ) -> list[str]:
        """Instruments whose venue position differs from ours by more than their threshold."""
        problems = []
        for instrument, venue_net in theirs.items():
            inst = self.instruments.get(instrument)
            if inst is None or inst.venue != venue:
                continue
            ours = self.portfolio.position(instrument).net
            if abs(venue_net - ours) > threshold_lots.get(instrument, 0):
                grid = inst.size_grid()
                problems.append(
                    f"{inst.key}: venue position {grid.to_text(venue_net)} vs ours "
                    f"{grid.to_text(ours)}"
                )
        return problems

    # ---- journal -------------------------------------------------------------------------------

    def record_control(self, action: str, actor: str, detail: str = "") -> None:
        """Journal a kill, trip, reset or limits change for the audit trail."""
        self._record(records.Control(action, actor, detail), self.clock.time_ns())

    def _record(self, record: records.Record, ts_ns: int) -> None:
        if self.journal is None:
            return
        kind = RecordKind.EVENT if isinstance(record, _EVENT_RECORDS) else RecordKind.COMMAND
        self.journal.append(kind, records.ENCODER.encode(record), ts_ns)

    def replay(self, directory: Path, instance: str) -> list[JournalCorrupt]:
        """Rebuild orders and positions from the journal; returns the records that were skipped.

        Call before any gateway starts. Client order ids are not reissued: the id source keeps
        its own fsynced high-water mark.
        """
        problems: list[JournalCorrupt] = []
        count = 0
        for record, message in replay_decoded(directory, instance, records.DECODER, problems):
            count += 1
            self._replay_one(message, record.ts_ns)
        self._open = {c: o for c, o in self.orders.items() if o.is_open}
        self.recent_closed.clear()
        self.recent_closed.extend(o for o in self.orders.values() if not o.is_open)
        self._finished = deque(c for c, o in self.orders.items() if not o.is_open)
        self._forget_oldest()
        for order in self.open_orders():
            self.risk.on_submitted(_working_part(order))
        self.risk.on_pnl()
        log.info(
            "journal replayed",
            extra={
                "records": count,
                "skipped": len(problems),
                "orders": len(self.orders),
                "open": len(self.open_orders()),
            },
        )
        return problems

    def _replay_one(self, message: records.Record, ts: int) -> None:
        if isinstance(message, records.Sent | records.Refused):
            self._replay_order(message, ts)
        elif isinstance(message, records.Update):
            order = self.orders.get(message.update.client_order_id)
            if order is not None and not self._is_duplicate(order, message.update):
                _ack_implied_by(order, message.update, ts)
                order.apply(
                    _KIND[message.update.kind],
                    ts,
                    venue_order_id=message.update.venue_order_id,
                    reason=message.update.reason,
                    price_ticks=message.update.price_ticks or None,
                    size_lots=message.update.size_lots or None,
                )
        elif isinstance(message, records.Filled):
            self._replay_fill(message.fill, ts)
        elif isinstance(message, records.Adopted):
            self._adopt(message.venue, message.order, ts)
            self.risk.on_done(message.order.client_order_id)  # recounted after replay
        elif isinstance(message, records.Closed):
            order = self.orders.get(message.client_order_id)
            if order is not None and order.is_open:
                self._close(order, message.reason, ts)

    def _replay_order(self, message: records.Sent | records.Refused, ts: int) -> None:
        cmd = message.order
        order = Order(
            cmd.client_order_id,
            message.venue,
            cmd.instrument,
            cmd.side,
            max(cmd.size_lots, 1),
            cmd.price_ticks,
            cmd.order_type,
            cmd.time_in_force,
        )
        if isinstance(message, records.Sent):
            order.apply(OrderEventKind.SUBMIT, ts)
        else:
            order.apply(OrderEventKind.REJECTED, ts, reason=message.reason)
        self.orders.setdefault(cmd.client_order_id, order)

    def _replay_fill(self, fill: Fill, ts: int) -> None:
        order = self.orders.get(fill.client_order_id)
        if order is not None and order.status is OrderStatus.SUBMITTED:
            order.apply(OrderEventKind.ACCEPTED, ts, venue_order_id=fill.venue_order_id)
        if order is not None:
            order.apply_fill(fill)
        try:
            if self.portfolio.apply(fill):
                self._count_base_fee(fill)
        except InvalidFill as exc:
            log.warning("journal fill not booked", extra={"error": str(exc)})

    # ---- alerts --------------------------------------------------------------------------------

    def alert(
        self, level: AlertLevel, source: str, message: str, client_order_id: str = ""
    ) -> Alert:
        """Raise an alert: logged, kept in :attr:`alerts`, handed to ``on_alert``."""
        alert = Alert(
            ts_ns=self.clock.time_ns(),
            level=level,
            source=source,
            message=message,
            client_order_id=client_order_id,
        )
        self.alerts.append(alert)
        log.log(
            logging.ERROR if level is AlertLevel.CRITICAL else logging.WARNING,
            "alert: %s",
            message,
            extra={"source": source, "level": str(level), "client_order_id": client_order_id},
        )
        if self._on_alert is not None:
            self._on_alert(alert)
        return alert


def _ack_implied_by(order: Order, update: OrderUpdate, ts: int) -> None:
    """A cancel or expiry of an order still waiting for its ack: the venue had it; ack it first.

    The REST answer and the user stream race: the stream's CANCELED (or the answer's EXPIRED for
    an IOC) can come before the ACCEPTED that would have led to it. Without the implied ack the
    final report was an impossible transition and the late ACCEPTED then reopened the order.
    """
    if order.status is OrderStatus.SUBMITTED and update.kind in _IMPLY_ACK:
        order.apply(OrderEventKind.ACCEPTED, ts, venue_order_id=update.venue_order_id)


def _working_part(order: Order) -> SubmitOrder:
    """What of an order still works, as the risk pipeline counts an order sent."""
    return SubmitOrder(
        client_order_id=order.client_order_id,
        instrument=order.instrument,
        side=order.side,
        size_lots=order.size_lots - order.filled_lots,
        price_ticks=order.price_ticks,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
    )
