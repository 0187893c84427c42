"""What our requests' answers mean, as reports to the listener (the OMS).

REST answers become events (:mod:`.answers`, :mod:`.replace`) and pass through the working-order
table (:mod:`.working`) on their way to the listener, as do the user stream's events. Refusals
carry the venue's code and text; refusals made here carry code 0.

An answer that leaves the order's state unknown (-1007, 5xx, no answer, garbage) is never met by
resending: the order is looked up by its client order id after ``status_query_delay_s`` and
reported as the venue holds it; a new order the venue does not know is REJECTED. When the
look-up fails too, or a replace's outcome is unknown, the link is marked bad so that the OMS
reconciles. Garbage also resubscribes the user stream.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from engine.core.clock import Clock
from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind
from engine.errors import GatewayError, StatusUnknown, VenueGarbage
from engine.venues.base import GatewayListener, GatewayStats
from engine.venues.binance import answers
from engine.venues.binance.dispatch import Request, Spawn, Subject
from engine.venues.binance.health import LinkHealth
from engine.venues.binance.http import HttpResponse
from engine.venues.binance.orders import Events, accepted, decode, side_of
from engine.venues.binance.replace import replace_outcome
from engine.venues.binance.rest import BinanceRest
from engine.venues.binance.working import WorkingOrders
from engine.venues.ratelimit import Cost

log = logging.getLogger("engine.venues.binance")

_K = OrderUpdateKind


class LookUpCosts(Protocol):
    """What an order look-up spends (spot's :class:`~engine.venues.binance.rest.Costs` has it)."""

    query_order: Cost


class Outcomes:
    """Turns answers into reports for one gateway.

    Args:
        venue: the venue name reports carry.
        listener: gets every update and fill.
        working: the working-order table.
        clock: receive times.
        stats: the gateway's counters.
        health: marked bad when an order's state cannot be known.
        rest: for order look-ups.
        costs: what look-ups spend.
        spawn: runs look-ups in the background.
        status_query_delay_s: how long an unknown order settles before it is looked up.
    """

    def __init__(
        self,
        venue: str,
        listener: GatewayListener,
        working: WorkingOrders,
        clock: Clock,
        stats: GatewayStats,
        health: LinkHealth,
        rest: BinanceRest,
        costs: LookUpCosts,
        spawn: Spawn,
        status_query_delay_s: float,
    ) -> None:
        self.venue = venue
        self.listener = listener
        self.working = working
        self.clock = clock
        self.stats = stats
        self.health = health
        self.rest = rest
        self.costs = costs
        self.spawn = spawn
        self.status_query_delay_s = status_query_delay_s

    def on_new_order(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A new order's answer: its events, a reject, or an unknown status to look up."""
        order = request.subject
        assert isinstance(order, SubmitOrder)
        if error is None:
            assert response is not None
            try:
                events = answers.new_order_events(
                    request.market,
                    response.body,
                    order.side,
                    self.clock.time_ns(),
                    order.price_ticks,
                    order.size_lots,
                )
            except VenueGarbage as exc:
                error = exc
            else:
                self.emit(self.working.on_events(events, stream=False))
                return
        self.failed(request, _K.REJECTED, error)

    def on_cancel(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A cancel's answer: CANCELED, CANCEL_REJECTED, or an unknown status to look up."""
        if error is None:
            assert response is not None
            try:
                update = answers.cancel_event(request.market, response.body, self.clock.time_ns())
            except VenueGarbage as exc:
                error = exc
            else:
                self.emit(self.working.on_events([update], stream=False))
                return
        self.failed(request, _K.CANCEL_REJECTED, error)

    def on_replace(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A cancel-replace's answer: REPLACED, REPLACE_REJECTED or CANCELED (see replace)."""
        replace = request.subject
        assert isinstance(replace, ReplaceOrder)
        working = self.working.get(replace.client_order_id)
        assert working is not None
        if response is not None and response.status in (200, 400, 409):
            try:
                outcome = replace_outcome(
                    request.market,
                    response.status,
                    response.body,
                    working.side,
                    replace,
                    working.filled_before,
                    self.clock.time_ns(),
                    response.headers.get("retry-after"),
                )
            except GatewayError as exc:
                error = exc
            else:
                if outcome.events and outcome.events[0].kind is _K.REPLACE_REJECTED:  # type: ignore[union-attr]
                    self.stats.rejects += 1
                self.emit(self.working.end_replace(working, outcome))
                if outcome.two_orders:
                    self.health.bad(
                        f"cancel-replace of {replace.client_order_id} placed an order although "
                        "the cancel failed; reconcile",
                        resubscribe=True,
                    )
                return
        assert error is not None
        self.emit(self.working.abandon_replace(working))
        # not failed(): a lost cancel-replace may have placed a second order, so it is not looked
        # up by one client id; the link goes bad and the owner reconciles
        if isinstance(error, StatusUnknown | VenueGarbage):
            self.health.bad(
                f"replace of {replace.client_order_id}: status unknown ({error.reason}); reconcile",
                resubscribe=isinstance(error, VenueGarbage),
            )
            return
        self.stats.rejects += 1
        self.report_venue(request, _K.REPLACE_REJECTED, error)

    def failed(self, request: Request, kind: OrderUpdateKind, error: GatewayError) -> None:
        """A request without a usable answer: an unknown status is looked up, a refusal reported.

        The order is never resent; a refusal is reported as ``kind`` with the venue's code and text.
        """
        if isinstance(error, StatusUnknown | VenueGarbage):
            self.unknown(request, error)
            return
        self.stats.rejects += 1
        self.report_venue(request, kind, error)

    def report_local(self, subject: Subject, kind: OrderUpdateKind, reason: str) -> None:
        """A request refused before it left the engine (code 0)."""
        self.stats.rejects += 1
        self.emit([self.update(subject, kind, reason)])

    def report_venue(self, request: Request, kind: OrderUpdateKind, error: GatewayError) -> None:
        """The venue refused a request: its update with the venue's code and text."""
        update = self.update(request.subject, kind, error.reason, error.code)
        if kind is _K.REJECTED:
            working = self.working.get(update.client_order_id)
            if working is not None:
                self.working.finish(working)
        self.emit([update])

    def update(
        self,
        subject: Subject,
        kind: OrderUpdateKind,
        reason: str,
        code: int = 0,
    ) -> OrderUpdate:
        """An update about ``subject`` made here (no venue order id)."""
        price = size = 0
        if isinstance(subject, SubmitOrder | ReplaceOrder):
            price, size = subject.price_ticks, subject.size_lots
        return OrderUpdate(
            venue=self.venue,
            instrument=subject.instrument,
            client_order_id=subject.client_order_id,
            kind=kind,
            reason=reason,
            code=code,
            price_ticks=price,
            size_lots=size,
            recv_ts=self.clock.time_ns(),
        )

    def emit(self, events: Events) -> None:
        """Pass events to the listener, one by one; a listener error is logged, not raised."""
        listener = self.listener
        for event in events:
            try:
                if type(event) is Fill:
                    listener.on_fill(event)
                else:
                    assert isinstance(event, OrderUpdate)
                    listener.on_order_update(event)
            except Exception:
                log.exception("gateway listener failed", extra={"venue": self.venue})

    def on_stream_events(self, events: Events) -> None:
        """Events from the user stream."""
        self.emit(self.working.on_events(events, stream=True))

    # ---- unknown status -------------------------------------------------------------------------

    def unknown(self, request: Request, error: GatewayError) -> None:
        """The venue may or may not have acted: look the order up, never resend."""
        log.warning(
            "order status unknown; looking it up",
            extra={
                "venue": self.venue,
                "client_order_id": request.subject.client_order_id,
                "error": str(error),
            },
        )
        if isinstance(error, VenueGarbage):
            self.health.bad(f"the venue answered garbage: {error.reason}", resubscribe=True)
        self.spawn(self.look_up(request, error), "status-query")

    async def look_up(self, request: Request, error: GatewayError) -> None:
        """Ask the venue for the order by client order id and report what it holds."""
        await asyncio.sleep(self.status_query_delay_s)
        subject = request.subject
        market = request.market
        query = f"symbol={market.symbol}&origClientOrderId={subject.client_order_id}"
        try:
            body = await self.rest.call("GET", "/api/v3/order", query, self.costs.query_order)
            answer = decode(body, answers.OrderAnswer, "order query")
        except GatewayError as exc:
            if exc.code == -2013 and isinstance(subject, SubmitOrder):  # Order does not exist.
                self.stats.rejects += 1
                reason = f"status unknown ({error.reason}); the venue has no such order"
                self.report_venue(
                    request, _K.REJECTED, GatewayError(self.venue, reason, error.code)
                )
                return
            self.health.bad(
                f"status of {subject.client_order_id} unknown ({error.reason}) and the look-up "
                f"failed ({exc.reason}); reconcile",
                resubscribe=False,
            )
            return
        side = subject.side if isinstance(subject, SubmitOrder) else None
        working = self.working.get(subject.client_order_id)
        if side is None:
            side = working.side if working is not None else side_of(answer.side)
        events = answers.order_events(market, answer, side, self.clock.time_ns(), filled_before=0)
        if isinstance(subject, CancelOrder) and answer.status in ("NEW", "PARTIALLY_FILLED"):
            events.append(
                accepted(
                    market,
                    subject.client_order_id,
                    answer.order_id,
                    kind=_K.CANCEL_REJECTED,
                    reason="cancel status unknown; still open",
                    code=error.code,
                    recv_ts=self.clock.time_ns(),
                )
            )
        self.emit(self.working.on_events(events, stream=False))
