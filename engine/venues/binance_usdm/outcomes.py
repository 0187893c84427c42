"""What USD-M's answers mean, as reports to the listener (the OMS).

Spot's :class:`~engine.venues.binance.outcomes.Outcomes` does the reporting (refusals with the
venue's code and text, code 0 for our own, the working-order table on the way, unknown status
resolved by a look-up, never a resend); this one reads USD-M's answers, which differ:

- an order answer carries no fills: they come on the user stream. A new order's answer is an
  ACCEPTED; when the order is already over (an IOC remainder expired, a cancel's answer), its
  end is reported only once every lot the answer says filled has been reported as a fill, so
  the OMS never sees a fill after the end. Should the stream not bring them within
  ``status_query_delay_s``, they are fetched from ``userTrades`` and reported first;
- a modify (``PUT``) keeps the order id. Whichever comes first, the answer or the stream's
  ``AMENDMENT``, is the one REPLACED; the other is passed on as an ACCEPTED of the same venue
  order (a duplicate the OMS drops). A modify that cancels the order (a size at or below what
  filled, a ``GTX`` order that would cross) is a CANCELED;
- look-ups are ``GET /fapi/v1/order`` by client order id; -2013 means the venue has no such
  order.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec

from engine.core.clock import Clock
from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import OrderUpdate, OrderUpdateKind
from engine.errors import GatewayError, StatusUnknown, VenueGarbage
from engine.venues.base import GatewayListener, GatewayStats
from engine.venues.binance.dispatch import Request, Spawn
from engine.venues.binance.health import LinkHealth
from engine.venues.binance.http import HttpResponse
from engine.venues.binance.orders import BinanceMarket, Events
from engine.venues.binance.outcomes import Outcomes
from engine.venues.binance.rest import BinanceRest
from engine.venues.binance.working import WorkingOrders
from engine.venues.binance_usdm.answers import (
    OrderState,
    acked,
    ending,
    order_answer,
    order_state,
    user_trades_answer,
)
from engine.venues.binance_usdm.orders import cancel_query, update, user_trades_query
from engine.venues.binance_usdm.rest import UsdmCosts

log = logging.getLogger("engine.venues.binance_usdm")

_K = OrderUpdateKind
_OVER = ("CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED", "FILLED")
NO_SUCH_ORDER = -2013


class UsdmOutcomes(Outcomes):
    """Turns USD-M answers into reports for one gateway.

    Args:
        venue: the venue name reports made here carry.
        listener: gets every update and fill.
        working: the working-order table.
        clock: receive times.
        stats: the gateway's counters.
        health: marked bad when an order's state cannot be known.
        rest: for look-ups and ``userTrades``.
        costs: what those spend.
        spawn: runs look-ups in the background.
        status_query_delay_s: how long an unknown order (or missing fills) may settle first.
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
        costs: UsdmCosts,
        spawn: Spawn,
        status_query_delay_s: float,
    ) -> None:
        super().__init__(
            venue, listener, working, clock, stats, health, rest, costs, spawn, status_query_delay_s
        )
        self.usdm_costs = costs
        self.changed = asyncio.Event()
        """Set whenever an order update is reported (cancel-all waits on it)."""
        self.modifying: dict[str, ReplaceOrder] = {}
        """Modifies on their way, by client order id."""
        self._told: set[str] = set()
        """Client ids whose modify the stream reported (as REPLACED) before its answer."""

    # ---- answers ---------------------------------------------------------------------------------

    def on_new_order(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A new order's answer: ACCEPTED (then its end, once its fills are in), or a refusal."""
        if error is None:
            state = self._state(request, response, "new order answer")
            if isinstance(state, OrderState):
                self.emit(
                    self.working.on_events(
                        [acked(request.market, state, self._now())], stream=False
                    )
                )
                self._finish(request.market, state)
                return
            error = state
        self.failed(request, _K.REJECTED, error)

    def on_cancel(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A cancel's answer: CANCELED (once its fills are in), CANCEL_REJECTED, or a look-up."""
        if error is None:
            state = self._state(request, response, "cancel answer")
            if isinstance(state, OrderState):
                self._finish(request.market, state)
                return
            error = state
        self.failed(request, _K.CANCEL_REJECTED, error)

    def on_replace(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """A modify's answer: REPLACED (or its duplicate), CANCELED, REPLACE_REJECTED, a look-up."""
        replace = request.subject
        assert isinstance(replace, ReplaceOrder)
        if error is None:
            state = self._state(request, response, "modify answer")
            if isinstance(state, OrderState):
                self._modified(request.market, replace, state)
                return
            error = state
        if not isinstance(error, StatusUnknown | VenueGarbage):
            self._end_modify(replace.client_order_id)
        self.failed(request, _K.REPLACE_REJECTED, error)

    def emit(self, events: Events) -> None:
        """Pass events to the listener (spot's way), and tell waiters that orders changed."""
        super().emit(events)
        if events:
            self.changed.set()

    def begin_modify(self, replace: ReplaceOrder) -> None:
        """A modify is on its way."""
        self.modifying[replace.client_order_id] = replace
        self._told.discard(replace.client_order_id)

    def on_stream_events(self, events: Events) -> None:
        """The stream's events; an AMENDMENT is our modify's REPLACED only if it comes first."""
        out: Events = []
        for event in events:
            if isinstance(event, OrderUpdate) and event.kind is _K.REPLACED:
                event = self._amendment(event)
            out.append(event)
        self.emit(self.working.on_events(out, stream=True))

    # ---- pieces ----------------------------------------------------------------------------------

    def _state(
        self, request: Request, response: HttpResponse | None, what: str
    ) -> OrderState | GatewayError:
        assert response is not None
        try:
            return order_state(request.market, order_answer(response.body, what))
        except VenueGarbage as exc:
            return exc

    def _now(self) -> int:
        return self.clock.time_ns()

    def _amendment(self, event: OrderUpdate) -> OrderUpdate:
        cid = event.client_order_id
        wanted = self.modifying.get(cid)
        if (
            wanted is not None
            and cid not in self._told
            and (event.price_ticks, event.size_lots) == (wanted.price_ticks, wanted.size_lots)
        ):
            self._told.add(cid)
            return event
        return msgspec.structs.replace(event, kind=_K.ACCEPTED)

    def _end_modify(self, client_order_id: str) -> bool:
        """Forget the modify; True when the stream had reported it already."""
        self.modifying.pop(client_order_id, None)
        told = client_order_id in self._told
        self._told.discard(client_order_id)
        return told

    def _modified(self, market: BinanceMarket, replace: ReplaceOrder, state: OrderState) -> None:
        told = self._end_modify(replace.client_order_id)
        if state.status == "CANCELED":  # the modify canceled the order (or it was canceled)
            self._finish(market, state, reason="the modify canceled the order")
            return
        working = self.working.get(state.client_order_id)
        if working is None or not working.done:  # an order the stream already ended needs none
            kind = _K.ACCEPTED if told else _K.REPLACED
            replaced = update(
                market,
                state.client_order_id,
                kind,
                venue_order_id=state.venue_order_id,
                price_ticks=state.price_ticks,
                size_lots=state.size_lots,
                filled_lots=state.filled_lots,
                exch_ts=state.exch_ts,
                recv_ts=self._now(),
            )
            self.emit(self.working.on_events([replaced], stream=False))
        self._finish(market, state)  # a modify that took may have filled or expired it

    def _finish(self, market: BinanceMarket, state: OrderState, reason: str = "") -> None:
        """Report how an order that is over ended, once every lot it filled was reported."""
        if state.status not in _OVER:
            return
        working = self.working.get(state.client_order_id)
        end = ending(market, state, self._now()) if state.status != "FILLED" else None
        if end is not None and reason:
            end = msgspec.structs.replace(end, reason=reason)
        if working is None or working.filled >= state.filled_lots:
            if end is not None:
                self.emit(self.working.on_events([end], stream=False))
            return
        self.spawn(self._settle(market, state, end), "settle")

    async def _settle(
        self, market: BinanceMarket, state: OrderState, end: OrderUpdate | None
    ) -> None:
        """Wait for the stream's fills; fetch the missing ones from ``userTrades``; then the end."""
        await asyncio.sleep(self.status_query_delay_s)
        cid = state.client_order_id
        working = self.working.get(cid)
        if working is not None and working.filled < state.filled_lots:
            query = user_trades_query(market, order_id=state.venue_order_id)
            try:
                body = await self.rest.call(
                    "GET", "/fapi/v1/userTrades", query, self.usdm_costs.user_trades
                )
                fills = user_trades_answer(
                    {market.symbol: market}, body, {state.venue_order_id: cid}, self._now()
                )
            except GatewayError as exc:
                self.health.bad(
                    f"fills of {cid} not on the stream and not fetched ({exc.reason}); reconcile",
                    resubscribe=False,
                )
                return
            log.info(
                "fills fetched that the stream had not brought", extra={"client_order_id": cid}
            )
            self.emit(self.working.on_events(list(fills), stream=False))
        working = self.working.get(cid)
        if end is not None and (working is None or not working.done):
            self.emit(self.working.on_events([end], stream=False))

    # ---- unknown status --------------------------------------------------------------------------

    async def look_up(self, request: Request, error: GatewayError) -> None:
        """Ask the venue for the order by client order id and report what it holds."""
        await asyncio.sleep(self.status_query_delay_s)
        subject = request.subject
        market = request.market
        cid = subject.client_order_id
        try:
            query = cancel_query(market, cid)
            body = await self.rest.call("GET", "/fapi/v1/order", query, self.costs.query_order)
            state = order_state(market, order_answer(body, "order query"))
        except GatewayError as exc:
            if exc.code == NO_SUCH_ORDER:
                self._never_placed(request, error)
                return
            self.health.bad(
                f"status of {cid} unknown ({error.reason}) and the look-up failed "
                f"({exc.reason}); reconcile",
                resubscribe=False,
            )
            return
        if isinstance(subject, SubmitOrder):
            self.emit(self.working.on_events([acked(market, state, self._now())], stream=False))
        elif isinstance(subject, CancelOrder) and state.is_open:
            still = update(
                market,
                cid,
                _K.CANCEL_REJECTED,
                reason="cancel status unknown; still open",
                code=error.code,
                recv_ts=self._now(),
            )
            self.emit([still])
            return
        elif isinstance(subject, ReplaceOrder) and state.is_open:
            if (state.price_ticks, state.size_lots) == (subject.price_ticks, subject.size_lots):
                self._modified(market, subject, state)
            else:
                self._end_modify(cid)
                self.report_venue(
                    request,
                    _K.REPLACE_REJECTED,
                    GatewayError(
                        self.venue, "modify status unknown; the order is unchanged", error.code
                    ),
                )
            return
        if isinstance(subject, ReplaceOrder):
            self._end_modify(cid)
        self._finish(market, state)

    def _never_placed(self, request: Request, error: GatewayError) -> None:
        subject = request.subject
        self.stats.rejects += 1
        reason = f"status unknown ({error.reason}); the venue has no such order"
        if isinstance(subject, SubmitOrder):
            kind = _K.REJECTED
        elif isinstance(subject, ReplaceOrder):
            self._end_modify(subject.client_order_id)
            kind = _K.REPLACE_REJECTED
        else:
            kind = _K.CANCEL_REJECTED
        self.report_venue(request, kind, GatewayError(self.venue, reason, error.code))
